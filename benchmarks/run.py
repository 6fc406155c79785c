"""`make bench`: the pipeline against raw DuckDB, Polars and pandas, step by step and as a whole run.

Generates N synthetic request rows (JSONL, CSV and their gzip variants; benchmarks/generate.py) into a
temp data dir, then measures, each step in a fresh subprocess (time of the work itself, peak RSS of
that process: VmHWM), engines interleaved within each repeat:

  ingest at N    pipeline (write_day_partition -> ingest_day, per day) | DuckDB | Polars,
                 then pipeline | DuckDB at 2N (growth; the N files again under new names)  x repeats
  SLI at N       pipeline (the provider_minute_sli asset body)        | DuckDB | Polars,
                 then pipeline | DuckDB at 2N                                              x repeats
  pandas size    ingest and SLI: pipeline | DuckDB | Polars | pandas (1 M rows: pandas is slow at N)
  one day        a clean day | the same day with 0.01 % of lines broken (the exact path)    x repeats

and the whole pipeline as a user runs it (`incidents run`, pipeline_runs.py): one day of --run-rows rows
in one JSONL file against raw DuckDB ingest + SLI on it, the same at twice the rows and at 10,000 rows
(the fixed cost of a run: the N run minus it is the rows' own cost); --empty-days of
status-page history and nothing else; one new day after each of --history-days days of history. Each
whole run prints the five slowest steps of its Dagster run.

Prints tables and targets and writes benchmarks/results/bench-<UTC stamp>.json and latest.json (or --out).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pipeline_runs
from generate import generate, malformed_copy
from recorder import Recorder, lake_fingerprint, link_copy, same_totals
from report import build_report, format_table, machine, notes, write
from whole_run import copy_configs

DEFAULT_ROWS = 10_000_000
QUICK_ROWS = 200_000
DEFAULT_PANDAS_ROWS = 1_000_000
MALFORMED_SHARE = 1e-4  # 0.01 % of lines
EMPTY_HISTORY_DAYS = 1278  # three and a half years
EMPTY_HISTORY_SNAPSHOTS = 20
HISTORY_DAYS = (30, 365)
INGEST_STEPS = ("ingest_pipeline", "ingest_duckdb", "ingest_polars")
SLI_STEPS = ("sli_pipeline", "sli_duckdb", "sli_polars")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--rows", type=int, default=None, help=f"rows to generate (default {DEFAULT_ROWS:,})")
    add("--repeats", type=int, default=3, help="repeats per measured step (median reported; default 3)")
    add("--quick", action="store_true", help=f"smoke run at {QUICK_ROWS:,} rows")
    add("--days", type=int, default=3, help="UTC days the rows spread over (default 3)")
    add("--pandas-rows", type=int, default=DEFAULT_PANDAS_ROWS, help="rows for pandas (capped at --rows)")
    add("--run-rows", type=int, default=None, help="rows of the whole day run (default --rows)")
    add("--empty-days", type=int, default=EMPTY_HISTORY_DAYS, help="days of status-page-only history")
    add("--empty-snapshots", type=int, default=EMPTY_HISTORY_SNAPSHOTS, help="status-page snapshots kept")
    add("--history-days", default=",".join(map(str, HISTORY_DAYS)), help="short,long history before a new day")
    add("--no-whole-runs", dest="whole_runs", action="store_false", help="engine steps only (no `incidents run`)")
    add("--out", type=Path, default=None, help="JSON result path (default benchmarks/results/)")
    add("--work-dir", type=Path, default=None, help="where the temp data dir goes")
    add("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = QUICK_ROWS if args.quick else DEFAULT_ROWS
    args.run_rows = args.run_rows or args.rows
    args.pandas_rows = min(args.pandas_rows, args.rows)
    args.history_days = tuple(int(d) for d in args.history_days.split(","))
    if args.repeats < 1 or args.rows < args.days * 8 or len(args.history_days) != 2:
        parser.error("need --repeats >= 1, at least 8 rows per day and two --history-days")
    return args


def make_datasets(args: argparse.Namespace, work: Path) -> tuple[dict, dict, dict]:
    """The engine data sets: N, pandas size, 2N (hard links), one clean day, the same day broken."""
    started = time.perf_counter()
    n_dir = work / "n"
    manifest = generate(n_dir, args.rows, args.days)
    copy_configs(n_dir)
    datasets = {"N": n_dir, "pandas": n_dir}
    if args.pandas_rows < args.rows:
        datasets["pandas"] = work / "pandas"
        generate(datasets["pandas"], args.pandas_rows, args.days)
        copy_configs(datasets["pandas"])
    raw_days = sorted((n_dir / "raw" / "request_logs").iterdir())
    datasets["2N"] = work / "n2"
    link_copy(raw_days, datasets["2N"], copies=2)
    datasets["day_clean"] = work / "day_clean"
    link_copy(raw_days[:1], datasets["day_clean"], copies=1)
    datasets["day_bad"] = work / "day_bad"
    copy_configs(datasets["day_bad"])
    bad = malformed_copy(raw_days[0], datasets["day_bad"] / "raw" / "request_logs" / raw_days[0].name,
                         MALFORMED_SHARE)
    day_rows = sum(f["rows"] for f in manifest["files"] if f["path"].split("/")[2] == raw_days[0].name)
    rows = {"N": args.rows, "2N": 2 * args.rows, "pandas": args.pandas_rows, "day_clean": day_rows,
            "day_bad": day_rows}
    print(f"generated {args.rows:,} rows ({manifest['bytes'] / 1e6:,.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    data = {"N": {"rows": args.rows, "bytes": manifest["bytes"], "files": len(manifest["files"])},
            "day_bad": {"rows": day_rows, "broken_lines": bad["broken_lines"]}}
    return datasets, rows, data


def measure_engines(rec: Recorder, datasets: dict, repeats: int) -> None:
    """Ingest, then SLI over the pipeline's lake, at N, pandas size, 2N; one clean and one broken day."""
    same_as_n = datasets["pandas"] == datasets["N"]
    for label, engines, pandas in (("ingest", INGEST_STEPS, "ingest_pandas"), ("SLI", SLI_STEPS, "sli_pandas")):
        steps = engines + (pandas,) * same_as_n
        growth = engines[:2]  # the pipeline and raw DuckDB: 2N in the same rounds as N, so a change in the
        # machine's load falls on both, and DuckDB's own growth stands beside the pipeline's
        print(f"{label} at N and at 2N (growth)", flush=True)
        for _ in range(repeats):
            for step in steps:
                rec.measure(step, "N", datasets["N"])
            for step in growth:
                rec.measure(step, "2N", datasets["2N"])
    if same_as_n:  # pandas beside the pipeline and the raw engines at the same size
        for step in (*INGEST_STEPS, *SLI_STEPS, "ingest_pandas", "sli_pandas"):
            rec.runs[(step, "pandas")] = rec.runs[(step, "N")]
    else:
        print("pandas comparison", flush=True)
        for steps in (INGEST_STEPS + ("ingest_pandas",), SLI_STEPS + ("sli_pandas",)):
            for _ in range(repeats):
                for step in steps:
                    rec.measure(step, "pandas", datasets["pandas"])
    print("one day: clean vs 0.01 % malformed lines", flush=True)
    for _ in range(repeats):
        rec.measure("ingest_pipeline", "day_clean", datasets["day_clean"])
        rec.measure("ingest_pipeline", "day_bad", datasets["day_bad"])


def measure_whole_runs(args: argparse.Namespace, rec: Recorder, work: Path) -> dict:
    print(f"whole runs: one day of {args.run_rows:,} rows (and twice that), vs raw DuckDB", flush=True)
    day_runs = pipeline_runs.day_runs(work / "whole", args.run_rows, args.repeats, rec)
    print(f"whole run: {args.empty_days} days of status pages only", flush=True)
    empty = pipeline_runs.empty_history(work / "whole", args.empty_days, args.empty_snapshots)
    print(f"whole runs: one new day after {' and '.join(map(str, args.history_days))} days of history", flush=True)
    incremental = pipeline_runs.incremental(work / "whole", args.history_days, args.repeats)
    return {"day_runs": day_runs, "empty_history": empty, "incremental": incremental,
            "history_days": list(args.history_days)}


def check_results(rec: Recorder, datasets: dict, data: dict) -> dict:
    """Every engine's lake has the pipeline's rows, sums and column types; the broken lines are quarantined."""
    fingerprints = {}
    for engine, ds in (("pipeline", "N"), ("duckdb", "N"), ("polars", "N"), ("pipeline", "pandas"),
                       ("duckdb", "pandas"), ("polars", "pandas"), ("pandas", "pandas")):
        lake = datasets[ds] / ("lake" if engine == "pipeline" else f"lake_{engine}") / "request_logs"
        fingerprints[f"{engine}@{ds}"] = lake_fingerprint(lake)
    sli_pairs = (("duckdb", "N"), ("polars", "N"), ("duckdb", "pandas"), ("polars", "pandas"), ("pandas", "pandas"))
    return {
        "ingest_same_as_pipeline": {key: fp == fingerprints[f"pipeline@{key.split('@')[1]}"]
                                    for key, fp in fingerprints.items() if not key.startswith("pipeline")},
        "sli_same_as_pipeline": {f"{engine}@{ds}": same_totals(rec.runs[(f"sli_{engine}", ds)][-1]["checksum"],
                                                               rec.runs[("sli_pipeline", ds)][-1]["checksum"])
                                 for engine, ds in sli_pairs},
        "malformed_rows_quarantined": rec.runs[("ingest_pipeline", "day_bad")][-1]["rows_quarantined"],
        "malformed_lines_written": data["day_bad"]["broken_lines"],
        "fingerprints": fingerprints,
    }


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started, started_at, load_start = time.perf_counter(), dt.datetime.now(dt.UTC), os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="incidents-bench-", dir=args.work_dir))
    (work / "results").mkdir()
    print(f"bench: {args.rows:,} rows over {args.days} days, {args.repeats} repeat(s), data in {work}\n"
          f"load average at start: {' '.join(f'{x:.2f}' for x in load_start)} on {os.cpu_count()} CPUs", flush=True)
    try:
        datasets, rows, data = make_datasets(args, work)
        rec = Recorder(work / "results")
        rec.rows = rows
        measure_engines(rec, datasets, args.repeats)
        whole = measure_whole_runs(args, rec, work) if args.whole_runs else None
        checks = check_results(rec, datasets, data)
        summary = rec.summary()
        rows = rec.rows
        ratios, targets = build_report(summary, whole, rows)
        total_seconds = time.perf_counter() - started
        report = {
            "started_at": started_at.isoformat(timespec="seconds"), "total_seconds": round(total_seconds, 1),
            "settings": {key: value for key, value in vars(args).items() if key not in ("out", "work_dir")},
            "machine": machine(load_start), "data": data, "rows": rows, "steps": summary, "whole_runs": whole,
            "ratios": ratios, "targets": targets, "checks": checks, "notes": notes(args.pandas_rows),
        }
        report["table"] = format_table(summary, report)
        print(f"\n{report['table']}\n\ntotal {total_seconds / 60:.1f} min; load average at end: "
              f"{' '.join(f'{x:.2f}' for x in report['machine']['load_avg_end'])}")
        differ = [f"{kind} {key}" for kind in ("ingest_same_as_pipeline", "sli_same_as_pipeline")
                  for key, same in checks[kind].items() if not same]
        if differ:
            print(f"WARNING: results differ from the pipeline's for {differ}")
        write(report, args.out)
        return report
    finally:
        if args.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
