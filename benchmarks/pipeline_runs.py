"""Whole-pipeline measurements of `make bench`: what a user waits for, not one asset alone.

- day run: one UTC day of N gateway rows in one JSONL file through `incidents run --start D --end D`
  (every asset, reports included), against raw DuckDB doing the same ingest to Parquet plus the
  per-provider-minute aggregation on the same files in the same benchmark run; again at 2N rows (the
  file twice) for linear growth, and at FLOOR_ROWS rows: the run's fixed cost (interpreter, imports,
  Dagster run, Great Expectations, marts and pages of one day), which N's run minus it leaves the rows'
  own cost.
- empty history: years of status-page snapshots and nothing else (no request logs, crowd reports or
  App Store charts) as one `incidents run` over the whole range: the cost of days without files.
- incremental day: with 30 and with 365 days already materialised, `incidents run` of one new day (the
  shorter history is the longer one's last days: the new day's files are the same in both).

Every run is a fresh process on a data dir of its own (whole_run.py); times include the interpreter
start, as the user's do.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

from generate import request_frame, write_file
from whole_run import copy_configs, fresh_copy, history_slice, incidents_run, write_scenario

RUN_DAY = dt.date(2026, 3, 2)  # the day of the planted outage in the generated logs
HISTORY_END = dt.date(2026, 2, 28)  # last day of the status-page-only history
INCREMENTAL_DAY = dt.date(2026, 3, 10)  # the new day of the incremental runs
INCREMENTAL_SCALE = 0.1  # request-log volume of the incremental worlds (a tenth of the demo's)
FLOOR_ROWS = 10_000  # the fixed-cost day: about 7 requests per provider-minute, every mart and page has data


def one_jsonl_day(data_dir: Path, rows: int, copies: int = 1) -> Path:
    """raw/request_logs/<RUN_DAY>/ with `copies` JSONL files of `rows` gateway rows each (the same rows)."""
    day_dir = data_dir / "raw" / "request_logs" / RUN_DAY.isoformat()
    day_dir.mkdir(parents=True, exist_ok=True)
    first = day_dir / "gateway-1.jsonl"
    write_file(request_frame(RUN_DAY, rows, seed=20260302), first, "jsonl", compressed=False)
    for i in range(2, copies + 1):
        (day_dir / f"gateway-{i}.jsonl").hardlink_to(first)
    return data_dir


def day_runs(work: Path, rows: int, repeats: int, recorder) -> dict:
    """`incidents run` of one day of FLOOR_ROWS, N and 2N rows; raw DuckDB ingest + SLI on the N day,
    interleaved."""
    worlds = {}
    for label, day_rows, copies in (("run_floor", min(FLOOR_ROWS, rows), 1), ("run_N", rows, 1),
                                    ("run_2N", rows, 2)):
        worlds[label] = one_jsonl_day(work / label, day_rows, copies)
        copy_configs(worlds[label])
        recorder.rows[label] = day_rows * copies
    runs: dict[str, list[dict]] = {label: [] for label in worlds}
    for repeat in range(repeats):
        for label, world in worlds.items():
            data_dir = fresh_copy(world, work / f"{label}-{repeat}")
            result = incidents_run(data_dir, RUN_DAY, RUN_DAY, recorder.scratch / f"{label}-{repeat}.log")
            runs[label].append(result)
            _print_run(f"whole run {label[4:]} ({recorder.rows[label]:,} rows)", result)
            if label == "run_N":  # raw DuckDB on the same file, over the lake the run just wrote
                recorder.measure("ingest_duckdb", "run_N", data_dir)
                recorder.measure("sli_duckdb", "run_N", data_dir)
    return {label: _summary(results) for label, results in runs.items()}


def empty_history(work: Path, days: int, snapshots: int) -> dict:
    """`incidents run` over `days` days of status-page snapshots only (thinned to `snapshots` files)."""
    start = HISTORY_END - dt.timedelta(days=days - 1)
    data_dir = work / "empty_history"
    write_scenario(data_dir, start, HISTORY_END, scale=0.1, sources=("status_pages",))
    kept = thin_snapshots(data_dir / "raw" / "status_pages", snapshots)
    result = incidents_run(data_dir, start, HISTORY_END, work / "empty_history.log")
    _print_run(f"empty history ({days} days, {kept} snapshots)", result)
    return {"days": days, "start": start.isoformat(), "end": HISTORY_END.isoformat(), "snapshots": kept, **result}


def thin_snapshots(status_dir: Path, keep: int) -> int:
    """Keep about `keep` snapshot files in all, evenly spaced in time per provider (the newest always)."""
    providers = sorted(p for p in status_dir.iterdir() if p.is_dir())
    per_provider = max(1, keep // max(1, len(providers)))
    kept = 0
    for provider in providers:
        files = sorted(provider.iterdir())  # names start with the UTC fetch stamp
        step = max(1, len(files) // per_provider)
        chosen = set(files[::-1][::step][:per_provider])
        for f in files:
            if f not in chosen:
                f.unlink()
        kept += len(chosen)
    return kept


def incremental(work: Path, history_days: tuple[int, ...], repeats: int) -> dict:
    """One new day after each history length: every history is materialised first (untimed), then the day's
    runs alternate between the histories, so a change in the machine's load falls on both alike."""
    histories, runs = {}, {days: [] for days in history_days}
    # One world for the longest history; a shorter one is its last days (history_slice), so the new day's
    # files are the same bytes in every history and only the length of the past differs.
    longest = work / "world"
    write_scenario(longest, INCREMENTAL_DAY - dt.timedelta(days=max(history_days)), INCREMENTAL_DAY,
                   scale=INCREMENTAL_SCALE)
    for days in history_days:
        start = INCREMENTAL_DAY - dt.timedelta(days=days)
        data_dir = history_slice(longest, work / f"history_{days}", start)
        histories[days] = incidents_run(data_dir, start, INCREMENTAL_DAY - dt.timedelta(days=1), work / f"h{days}.log")
        _print_run(f"history of {days} days (set-up)", histories[days])
    # the first run materialises the new day; repeats materialise it again (the same work, idempotent)
    for i in range(repeats):
        for days in history_days:
            result = incidents_run(work / f"history_{days}", INCREMENTAL_DAY, INCREMENTAL_DAY, work / f"h{days}-{i}.log")
            runs[days].append(result)
            _print_run(f"one new day after {days} days", result)
    return {str(days): {"history_seconds": histories[days]["seconds"], "history_executor": histories[days]["executor"],
                        **_summary(runs[days])} for days in history_days}


def _summary(runs: list[dict]) -> dict:
    """Median time of the runs, worst peak RSS, the slowest steps of the median run."""
    median_run = sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]
    return {
        "repeats": len(runs),
        "median_seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "all_seconds": [r["seconds"] for r in runs],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "load_avg_1m": [r["load_avg_1m"] for r in runs],
        "executor": median_run["executor"],
        "steps": median_run["steps"],
        "step_seconds_total": median_run["step_seconds_total"],
        "slowest_steps": median_run["slowest_steps"],
    }


def _print_run(label: str, result: dict) -> None:
    slowest = ", ".join(f"{s['step']} {s['seconds']:.1f}" for s in result["slowest_steps"][:3])
    print(f"  {label:<36} {result['seconds']:8.2f} s  peak RSS {result['peak_rss_mb']:7.1f} MB"
          f"  (load {result['load_avg_1m']:.1f}; {result['executor']}; slowest: {slowest})", flush=True)
