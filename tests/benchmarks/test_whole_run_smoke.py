"""The whole-pipeline part of `make bench` at a tiny size: one real `incidents run`, its step stats, the
snapshot thinning of the empty-history step, the ratios and targets, and the executor choice."""

import datetime as dt
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.runs import MULTIPROCESS_FROM_DAYS, MULTIPROCESS_MIN_CPUS, choose_executor

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import pipeline_runs
import report
from whole_run import copy_configs, history_slice, incidents_run, timed_command

ROWS = 300


def test_one_day_through_incidents_run_reports_its_steps(tmp_path: Path) -> None:
    data_dir = pipeline_runs.one_jsonl_day(tmp_path / "day", ROWS)
    copy_configs(data_dir)
    result = incidents_run(data_dir, pipeline_runs.RUN_DAY, pipeline_runs.RUN_DAY, tmp_path / "run.log")

    assert result["executor"] == "in_process"  # a single day never pays for step processes
    assert result["seconds"] > 0 and result["peak_rss_mb"] > 100  # the run imports Dagster, DuckDB, Polars
    slowest = [s["seconds"] for s in result["slowest_steps"]]
    assert len(slowest) == 5 and slowest == sorted(slowest, reverse=True)
    assert result["steps"] >= 15 and result["step_seconds_total"] >= sum(slowest)
    lake = data_dir / "lake" / "request_logs" / f"day={pipeline_runs.RUN_DAY}" / "*.parquet"
    with duckdb.connect() as con:  # the run really ingested the day's file
        assert con.execute("SELECT count(*) FROM read_parquet(?)", [str(lake)]).fetchone()[0] == ROWS


def test_peak_rss_is_the_commands_not_the_benchmarks(tmp_path: Path) -> None:
    """Linux carries peak RSS across fork and exec: a benchmark process holding 400 MB must not make a small
    command look 400 MB large, and a command's own 300 MB must show."""
    ballast = bytearray(400 << 20)  # the benchmark after generating a large day in memory
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page so it is resident
    small = timed_command([sys.executable, "-c", "pass"], {}, tmp_path / "small.log")
    large = timed_command([sys.executable, "-c", "b = bytearray(300 << 20); b[::4096] = b'x' * len(b[::4096])"],
                          {}, tmp_path / "large.log")
    del ballast
    assert small["peak_rss_mb"] < 100
    assert 300 <= large["peak_rss_mb"] < 400


def test_thin_snapshots_keeps_the_newest_evenly_spaced(tmp_path: Path) -> None:
    for provider, count in (("anthropic", 10), ("openai", 9), ("google", 1)):
        folder = tmp_path / provider
        folder.mkdir()
        for i in range(count):
            (folder / f"2026010{i}T000000Z-incidents.json").write_text("{}")
    assert pipeline_runs.thin_snapshots(tmp_path, keep=6) == 5
    assert sorted(p.name[:9] for p in (tmp_path / "anthropic").iterdir()) == ["20260104T", "20260109T"]
    assert sorted(p.name[:9] for p in (tmp_path / "openai").iterdir()) == ["20260104T", "20260108T"]
    assert len(list((tmp_path / "google").iterdir())) == 1


def _run(seconds: float, rss: float = 500.0) -> dict:
    return {"median_seconds": seconds, "seconds": seconds, "peak_rss_mb": rss, "executor": "in_process",
            "steps": 23, "slowest_steps": [{"step": "a", "seconds": 1.0}], "days": 1278, "snapshots": 20}


def _summary(ingest_raw: float, sli_raw: float) -> list[dict]:
    rows = []
    for dataset in ("N", "2N", "pandas", "day_clean", "day_bad"):
        for step in ("ingest_pipeline", "ingest_duckdb", "ingest_polars", "ingest_pandas", "sli_pipeline",
                     "sli_duckdb", "sli_polars", "sli_pandas"):
            seconds = 2.1 if (step, dataset) == ("ingest_duckdb", "2N") else 1.0  # the engine's own growth
            rows.append({"step": step, "dataset": dataset, "median_seconds": seconds, "median_cpu_seconds": 1.0,
                         "median_peak_rss_mb": 300.0, "peak_rss_mb": 300.0})
    rows += [{"step": "ingest_duckdb", "dataset": "run_N", "median_seconds": ingest_raw},
             {"step": "sli_duckdb", "dataset": "run_N", "median_seconds": sli_raw}]
    return rows


@pytest.mark.parametrize(("run_seconds", "long_seconds", "empty_seconds", "passes"), [
    (10.0, 22.0, 59.0, True),  # 10 / (3 + 2) = 2.0x raw, 22 / 20 = 1.1x history, 59 s: all on the limit
    (10.1, 22.1, 60.0, False),  # just over each limit
])
def test_whole_run_targets_on_both_sides(run_seconds, long_seconds, empty_seconds, passes) -> None:
    whole = {"day_runs": {"run_floor": _run(4.0), "run_N": _run(run_seconds),
                          "run_2N": _run(2 * run_seconds, 600.0)},
             "empty_history": _run(empty_seconds), "history_days": [30, 365],
             "incremental": {"30": _run(20.0), "365": _run(long_seconds)}}
    ratios, targets = report.build_report(_summary(3.0, 2.0), whole, {"N": 10, "run_N": 10, "pandas": 10})

    assert ratios["day_run_vs_duckdb"] == round(run_seconds / 5.0, 3)
    assert ratios["day_run_fixed_seconds"] == 4.0
    assert ratios["day_run_rows_vs_duckdb"] == round((run_seconds - 4.0) / 5.0, 3)  # 10 s: (10 - 4) / 5 = 1.2x
    assert ratios["day_run_time_2n_vs_n"] == 2.0 and ratios["day_run_rss_2n_vs_n"] == 1.2
    assert ratios["ingest_duckdb_time_2n_vs_n"] == 2.1 and ratios["sli_duckdb_time_2n_vs_n"] == 1.0
    verdicts = {t["target"].split(":")[0].split(" (")[0]: t["pass"] for t in targets}
    assert verdicts["whole day run within 2x of raw DuckDB ingest + SLI"] is passes
    assert verdicts["one new day after 365 vs 30 days of history"] is passes
    assert verdicts["empty history"] is passes
    text = report.format_whole({"whole_runs": whole, "ratios": ratios,
                                "rows": {"run_floor": 2, "run_N": 10, "run_2N": 20}})
    assert any("slowest of 23 steps: a 1.0" in line for line in text)
    assert any(line.startswith("whole day run, 2 rows") and "fixed cost" in line for line in text)


def test_executor_choice_by_range_length_and_cores() -> None:
    day, many = dt.date(2026, 3, 1), MULTIPROCESS_MIN_CPUS
    long_range_end = day + dt.timedelta(days=MULTIPROCESS_FROM_DAYS - 1)
    assert choose_executor(day, day, cpus=64) == "in_process"
    assert choose_executor(day, long_range_end - dt.timedelta(days=1), cpus=many) == "in_process"
    assert choose_executor(day, long_range_end, cpus=many) == "multiprocess"
    assert choose_executor(day, long_range_end, cpus=many - 1) == "in_process"  # 2 cores: never pays


def test_a_shorter_history_is_the_longer_one_s_last_days_byte_for_byte(tmp_path: Path) -> None:
    world = tmp_path / "world"
    files = ["request_logs/2026-03-08/a.jsonl", "request_logs/2026-03-09/b.csv", "crowd_reports/2026-03-07/c.json",
             "app_rankings/2026-03-09/d.json", "status_pages/openai/20260308T235959Z-incidents.json",
             "status_pages/openai/20260309T000000Z-summary.json", "status_pages/google/20260310T120000Z.atom"]
    for rel in files:
        (world / "raw" / rel).parent.mkdir(parents=True, exist_ok=True)
        (world / "raw" / rel).write_text(rel)
    (world / "config").mkdir()
    (world / "config" / "providers.yaml").write_text("providers: []\n")
    short = history_slice(world, tmp_path / "short", dt.date(2026, 3, 9))
    kept = sorted(p.relative_to(short / "raw").as_posix() for p in (short / "raw").rglob("*") if p.is_file())
    assert kept == ["app_rankings/2026-03-09/d.json", "request_logs/2026-03-09/b.csv",
                    "status_pages/google/20260310T120000Z.atom", "status_pages/openai/20260309T000000Z-summary.json"]
    assert all((short / "raw" / rel).samefile(world / "raw" / rel) for rel in kept)  # the same bytes: links
    assert (short / "config" / "providers.yaml").read_text() == "providers: []\n"
