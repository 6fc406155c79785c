"""The report of `make bench`: ratios, targets (the issue's goals), the printed table, the JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Targets (issue 13's goals; the SLI and pandas ones from the earlier benchmark issue)
MAX_INGEST_VS_RAW = 1.1
MAX_SLI_VS_RAW = 1.25
MAX_DAY_RUN_VS_RAW = 2.0
MIN_SPEEDUP_VS_PANDAS = 10.0
MAX_RSS_MB = 2048.0
MAX_TIME_GROWTH_2N = 2.2
MAX_RSS_GROWTH_2N = 1.3
MAX_EMPTY_HISTORY_SECONDS = 60.0
MAX_INCREMENTAL_GROWTH = 1.1

def _mb(x: float) -> str:
    return f"{x:,.0f}"


def build_report(summary: list[dict], whole: dict | None, rows: dict) -> tuple[dict, list[dict]]:
    """Ratios (pipeline / raw engine, 2N / N, 365 / 30 days of history) and the targets they meet or miss."""
    ratios = {**engine_ratios(summary), **(whole_ratios(summary, whole) if whole else {})}
    ratios = {k: round(v, 3) for k, v in ratios.items()}
    by = {(s["step"], s["dataset"]): s for s in summary}
    step_rss = max(by[(s, "N")]["peak_rss_mb"] for s in ("ingest_pipeline", "sli_pipeline"))  # worst run
    targets = whole_targets(whole, ratios, rows) if whole else []
    targets += [
        _target("ingest within 1.1x of raw DuckDB", ratios["ingest_pipeline_vs_duckdb"], "<=", MAX_INGEST_VS_RAW),
        _target("SLI within 1.25x of raw DuckDB", ratios["sli_pipeline_vs_duckdb"], "<=", MAX_SLI_VS_RAW),
        _target(f"peak RSS < 2 GB, ingest and SLI at N={rows['N']:,} (MB)", step_rss, "<", MAX_RSS_MB),
    ]
    for step in ("ingest", "sli"):
        targets += [
            _target(f"{step} time at 2N <= 2.2x N", ratios[f"{step}_time_2n_vs_n"], "<=", MAX_TIME_GROWTH_2N),
            _target(f"{step} peak RSS at 2N <= 1.3x N", ratios[f"{step}_rss_2n_vs_n"], "<=", MAX_RSS_GROWTH_2N),
        ]
    for step in ("ingest", "sli"):
        targets.append(_target(f"{step} >= 10x faster than pandas (at {rows['pandas']:,} rows)",
                               ratios[f"{step}_pandas_vs_pipeline"], ">=", MIN_SPEEDUP_VS_PANDAS))
    return ratios, targets


def whole_targets(whole: dict, ratios: dict, rows: dict) -> list[dict]:
    history = whole["history_days"]
    return [
        _target("whole day run within 2x of raw DuckDB ingest + SLI", ratios["day_run_vs_duckdb"], "<=",
                MAX_DAY_RUN_VS_RAW),
        _target(f"peak RSS < 2 GB, whole day run of {rows['run_N']:,} rows (MB)",
                whole["day_runs"]["run_N"]["peak_rss_mb"], "<", MAX_RSS_MB),
        _target(f"empty history: {whole['empty_history']['days']} days of status pages only (s)",
                whole["empty_history"]["seconds"], "<", MAX_EMPTY_HISTORY_SECONDS),
        _target(f"one new day after {history[1]} vs {history[0]} days of history",
                ratios["incremental_long_vs_short"], "<=", MAX_INCREMENTAL_GROWTH),
    ]


def engine_ratios(summary: list[dict]) -> dict:
    """Pipeline steps against the raw engines at N, pandas at its size, growth from N to 2N."""
    by = {(s["step"], s["dataset"]): s for s in summary}

    def t(step: str, ds: str) -> float:
        return by[(step, ds)]["median_seconds"]

    def cpu(step: str, ds: str) -> float:
        return by[(step, ds)]["median_cpu_seconds"]

    def rss(step: str, ds: str) -> float:
        return by[(step, ds)]["median_peak_rss_mb"]

    return {
        "ingest_pipeline_vs_duckdb": t("ingest_pipeline", "N") / t("ingest_duckdb", "N"),
        "ingest_pipeline_vs_polars": t("ingest_pipeline", "N") / t("ingest_polars", "N"),
        "sli_pipeline_vs_duckdb": t("sli_pipeline", "N") / t("sli_duckdb", "N"),
        "sli_pipeline_vs_polars": t("sli_pipeline", "N") / t("sli_polars", "N"),
        # the same on CPU seconds (all threads): less sensitive to other jobs on the machine
        "ingest_pipeline_vs_duckdb_cpu": cpu("ingest_pipeline", "N") / cpu("ingest_duckdb", "N"),
        "sli_pipeline_vs_duckdb_cpu": cpu("sli_pipeline", "N") / cpu("sli_duckdb", "N"),
        "ingest_pandas_vs_pipeline": t("ingest_pandas", "pandas") / t("ingest_pipeline", "pandas"),
        "sli_pandas_vs_pipeline": t("sli_pandas", "pandas") / t("sli_pipeline", "pandas"),
        # context for the 10x target: how much faster the raw engines themselves are than pandas
        "ingest_pandas_vs_duckdb": t("ingest_pandas", "pandas") / t("ingest_duckdb", "pandas"),
        "ingest_pandas_vs_polars": t("ingest_pandas", "pandas") / t("ingest_polars", "pandas"),
        "sli_pandas_vs_duckdb": t("sli_pandas", "pandas") / t("sli_duckdb", "pandas"),
        "sli_pandas_vs_polars": t("sli_pandas", "pandas") / t("sli_polars", "pandas"),
        # growth: medians at 2N against medians at N (measured in the same rounds); raw DuckDB's own beside
        "ingest_rss_2n_vs_n": rss("ingest_pipeline", "2N") / rss("ingest_pipeline", "N"),
        "sli_rss_2n_vs_n": rss("sli_pipeline", "2N") / rss("sli_pipeline", "N"),
        "ingest_time_2n_vs_n": t("ingest_pipeline", "2N") / t("ingest_pipeline", "N"),
        "sli_time_2n_vs_n": t("sli_pipeline", "2N") / t("sli_pipeline", "N"),
        "ingest_duckdb_time_2n_vs_n": t("ingest_duckdb", "2N") / t("ingest_duckdb", "N"),
        "sli_duckdb_time_2n_vs_n": t("sli_duckdb", "2N") / t("sli_duckdb", "N"),
        "malformed_day_vs_clean_day": t("ingest_pipeline", "day_bad") / t("ingest_pipeline", "day_clean"),
    }


def whole_ratios(summary: list[dict], whole: dict) -> dict:
    """The whole day run against raw DuckDB (ingest + SLI on its file), and its rows' own cost (the run minus
    the fixed-cost run of a small day) against the same; 2N / N, long / short history."""
    by = {(s["step"], s["dataset"]): s for s in summary}
    raw = by[("ingest_duckdb", "run_N")]["median_seconds"] + by[("sli_duckdb", "run_N")]["median_seconds"]
    runs, incremental = whole["day_runs"], whole["incremental"]
    short, long = (incremental[str(d)] for d in whole["history_days"])
    fixed = runs["run_floor"]["median_seconds"]
    return {
        "day_run_vs_duckdb": runs["run_N"]["median_seconds"] / raw,
        "day_run_fixed_seconds": fixed,
        "day_run_rows_vs_duckdb": (runs["run_N"]["median_seconds"] - fixed) / raw,
        "day_run_time_2n_vs_n": runs["run_2N"]["median_seconds"] / runs["run_N"]["median_seconds"],
        "day_run_rss_2n_vs_n": runs["run_2N"]["peak_rss_mb"] / runs["run_N"]["peak_rss_mb"],
        "incremental_long_vs_short": long["median_seconds"] / short["median_seconds"],
    }


def _target(name: str, value: float, op: str, limit: float) -> dict:
    ok = {"<=": value <= limit, ">=": value >= limit, "<": value < limit}[op]
    return {"target": name, "value": round(value, 3), "op": op, "limit": limit, "pass": bool(ok)}


LABELS = {
    "ingest_pipeline": "ingest  pipeline",
    "ingest_duckdb": "ingest  DuckDB (raw)",
    "ingest_polars": "ingest  Polars (raw)",
    "ingest_pandas": "ingest  pandas",
    "sli_pipeline": "SLI     pipeline",
    "sli_duckdb": "SLI     DuckDB (raw)",
    "sli_polars": "SLI     Polars (raw)",
    "sli_pandas": "SLI     pandas",
}


def format_table(summary: list[dict], report: dict) -> str:
    ratio_of = {
        ("ingest_pipeline", "N"): f"{report['ratios']['ingest_pipeline_vs_duckdb']:.2f}x DuckDB "
        f"(CPU {report['ratios']['ingest_pipeline_vs_duckdb_cpu']:.2f}x), "
        f"{report['ratios']['ingest_pipeline_vs_polars']:.2f}x Polars",
        ("sli_pipeline", "N"): f"{report['ratios']['sli_pipeline_vs_duckdb']:.2f}x DuckDB "
        f"(CPU {report['ratios']['sli_pipeline_vs_duckdb_cpu']:.2f}x), "
        f"{report['ratios']['sli_pipeline_vs_polars']:.2f}x Polars",
        ("ingest_pandas", "pandas"): f"{report['ratios']['ingest_pandas_vs_pipeline']:.2f}x pipeline, "
        f"{report['ratios']['ingest_pandas_vs_duckdb']:.2f}x DuckDB, {report['ratios']['ingest_pandas_vs_polars']:.2f}x Polars",
        ("sli_pandas", "pandas"): f"{report['ratios']['sli_pandas_vs_pipeline']:.2f}x pipeline, "
        f"{report['ratios']['sli_pandas_vs_duckdb']:.2f}x DuckDB, {report['ratios']['sli_pandas_vs_polars']:.2f}x Polars",
        ("ingest_pipeline", "2N"): f"RSS {report['ratios']['ingest_rss_2n_vs_n']:.2f}x N, "
        f"time {report['ratios']['ingest_time_2n_vs_n']:.2f}x N",
        ("sli_pipeline", "2N"): f"RSS {report['ratios']['sli_rss_2n_vs_n']:.2f}x N, "
        f"time {report['ratios']['sli_time_2n_vs_n']:.2f}x N",
        ("ingest_duckdb", "2N"): f"time {report['ratios']['ingest_duckdb_time_2n_vs_n']:.2f}x N (the engine's own growth)",
        ("sli_duckdb", "2N"): f"time {report['ratios']['sli_duckdb_time_2n_vs_n']:.2f}x N (the engine's own growth)",
        ("ingest_pipeline", "day_bad"): f"{report['ratios']['malformed_day_vs_clean_day']:.2f}x clean day",
    }
    lines = [
        (
            f"{'step':<22}{'data':<10}{'rows':>11}{'runs':>5}{'median s':>9}{'CPU s':>8}{'rows/s':>11}"
            f"{'peak RSS MB':>12}  ratio"
        ),
        "-" * 120,
    ]
    order = ("N", "2N", "pandas", "day_clean", "day_bad", "run_N")
    for s in sorted(summary, key=lambda s: (order.index(s["dataset"]), list(LABELS).index(s["step"]))):
        lines.append(
            f"{LABELS[s['step']]:<22}{s['dataset']:<10}{s['rows']:>11,}{s['repeats']:>5}{s['median_seconds']:>9.2f}"
            f"{s['median_cpu_seconds']:>8.2f}{s['rows_per_second']:>11,}{_mb(s['peak_rss_mb']):>12}  "
            f"{ratio_of.get((s['step'], s['dataset']), '')}"
        )
    whole = [*format_whole(report), ""] if report["whole_runs"] else []
    return "\n".join([*lines, "", *whole, *format_targets(report["targets"])])


def format_whole(report: dict) -> list[str]:
    """The whole-pipeline runs: time, peak RSS, ratio, and the five slowest steps of each."""
    whole, ratios = report["whole_runs"], report["ratios"]
    runs = whole["day_runs"]
    rows = [
        (f"whole day run, {report['rows']['run_floor']:,} rows", runs["run_floor"],
         "the fixed cost of a run (a day with little data)"),
        (f"whole day run, {report['rows']['run_N']:,} rows", runs["run_N"],
         (f"{ratios['day_run_vs_duckdb']:.2f}x raw DuckDB ingest + SLI (run_N rows above); the rows' own cost "
         f"(minus the fixed cost) {ratios['day_run_rows_vs_duckdb']:.2f}x")),
        (f"whole day run, {report['rows']['run_2N']:,} rows", runs["run_2N"],
         f"time {ratios['day_run_time_2n_vs_n']:.2f}x N, RSS {ratios['day_run_rss_2n_vs_n']:.2f}x N"),
        (f"empty history, {whole['empty_history']['days']} days", whole["empty_history"],
         f"{whole['empty_history']['snapshots']} status-page snapshots, no other source"),
    ]
    short, long = whole["history_days"]
    for days in (short, long):
        rows.append((f"one new day after {days} days", whole["incremental"][str(days)],
                     f"{ratios['incremental_long_vs_short']:.2f}x ({long} vs {short} days)" if days == long else ""))
    lines = [f"{'whole pipeline (incidents run)':<40}{'s':>9}{'peak RSS MB':>12}  {'executor':<13}ratio", "-" * 120]
    for label, run, note in rows:
        seconds = run.get("median_seconds", run.get("seconds"))
        lines.append(f"{label:<40}{seconds:>9.2f}{_mb(run['peak_rss_mb']):>12}  {run['executor']:<13}{note}")
        slowest = ", ".join(f"{s['step']} {s['seconds']:.1f}" for s in run["slowest_steps"])
        lines.append(f"{'':<4}slowest of {run['steps']} steps: {slowest}")
    return lines


def format_targets(targets: list[dict]) -> list[str]:
    return [f"[{'PASS' if t['pass'] else 'FAIL'}] {t['target']}: {t['value']:.2f} {t['op']} {t['limit']}"
            for t in targets]


def notes(pandas_rows: int) -> list[str]:
    return [
        (
            "times are the step's own work in a fresh process (imports excluded); peak RSS is the whole process "
            "(imports included: see rss_after_import_mb)"
        ),
        (
            f"pandas is measured at {pandas_rows:,} rows, not at N; its ratios compare it with the pipeline and the "
            "raw engines at that same size"
        ),
        (
            "2N reuses the N files twice per day (hard links under a second name): same days, twice the files and "
            "rows per day, same value distributions"
        ),
        "day_clean is the first day of N; day_bad is the same day with 0.01 % of its lines broken",
        "ratios: pipeline time / raw engine time (> 1 = pipeline slower); pandas ratios: pandas time / other time",
        (
            "whole runs: `incidents run` in a fresh process on a data dir and Dagster instance of its own, wall time "
            "including interpreter start and imports; peak RSS of its largest process (wait4); slowest steps from "
            "the Dagster run's step stats; raw DuckDB for the day run: ingest + SLI work on the same file"
        ),
    ]


def machine(load_start: tuple[float, float, float]) -> dict:
    import duckdb
    import pandas
    import polars

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pandas": pandas.__version__,
        "load_avg_start": [round(x, 2) for x in load_start],
        "load_avg_end": [round(x, 2) for x in os.getloadavg()],
        "note": "other jobs share these CPUs; the 1-minute load average at the start of each run is in steps",
    }


def write(report: dict, out: Path | None) -> None:
    text = json.dumps(report, indent=2, default=str)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"wrote {out}")
        return
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (results / f"bench-{stamp}.json").write_text(text)
    (results / "latest.json").write_text(text)
    print(f"wrote {results / f'bench-{stamp}.json'} and latest.json")
