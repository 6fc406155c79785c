"""The request-log lake: materialising a day, the view over it, reruns, and surviving a kill mid-write."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.ingest.request_logs import ProviderMapping, lake_days
from assets.ingest.request_logs.lake_days import write_days
from assets.staging.request_logs import (
    LAKE,
    REQUEST_LOGS_CHECK,
    VIEW_COLUMNS,
    create_view,
    request_logs,
    write_day_partition,
)
from pipelines.core.lake import PART_FILE
from pipelines.core.settings import Settings
from pipelines.core.warehouse import connect

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests/fixtures/request_logs"
DAY = "2026-03-02"


def _land(data_dir: Path, fixture_set: str, day: str = DAY) -> Path:
    raw = data_dir / "raw/request_logs" / day
    raw.mkdir(parents=True, exist_ok=True)
    for f in (FIXTURES / fixture_set / DAY).iterdir():
        shutil.copy(f, raw / f.name)
    return raw


def _materialize(workspace, partition_key: str = DAY) -> dg.ExecuteInProcessResult:
    result = dg.materialize([request_logs], resources={"workspace": workspace}, partition_key=partition_key)
    assert result.success
    return result


def _view_rows(workspace) -> list[tuple]:
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        return con.sql(
            "SELECT day, ts, provider, model, endpoint, status, latency_ms, tokens_in, tokens_out, client_id, "
            "region, error_type, file FROM staging.request_logs ORDER BY ALL"
        ).fetchall()


def test_materialize_a_day_then_query_the_view(workspace, data_dir):
    _land(data_dir, "good")
    _land(data_dir, "bad")  # same day: gateway.jsonl of the bad set replaces the good one
    result = _materialize(workspace)

    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    rows_in, accepted, quarantined = (
        metadata[k].value for k in ("rows_in", "rows_accepted", "rows_quarantined")
    )
    assert rows_in == accepted + quarantined
    assert metadata["files"].value == 6
    assert metadata["lake_paths"].value == [f"lake/request_logs/day={DAY}/{PART_FILE}"]
    per_file = {Path(f["file"]).name: f for f in metadata["per_file"].value}
    # 12: with the real clock the fixture's 23:00 row is no longer in the future, and its
    # 2026-03-01T23:59:59Z row is not refused but belongs to that day (published when it runs)
    assert per_file["gateway.jsonl"]["quarantined"] == 12
    assert per_file["gateway.jsonl"]["days"] == {"2026-03-01": 1, DAY: 3}
    assert metadata["rows_on_other_days"].value == {"2026-03-01": 1}
    assert per_file["export.csv"]["parser"] == "native"  # clean files keep the fast path on a mixed day
    assert per_file["edge-access.log"]["parser"] == "lines"
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == REQUEST_LOGS_CHECK and check.passed

    rows = _view_rows(workspace)
    assert len(rows) == accepted
    assert {r[0].isoformat() for r in rows} == {DAY}
    assert {r[-1] for r in rows} >= {f"raw/request_logs/{DAY}/api.anthropic.com-access.log"}
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        columns = [c[0] for c in con.sql("DESCRIBE staging.request_logs").fetchall()]
        assert columns == list(VIEW_COLUMNS)
        rejected = con.sql(
            "SELECT file, record_no, reason FROM quarantine.rejected_rows WHERE source = 'request_logs'"
        ).fetchall()
    assert len(rejected) == quarantined
    assert (
        f"raw/request_logs/{DAY}/gateway.jsonl",
        4,
        "status: 'abc' is not an integer HTTP code in 100-599",
    ) in rejected
    assert not (data_dir / "lake/.tmp").exists()


def test_rerun_replaces_the_day_with_identical_rows(workspace, data_dir):
    _land(data_dir, "good")
    _materialize(workspace)
    first = _view_rows(workspace)
    _materialize(workspace)
    assert _view_rows(workspace) == first and len(first) == 8
    assert sorted(p.name for p in LAKE.partition_dir(workspace.settings, DAY).iterdir()) == [PART_FILE]
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        assert con.sql("SELECT count(*) FROM quarantine.rejected_rows").fetchall() == [(0,)]


def test_view_is_empty_but_typed_before_any_day_exists(workspace):
    with connect(workspace.settings.warehouse_path) as con:
        assert create_view(con, workspace.settings) is False
        assert con.sql("SELECT count(*) FROM staging.request_logs").fetchall() == [(0,)]
        types = dict(
            con.sql("SELECT column_name, column_type FROM (DESCRIBE staging.request_logs)").fetchall()
        )
    assert (
        types["day"] == "DATE" and types["ts"] == "TIMESTAMP WITH TIME ZONE" and types["status"] == "INTEGER"
    )


def test_a_day_whose_files_are_gone_loses_its_partition(workspace, data_dir):
    mapping = ProviderMapping.from_config(workspace.providers())
    raw = _land(data_dir, "good")
    write_day_partition(workspace.settings, mapping, DAY)
    assert (LAKE.partition_dir(workspace.settings, DAY) / PART_FILE).is_file()
    shutil.rmtree(raw)
    result = write_day_partition(workspace.settings, mapping, DAY)
    assert result.files == [] and not LAKE.partition_dir(workspace.settings, DAY).exists()


_KILLABLE_INGEST = """
import sys
from assets.ingest.request_logs import ProviderMapping
from assets.staging.request_logs import write_day_partition
from pipelines.core.config import load_providers
from pipelines.core.settings import get_settings

settings = get_settings()
write_day_partition(settings, ProviderMapping.from_config(load_providers(settings.config_path)), sys.argv[1])
"""


def _big_day(raw: Path, lines: int) -> None:
    template = (
        '{{"ts": "2026-03-02T{h:02d}:{m:02d}:{s:02d}Z", "provider": "anthropic", "model": "claude-sonnet-4", '
        '"endpoint": "/v1/messages", "status": {status}, "latency_ms": {i}.5, "tokens_in": {i}, "tokens_out": 7, '
        '"client_id": "client-{c}", "region": "us-east-1", "error_type": null}}\n'
    )
    with open(raw / "gateway.jsonl", "w") as out:
        for i in range(lines):
            sec = i * 86_000 // lines
            out.write(
                template.format(
                    h=sec // 3600,
                    m=sec // 60 % 60,
                    s=sec % 60,
                    i=i,
                    c=i % 97,
                    status=529 if i % 10 == 0 else 200,
                )
            )


def test_a_kill_mid_write_leaves_the_previous_day_and_a_rerun_completes(workspace, data_dir):
    raw = data_dir / "raw/request_logs" / DAY
    raw.mkdir(parents=True)
    _big_day(raw, 1_000)
    _materialize(workspace)  # a complete earlier version of the day
    assert len(_view_rows(workspace)) == 1_000

    _big_day(raw, 300_000)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE_INGEST, DAY], cwd=REPO, env=env)
    tmp = data_dir / "lake/.tmp"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any(tmp.glob("request_logs-*/**/*.parquet")):  # the new day is being written
                break
            time.sleep(0.002)
        assert proc.poll() is None, "the ingest finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert any(tmp.glob("request_logs-*")), "the killed run left its work behind, outside the view"

    with connect(workspace.settings.warehouse_path) as con:  # what a reader sees right after the crash
        create_view(con, workspace.settings)
        assert con.sql("SELECT count(*) FROM staging.request_logs").fetchall() == [(1_000,)]
    assert sorted(p.name for p in LAKE.partition_dir(workspace.settings, DAY).iterdir()) == [PART_FILE]

    _materialize(workspace)
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        assert con.sql("SELECT count(*), count(DISTINCT tokens_in) FROM staging.request_logs").fetchall() == [
            (300_000, 300_000)
        ]
    assert not tmp.exists(), "the rerun cleaned up after the killed run"


@pytest.mark.parametrize("bad_key", ["../2026-03-02", "2026-13-45"])
def test_partition_keys_cannot_escape_the_lake(workspace, bad_key):
    with pytest.raises(ValueError):
        LAKE.partition_dir(workspace.settings, bad_key)


# ---------------------------------------------------------------------------------------------------
# Files as users have them: several UTC days in one file, in any day folder (issue 12 item 5)
# ---------------------------------------------------------------------------------------------------
FOUR_DAYS = ["2026-02-27", "2026-02-28", "2026-03-01", DAY]
PLANTED = {"2026-02-27": 40, "2026-02-28": 30, "2026-03-01": 20, DAY: 10}  # rows per UTC day, unequal on purpose


def _four_day_log(path: Path) -> None:
    """A combined log over four UTC days, in time order; every fifth line is written at +01:00, so its
    local date is the next day for the last hour before UTC midnight (the UTC day must win)."""
    lines = []
    for d, (day, n) in enumerate(PLANTED.items()):
        start = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
        for i in range(n):
            ts = start + dt.timedelta(seconds=(i + 1) * 86_399 // n)  # the last one at 23:59:59 UTC
            zone = dt.timezone(dt.timedelta(hours=1)) if i % 5 == 0 else dt.UTC
            stamp = ts.astimezone(zone).strftime("%d/%b/%Y:%H:%M:%S %z")
            status = 529 if (d + i) % 7 == 0 else 200
            lines.append(f'10.0.{d}.{i} - client-{i % 3} [{stamp}] "POST /anthropic/v1/messages HTTP/1.1" '
                         f'{status} 512 "-" "cli/1.0" 0.{100 + i}\n')
    lines.insert(7, 'garbage that is not a log line\n')  # one refused line, record 8
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir, data_dir.parent / "reports", data_dir / "config/providers.yaml")


def _lake_rows(settings: Settings, with_file: bool = True) -> list[tuple]:
    files = sorted(str(p) for p in LAKE.root(settings).glob("day=*/*.parquet"))
    if not files:
        return []
    columns = "day, ts, provider, endpoint, status, latency_ms, client_id" + (", file" if with_file else "")
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(
            f"SELECT {columns} FROM read_parquet($f, hive_partitioning = true, hive_types = {{'day': DATE}}) "
            "ORDER BY ALL", {"f": files}
        ).fetchall()


def _per_day(rows: list[tuple]) -> dict[str, int]:
    return dict(sorted(Counter(r[0].isoformat() for r in rows).items()))


@pytest.fixture
def mapping(workspace) -> ProviderMapping:
    return ProviderMapping.from_config(workspace.providers())


def test_a_four_day_log_in_one_folder_loads_every_row_on_its_utc_day(workspace, data_dir):
    _four_day_log(data_dir / "raw/request_logs" / DAY / "edge-access.log")  # in its last day's folder
    tags = {"dagster/asset_partition_range_start": FOUR_DAYS[0], "dagster/asset_partition_range_end": DAY}
    result = dg.materialize([request_logs], resources={"workspace": workspace}, tags=tags)
    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert (metadata["rows_in"].value, metadata["rows_accepted"].value, metadata["rows_quarantined"].value) == (
        101, 100, 1)
    rows = _view_rows(workspace)
    assert _per_day([(r[0],) for r in rows]) == PLANTED
    assert all(r[1].astimezone(dt.UTC).date() == r[0] for r in rows)  # the UTC day, not the +01:00 one
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        rejected = con.sql("SELECT file, record_no, reason FROM quarantine.rejected_rows").fetchall()
    assert [(n, reason.split(" (")[0]) for _, n, reason in rejected] == [(8, "line: not in combined log format")]

    first = (rows, rejected)
    assert dg.materialize([request_logs], resources={"workspace": workspace}, tags=tags).success
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        again = con.sql("SELECT file, record_no, reason FROM quarantine.rejected_rows").fetchall()
    assert (_view_rows(workspace), again) == first  # a rerun is identical
    for day in FOUR_DAYS:
        assert sorted(p.name for p in LAKE.partition_dir(workspace.settings, day).iterdir()) == [PART_FILE]


def test_days_run_one_by_one_in_any_order_equal_one_run_of_the_range(tmp_path, mapping):
    worlds = {}
    for name, runs in (("range", [FOUR_DAYS]), ("reverse", [[d] for d in reversed(FOUR_DAYS)])):
        settings = _settings(tmp_path / name / "data")
        _four_day_log(settings.data_dir / "raw/request_logs" / DAY / "edge-access.log")
        results = [write_days(settings, mapping, days) for days in runs]
        worlds[name] = _lake_rows(settings)
        assert results[0].rows_quarantined == 1
    assert _per_day(worlds["range"]) == PLANTED and worlds["reverse"] == worlds["range"]
    # The first single-day run read the file once, published its own day and named the others
    assert results[0].other_days == {d: PLANTED[d] for d in FOUR_DAYS[:3]}


def test_a_file_in_a_wrong_day_folder_is_found_once_its_folder_ran(tmp_path, mapping):
    settings = _settings(tmp_path / "data")
    folder = settings.data_dir / "raw/request_logs/2026-03-05"  # holds only rows of 2026-03-02
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "good" / DAY / "gateway.jsonl", folder / "late-export.jsonl")
    # Rule: a file is discovered when its folder's day runs; until then it cannot be known
    assert write_days(settings, mapping, [DAY]).files == []
    found = write_days(settings, mapping, ["2026-03-05"])
    assert (found.rows_accepted, found.other_days, found.lake_files) == (0, {DAY: 3}, [])
    assert [f.parser for f in found.files] == ["native"]  # the one-day write gave way to a split by day
    assert write_days(settings, mapping, [DAY]).rows_accepted == 3
    assert _per_day(_lake_rows(settings)) == {DAY: 3}
    # ... and a range over both days finds it at once in a fresh data dir
    fresh = _settings(tmp_path / "fresh/data")
    shutil.copytree(folder, fresh.data_dir / "raw/request_logs/2026-03-05")
    write_days(fresh, mapping, [DAY, "2026-03-03", "2026-03-04", "2026-03-05"])
    assert _lake_rows(fresh, with_file=False) == _lake_rows(settings, with_file=False)


def test_a_removed_or_rewritten_file_leaves_the_days_it_held(tmp_path, mapping):
    settings = _settings(tmp_path / "data")
    log = settings.data_dir / "raw/request_logs" / DAY / "edge-access.log"
    _four_day_log(log)
    write_days(settings, mapping, FOUR_DAYS)
    log.unlink()
    gone = write_days(settings, mapping, ["2026-02-28"])  # not the file's folder: the index knows it
    assert gone.gone == [f"raw/request_logs/{DAY}/edge-access.log"]
    assert not LAKE.partition_dir(settings, "2026-02-28").exists()
    assert LAKE.read_index(settings) == {}
    _four_day_log(log)  # put back
    write_days(settings, mapping, [DAY])  # its folder's day: found again
    index = LAKE.read_index(settings)[f"raw/request_logs/{DAY}/edge-access.log"]
    assert index["days"] == PLANTED
    assert lake_days.indexed_days(settings) == {d: [f"raw/request_logs/{DAY}/edge-access.log"] for d in FOUR_DAYS}
    with log.open("a") as out:  # rewritten: one more row of 2026-02-27; the index notices size and mtime
        out.write('10.9.9.9 - x [27/Feb/2026:12:00:00 +0000] "GET /anthropic/v1/models HTTP/1.1" 200 1 "-" "c" 0.1\n')
    changed = write_days(settings, mapping, ["2026-02-27"])
    assert changed.rows_accepted == PLANTED["2026-02-27"] + 1


def test_index_entries_are_read_only_when_changed_or_of_the_run_and_never_outside_the_data_dir(tmp_path, mapping,
                                                                                             monkeypatch):
    settings = _settings(tmp_path / "data")
    log = settings.data_dir / "raw/request_logs" / DAY / "edge-access.log"
    _four_day_log(log)
    write_days(settings, mapping, FOUR_DAYS)
    outside = tmp_path / "outside.log"
    shutil.copy(log, outside)
    index = LAKE.read_index(settings)
    entry = index[f"raw/request_logs/{DAY}/edge-access.log"]
    stat = outside.stat()
    LAKE.update_index(settings, {
        # a tampered index: an entry leading out of the data dir whose stamp matches the file there
        "raw/../../outside.log": {**entry, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        # one that matches nothing
        "raw/request_logs/2026-01-01/\x00.log": entry,
    })
    calls = []
    real = lake_days.ingest_files
    monkeypatch.setattr(lake_days, "ingest_files", lambda files, *a, **k: calls.append(files) or real(files, *a, **k))
    # A day no file holds: nothing is read; the entry that names no file at all is dropped as gone
    result = write_days(settings, mapping, ["2026-03-09"])
    assert (calls, result.files, result.gone) == ([], [], ["raw/request_logs/2026-01-01/\x00.log"])
    # A day it claims: the entry leading out of the data dir is dropped as gone, never read
    result = write_days(settings, mapping, ["2026-02-28"])
    assert result.gone == ["raw/../../outside.log"]
    assert [[f.rel for f in files] for files in calls] == [[f"raw/request_logs/{DAY}/edge-access.log"]]
    assert set(LAKE.read_index(settings)) == {f"raw/request_logs/{DAY}/edge-access.log"}
    assert result.rows_accepted == PLANTED["2026-02-28"]


def test_an_empty_history_costs_no_parsing_and_writes_nothing(tmp_path, mapping, monkeypatch):
    settings = _settings(tmp_path / "data")
    days = [d.isoformat() for d in (dt.date(2022, 9, 1) + dt.timedelta(n) for n in range(1_277))]
    calls = []
    real = lake_days.ingest_files
    monkeypatch.setattr(lake_days, "ingest_files", lambda files, *a, **k: calls.append(files) or real(files, *a, **k))
    result = write_days(settings, mapping, days)
    assert (result.files, result.lake_files, calls) == ([], [], [])
    assert not (settings.data_dir / "lake").exists()  # not even a temp folder or an index
    # One day with a file in the middle of 3.5 years: only that folder is read
    raw = settings.data_dir / "raw/request_logs" / DAY
    raw.mkdir(parents=True)
    shutil.copy(FIXTURES / "good" / DAY / "gateway.jsonl", raw / "gateway.jsonl")
    result = write_days(settings, mapping, days + [DAY])
    assert [[f.rel for f in files] for files in calls] == [[f"raw/request_logs/{DAY}/gateway.jsonl"]]
    assert [p.parent.name for p in result.lake_files] == [f"day={DAY}"]


def test_a_generated_world_merged_into_one_multi_day_log_loads_the_same_rows(tmp_path, mapping):
    """Second world: 0.1x traffic, two years earlier; its four daily gateway logs joined into one file."""
    from pipelines.scenario import generate

    start, end = dt.date(2023, 12, 4), dt.date(2023, 12, 7)
    days = [(start + dt.timedelta(n)).isoformat() for n in range(4)]
    split = _settings(tmp_path / "split/data")
    shutil.copytree(REPO / "data/config", split.data_dir / "config")
    generate(split.data_dir, start=start, end=end, scale=0.1, sources=["request_logs"], shift_days=-728)
    joined = _settings(tmp_path / "joined/data")
    shutil.copytree(split.data_dir / "raw", joined.data_dir / "raw")
    with open(joined.data_dir / f"raw/request_logs/{days[-1]}/all-days-access.log", "wb") as out:
        for day in days:
            part = joined.data_dir / f"raw/request_logs/{day}/gateway-access.log.gz"
            out.write(gzip.decompress(part.read_bytes()))
            part.unlink()
    split_run, joined_run = write_days(split, mapping, days), write_days(joined, mapping, days)
    expected = _lake_rows(split, with_file=False)
    assert len(expected) > 1_000 and set(_per_day(expected)) == set(days)
    assert _lake_rows(joined, with_file=False) == expected
    assert (joined_run.rows_accepted, joined_run.rows_quarantined) == (
        split_run.rows_accepted, split_run.rows_quarantined)


def test_the_check_sample_is_every_kth_row_of_every_day_and_a_planted_bad_row_fails_the_check(tmp_path, mapping):
    """At most max_rows rows, spread evenly over each day's file (every k-th row), the same on every call."""
    from assets.staging.request_logs import _rows_check, check_frame

    settings = _settings(tmp_path / "data")
    sizes = {"2026-03-01": 1_000, DAY: 37}  # a large day and a small one: both must be sampled
    for day, rows in sizes.items():
        part = LAKE.partition_dir(settings, day) / PART_FILE
        part.parent.mkdir(parents=True)
        status = "CASE WHEN i = 500 THEN 999 ELSE 200 END" if day == "2026-03-01" else "200"
        duckdb.execute(
            f"COPY (SELECT $day::DATE::TIMESTAMPTZ + to_seconds(i) AS ts, 'anthropic' AS provider, {status} AS status, "
            f"1.0::DOUBLE AS latency_ms FROM range({rows}) r(i) ORDER BY i) TO '{part}' (FORMAT parquet)",
            {"day": day},
        )
    frame = check_frame(settings, list(sizes), max_rows=100)
    assert frame.height <= 100 and frame.equals(check_frame(settings, list(sizes), max_rows=100))
    # 1,037 rows in two files, at most 100: the smallest k with ceil(1000 / k) + ceil(37 / k) <= 100 is 11
    seconds = {day: sorted(int(t.timestamp()) % 86_400 for t in frame.filter(day=dt.date.fromisoformat(day))["ts"])
               for day in sizes}
    assert seconds == {day: list(range(0, rows, 11)) for day, rows in sizes.items()}
    assert _rows_check(frame, mapping).result().passed  # row 500 (status 999) falls between the sampled rows
    assert check_frame(settings, list(sizes), max_rows=519).height == 519  # k = 2: 500 + 19, the limit exactly
    everything = check_frame(settings, list(sizes), max_rows=2_000)
    assert everything.height == 1_037 and not _rows_check(everything, mapping).result().passed
