import datetime as dt
import json
import os

import dagster as dg

from assets.ingest.day_sources import INDEX_VERSION
from pipelines.definitions import defs
from pipelines.sensors import new_file_run_requests


def test_definitions_load_and_resolve_every_job_and_schedule():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"raw/status_pages", "raw/request_logs", "raw/crowd_reports", "raw/app_rankings"} <= keys
    job = defs.resolve_job_def("main_job")
    assert job.partitions_def is not None
    schedule = defs.resolve_schedule_def("daily_materialisation")
    assert schedule.cron_schedule == "0 2 * * *"
    assert defs.resolve_sensor_def("raw_files_sensor")


def test_schedule_requests_yesterdays_partition_over_the_configs_window(tmp_path, monkeypatch):
    config = tmp_path / "providers.yaml"
    config.write_text("providers:\n  anthropic: {}\nanalysis:\n  last_days: 30\n")
    monkeypatch.setenv("INCIDENTS_CONFIG", str(config))
    schedule = defs.resolve_schedule_def("daily_materialisation")
    tick = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
    repository = defs.get_repository_def()
    with dg.build_schedule_context(scheduled_execution_time=tick, repository_def=repository) as context:
        requests = list(schedule.evaluate_tick(context).run_requests)
    assert [r.partition_key for r in requests] == ["2026-03-02"]
    # the 30 days ending yesterday, named in the tags: the marts recompute from 2026-02-01, not from 2020
    assert requests[0].tags["incidents/window_start"] == "2026-02-01"
    assert requests[0].tags["incidents/window_end"] == "2026-03-02"


def _touch(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_sensor_requests_once_per_new_file_set(tmp_path):
    raw = tmp_path / "raw"
    days = {"2026-03-01", "2026-03-02"}
    _touch(raw / "crowd_reports/2026-03-02/claude.csv")
    first = new_file_run_requests(raw, days)
    assert [r.partition_key for r in first] == ["2026-03-02"]
    # the same files again: same run key, so Dagster will not launch a second run
    assert [r.run_key for r in new_file_run_requests(raw, days)] == [first[0].run_key]
    # a new file for the same day changes the key; a status snapshot maps to its stamp's day
    _touch(raw / "request_logs/2026-03-02/gw.jsonl")
    _touch(raw / "status_pages/anthropic/20260301T120000Z-incidents.json")
    second = {r.partition_key: r.run_key for r in new_file_run_requests(raw, days)}
    assert set(second) == {"2026-03-01", "2026-03-02"}
    assert second["2026-03-02"] != first[0].run_key


def test_sensor_requests_every_day_a_multi_day_file_covers_and_times_any_named_snapshot(tmp_path):
    data = tmp_path / "data"
    raw = data / "raw"
    days = {"2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"}
    export = raw / "crowd_reports/2026-03-02/export.csv"
    _touch(export)
    # before any run has read it, the file counts for its folder's day only
    assert [r.partition_key for r in new_file_run_requests(raw, days)] == ["2026-03-02"]
    # a run indexed it with rows on three days: each of them is requested
    stat = export.stat()
    _touch(data / "cache/crowd_reports-file-days.json", json.dumps({"version": INDEX_VERSION, "files": {
        "raw/crowd_reports/2026-03-02/export.csv": {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                                                    "days": ["2026-03-01", "2026-03-02", "2026-03-03"]}}}))
    assert [r.partition_key for r in new_file_run_requests(raw, days)] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    # an edited file is no longer what the index knew: its folder's day again, until a run re-indexes it
    _touch(export, "edited, longer")
    assert [r.partition_key for r in new_file_run_requests(raw, days)] == ["2026-03-02"]
    # a snapshot with any name is placed on its modification day
    feed = raw / "status_pages/openai/history.atom"
    _touch(feed)
    stamp = dt.datetime(2026, 3, 4, 9, 30, tzinfo=dt.UTC).timestamp()
    os.utime(feed, (stamp, stamp))
    assert "2026-03-04" in {r.partition_key for r in new_file_run_requests(raw, days)}


def test_sensor_dedups_through_dagster(tmp_path, monkeypatch):
    raw = tmp_path / "data" / "raw"
    _touch(raw / "crowd_reports/2026-03-02/claude.csv")
    monkeypatch.setenv("INCIDENTS_DATA_DIR", str(tmp_path / "data"))
    sensor = defs.resolve_sensor_def("raw_files_sensor")
    from pipelines.core.resources import Workspace

    workspace = Workspace(data_dir=str(tmp_path / "data"), reports_dir=str(tmp_path / "r"), config_path="x")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"workspace": workspace}, definitions=defs)
        result = sensor.evaluate_tick(context)
        assert [r.partition_key for r in result.run_requests] == ["2026-03-02"]


def test_ingest_steps_outrank_every_other_step():
    """The executor breaks ties between ready steps by `dagster/priority`: every ingest step (staging) has it,
    no other step has, so ingest goes first whenever a mart could start as early (gx_process.warm_up)."""
    graph = defs.resolve_asset_graph()
    priority = {
        key.to_user_string(): int(graph.get(key).assets_def.op.tags.get("dagster/priority", 0))
        for key in graph.materializable_asset_keys
    }
    staging = {key for key in priority if key.startswith("staging/")}
    assert {"staging/request_logs", "staging/crowd_reports", "staging/app_ranks", "staging/status_incidents"} <= staging
    assert {priority[key] for key in staging} == {10}
    assert all(priority[key] == 0 for key in priority if key not in staging)
