"""A parallel backfill (7 partition runs, two at a time, each in its own process on the multiprocess executor,
all writing one DuckDB warehouse) gives exactly the tables of one in-process run of the same range."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.backfill import RANGE_END_TAG, RANGE_START_TAG, executor_run_config, launch_partition_runs
from pipelines.core.resources import Workspace
from pipelines.core.snapshot import warehouse_snapshot
from pipelines.definitions import all_assets, defs
from pipelines.jobs import BACKFILL_SELECTION
from pipelines.scenario import generate

REPO = Path(__file__).resolve().parents[2]
FIRST, LAST = dt.date(2026, 2, 27), dt.date(2026, 3, 5)
DAYS = [(FIRST + dt.timedelta(days=i)).isoformat() for i in range((LAST - FIRST).days + 1)]
SCALE = 0.2
SOURCES = ("app_rankings", "crowd_reports", "request_logs")  # the backfill job's raw inputs
LOCK_ERRORS = ("Could not set lock", "Conflicting lock")  # DuckDB's text when a writer finds the file locked
RUN_TIMEOUT_S = 240


def make_data_dir(root: Path, scenario: Path) -> Path:
    """A data dir with the tracked config and a copy of the generated raw files."""
    data = root / "data"
    (data / "config").mkdir(parents=True)
    for name in ("providers.yaml", "cost_model.yaml"):
        if (REPO / "data/config" / name).exists():
            shutil.copy(REPO / "data/config" / name, data / "config" / name)
    shutil.copytree(scenario / "raw", data / "raw")
    return data


def run_in_process(data: Path) -> dg.ExecuteInProcessResult:
    """The reference: the whole range as one in-process run (what `incidents run --in-process` does)."""
    workspace = Workspace(data_dir=str(data), reports_dir=str(data.parent / "reports"),
                          config_path=str(data / "config/providers.yaml"))
    return dg.materialize(all_assets, selection=BACKFILL_SELECTION, resources={"workspace": workspace},
                          tags={RANGE_START_TAG: DAYS[0], RANGE_END_TAG: DAYS[-1]})


def assert_same_tables(reference: dict[str, pl.DataFrame], candidate: dict[str, pl.DataFrame]) -> None:
    assert sorted(candidate) == sorted(reference)
    for name, frame in reference.items():
        try:
            assert_frame_equal(candidate[name], frame, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{name} differs from the in-process run: {exc}") from None


def max_overlap(instance: dg.DagsterInstance) -> int:
    """Most runs that were executing at the same moment, from the instance's run records."""
    spans = [(r.start_time, r.end_time) for r in instance.get_run_records() if r.start_time and r.end_time]
    return max((sum(1 for s, e in spans if s <= start < e) for start, _ in spans), default=0)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("scenario") / "data"
    generate(data, start=FIRST, end=LAST, scale=SCALE, sources=SOURCES, config=REPO / "data/config/providers.yaml")
    return data


def test_backfill_job_selects_the_per_day_assets():
    job = defs.resolve_job_def("backfill_job")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == {"staging/crowd_reports", "staging/app_ranks", "staging/request_logs",
                    "marts/provider_minute_sli"}


def test_parallel_partition_runs_match_one_in_process_run(scenario, tmp_path):
    started = time.monotonic()
    reference_dir = make_data_dir(tmp_path / "in_process", scenario)
    parallel_dir = make_data_dir(tmp_path / "parallel", scenario)

    reference = run_in_process(reference_dir)
    assert reference.success

    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)  # create the SQLite storage once, before two runs race to create it
    env = {"DAGSTER_HOME": str(home), "INCIDENTS_DATA_DIR": str(parallel_dir),
           "INCIDENTS_REPORTS_DIR": str(tmp_path / "parallel/reports"),
           "INCIDENTS_CONFIG": str(parallel_dir / "config/providers.yaml"), "GX_ANALYTICS_ENABLED": "false"}
    outcomes = launch_partition_runs("backfill_job", DAYS, executor_run_config("multiprocess", max_concurrent=2),
                                     parallel=2, timeout_s=RUN_TIMEOUT_S, env={**os.environ, **env})
    timings = {o.partition: (o.started_s, o.elapsed_s) for o in outcomes}
    print(f"partition runs (start s, elapsed s): {timings}; total {time.monotonic() - started:.1f} s")

    for outcome in outcomes:
        assert outcome.success, f"{outcome.partition}: rc={outcome.returncode} failed={outcome.failed_steps}\n" \
                                f"{outcome.output[-3000:]}"
        assert not any(text in outcome.output for text in LOCK_ERRORS), outcome.output[-3000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags.get("dagster/partition") for r in runs) == DAYS
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        assert max_overlap(instance) >= 2, "the partition runs never overlapped: nothing ran in parallel"

    expected = warehouse_snapshot(reference_dir / "warehouse.duckdb")
    assert {"staging.crowd_reports", "staging.app_ranks"} <= set(expected)
    assert all(frame.height for name, frame in expected.items() if not name.startswith("quarantine."))
    assert_same_tables(expected, warehouse_snapshot(parallel_dir / "warehouse.duckdb"))
    days = expected["staging.crowd_reports"]["partition_day"].unique().sort().cast(pl.String).to_list()
    assert days == DAYS
