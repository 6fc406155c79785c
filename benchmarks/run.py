"""`make bench`: request-log ingest and the minute SLI, pipeline vs raw DuckDB, Polars and pandas.

Generates N synthetic request rows (JSONL, CSV and their gzip variants; benchmarks/generate.py) into a
temp data dir, then measures, each step in a fresh subprocess (time of the work itself, peak RSS of
that process: VmHWM), engines interleaved within each repeat:

  ingest at N    pipeline (write_day_partition -> ingest_day, per day) | DuckDB | Polars    x repeats
  SLI at N       pipeline (the provider_minute_sli asset body)        | DuckDB | Polars    x repeats
  pandas size    ingest and SLI: pipeline | DuckDB | Polars | pandas (1 M rows: pandas is slow at N)
  2N             pipeline ingest and SLI, once (for RSS growth; the N files again under new names)
  one day        a clean day | the same day with 0.01 % of lines broken (the exact path)    x repeats

Prints a table and writes benchmarks/results/bench-<UTC stamp>.json and latest.json (or --out PATH).
Options: --rows N (default 10,000,000), --repeats K (default 3), --quick (200,000 rows), --days D,
--pandas-rows M (default 1,000,000, at most N), --out PATH, --work-dir DIR, --keep (keep the data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import copy_config, generate, malformed_copy

DEFAULT_ROWS = 10_000_000
QUICK_ROWS = 200_000
DEFAULT_PANDAS_ROWS = 1_000_000
MALFORMED_SHARE = 1e-4  # 0.01 % of lines

# Targets (issue text)
MAX_RATIO_TO_RAW = 1.25
MIN_SPEEDUP_VS_PANDAS = 10.0
MAX_RSS_MB = 2048.0
MAX_RSS_GROWTH_2N = 1.3
MAX_TOTAL_MINUTES = 15.0


# ------------------------------------------------------------------------------------------- data sets
def link_copy(src_raw_days: list[Path], dst_data_dir: Path, copies: int) -> None:
    """A data dir whose raw days hold `copies` hard links of each source file (names made unique)."""
    copy_config(dst_data_dir, REPO)
    for day_dir in src_raw_days:
        target = dst_data_dir / "raw" / "request_logs" / day_dir.name
        target.mkdir(parents=True, exist_ok=True)
        for f in sorted(day_dir.iterdir()):
            for i in range(copies):
                dst = target / (f.name if i == 0 else f"copy{i}-{f.name}")
                try:
                    os.link(f, dst)
                except OSError:  # another file system: a real copy
                    shutil.copy(f, dst)


# ----------------------------------------------------------------------------------------- measurement
def run_step(step: str, data_dir: Path, scratch: Path) -> dict:
    """Run one step in a fresh interpreter; its JSON (with its own peak RSS) plus the process wall time."""
    result_path = scratch / f"{step}-{time.monotonic_ns()}.json"
    log_path = result_path.with_suffix(".log")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["INCIDENTS_DATA_DIR"] = str(data_dir)
    env["INCIDENTS_CONFIG"] = str(data_dir / "config" / "providers.yaml")
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "steps.py"), step, str(data_dir), str(result_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=env,
        )
        proc.wait()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(
            f"step {step} on {data_dir} failed ({proc.returncode}):\n{log_path.read_text()[-3000:]}"
        )
    result = json.loads(result_path.read_text())
    result.update(
        peak_rss_mb=round(result.pop("peak_rss_kb") / 1024, 1),
        rss_after_import_mb=round(result.pop("rss_after_import_kb") / 1024, 1),
        process_seconds=round(wall, 3),
        load_avg_1m=round(load, 2),
    )
    return result


class Recorder:
    def __init__(self, scratch: Path, verbose: bool = True) -> None:
        self.scratch = scratch
        self.verbose = verbose
        self.runs: dict[tuple[str, str], list[dict]] = {}
        self.rows: dict[str, int] = {}

    def measure(self, step: str, dataset: str, data_dir: Path) -> dict:
        result = run_step(step, data_dir, self.scratch)
        self.runs.setdefault((step, dataset), []).append(result)
        if self.verbose:
            print(
                f"  {step:<16} {dataset:<9} {result['seconds']:8.2f} s  peak RSS {result['peak_rss_mb']:7.1f} MB"
                f"  (load {result['load_avg_1m']:.1f})",
                flush=True,
            )
        return result

    def summary(self) -> list[dict]:
        out = []
        for (step, dataset), runs in self.runs.items():
            rows = self.rows[dataset]
            seconds = statistics.median(r["seconds"] for r in runs)
            entry = {
                "step": step,
                "dataset": dataset,
                "rows": rows,
                "repeats": len(runs),
                "median_seconds": round(seconds, 3),
                "all_seconds": [round(r["seconds"], 3) for r in runs],
                "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs), 3),
                "rows_per_second": round(rows / seconds) if seconds > 0 else None,
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "median_peak_rss_mb": round(statistics.median(r["peak_rss_mb"] for r in runs), 1),
                "all_peak_rss_mb": [r["peak_rss_mb"] for r in runs],
                "rss_after_import_mb": max(r["rss_after_import_mb"] for r in runs),
                "load_avg_1m": [r["load_avg_1m"] for r in runs],
            }
            for key in ("rows_out", "rows_in", "rows_quarantined", "parsers", "checksum"):
                if key in runs[-1]:
                    entry[key] = runs[-1][key]
            if "compute_seconds" in runs[-1]:
                entry["median_compute_seconds"] = round(
                    statistics.median(r["compute_seconds"] for r in runs), 3
                )
            if "per_day_seconds" in runs[-1]:
                entry["per_day_seconds"] = [r["per_day_seconds"] for r in runs]
            out.append(entry)
        return out


# ------------------------------------------------------------------------------------------ validation
def lake_fingerprint(lake_root: Path) -> dict:
    """Row count, a few sums and the column types of a day-partitioned lake (engines must agree)."""
    import duckdb

    glob = (lake_root / "day=*" / "*.parquet").as_posix()
    with duckdb.connect() as con:
        row = con.execute(
            # latency has one decimal: summed as whole tenths, so the total does not depend on summation order
            "SELECT count(*), sum(tokens_in), sum(round(latency_ms * 10)::BIGINT), count(error_type), "
            "count(DISTINCT file), "
            "min(ts)::VARCHAR, max(ts)::VARCHAR FROM read_parquet(?)",
            [glob],
        ).fetchall()[0]
        types = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [glob]).fetchall()
    return {
        "rows": row[0],
        "sum_tokens_in": int(row[1] or 0),
        "sum_latency_tenths_ms": int(row[2] or 0),
        "error_types": row[3],
        "files": row[4],
        "ts_range": [row[5], row[6]],
        "columns": {name: kind for name, kind, *_ in types},
    }


# --------------------------------------------------------------------------------------------- report
def _mb(x: float) -> str:
    return f"{x:,.0f}"


def same_totals(a: dict, b: dict) -> bool:
    """SLI checksums agree: counts exactly, float sums up to summation-order noise."""
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=0.2) for k in a)


def build_report(summary: list[dict], total_seconds: float, rows: dict) -> tuple[dict, dict, list[dict]]:
    by = {(s["step"], s["dataset"]): s for s in summary}

    def t(step: str, ds: str) -> float:
        return by[(step, ds)]["median_seconds"]

    def cpu(step: str, ds: str) -> float:
        return by[(step, ds)]["median_cpu_seconds"]

    def rss(step: str, ds: str) -> float:
        return by[(step, ds)]["median_peak_rss_mb"]

    ratios = {
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
        # growth: the single 2N run against the median of the N runs
        "ingest_rss_2n_vs_n": rss("ingest_pipeline", "2N") / rss("ingest_pipeline", "N"),
        "sli_rss_2n_vs_n": rss("sli_pipeline", "2N") / rss("sli_pipeline", "N"),
        "ingest_time_2n_vs_n": t("ingest_pipeline", "2N") / t("ingest_pipeline", "N"),
        "sli_time_2n_vs_n": t("sli_pipeline", "2N") / t("sli_pipeline", "N"),
        "malformed_day_vs_clean_day": t("ingest_pipeline", "day_bad") / t("ingest_pipeline", "day_clean"),
    }
    ratios = {k: round(v, 3) for k, v in ratios.items()}
    pipeline_rss = max(by[(s, "N")]["peak_rss_mb"] for s in ("ingest_pipeline", "sli_pipeline"))  # worst run
    targets = [
        _target(
            "ingest within 1.25x of raw DuckDB", ratios["ingest_pipeline_vs_duckdb"], "<=", MAX_RATIO_TO_RAW
        ),
        _target("SLI within 1.25x of raw DuckDB", ratios["sli_pipeline_vs_duckdb"], "<=", MAX_RATIO_TO_RAW),
        _target(
            f"ingest >= 10x faster than pandas (at {rows['pandas']:,} rows)",
            ratios["ingest_pandas_vs_pipeline"],
            ">=",
            MIN_SPEEDUP_VS_PANDAS,
        ),
        _target(
            f"SLI >= 10x faster than pandas (at {rows['pandas']:,} rows)",
            ratios["sli_pandas_vs_pipeline"],
            ">=",
            MIN_SPEEDUP_VS_PANDAS,
        ),
        _target(f"pipeline peak RSS < 2 GB at N={rows['N']:,} (MB)", pipeline_rss, "<", MAX_RSS_MB),
        _target(
            "ingest peak RSS grows < 1.3x from N to 2N", ratios["ingest_rss_2n_vs_n"], "<", MAX_RSS_GROWTH_2N
        ),
        _target("SLI peak RSS grows < 1.3x from N to 2N", ratios["sli_rss_2n_vs_n"], "<", MAX_RSS_GROWTH_2N),
    ]
    if rows["N"] >= DEFAULT_ROWS:
        targets.append(_target("whole run < 15 min (minutes)", total_seconds / 60, "<", MAX_TOTAL_MINUTES))
    return ratios, {"pipeline_peak_rss_mb_at_n": pipeline_rss}, targets


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
        ("ingest_pipeline", "day_bad"): f"{report['ratios']['malformed_day_vs_clean_day']:.2f}x clean day",
    }
    lines = [
        (
            f"{'step':<22}{'data':<10}{'rows':>11}{'runs':>5}{'median s':>9}{'CPU s':>8}{'rows/s':>11}"
            f"{'peak RSS MB':>12}  ratio"
        ),
        "-" * 120,
    ]
    order = ("N", "2N", "pandas", "day_clean", "day_bad")
    for s in sorted(summary, key=lambda s: (order.index(s["dataset"]), list(LABELS).index(s["step"]))):
        lines.append(
            f"{LABELS[s['step']]:<22}{s['dataset']:<10}{s['rows']:>11,}{s['repeats']:>5}{s['median_seconds']:>9.2f}"
            f"{s['median_cpu_seconds']:>8.2f}{s['rows_per_second']:>11,}{_mb(s['peak_rss_mb']):>12}  "
            f"{ratio_of.get((s['step'], s['dataset']), '')}"
        )
    lines.append("")
    for target in report["targets"]:
        lines.append(
            f"[{'PASS' if target['pass'] else 'FAIL'}] {target['target']}: {target['value']:.2f} "
            f"{target['op']} {target['limit']}"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=None, help=f"rows to generate (default {DEFAULT_ROWS:,})")
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats per measured step (median reported; default 3)"
    )
    parser.add_argument("--quick", action="store_true", help=f"smoke run at {QUICK_ROWS:,} rows")
    parser.add_argument("--days", type=int, default=3, help="UTC days the rows spread over (default 3)")
    parser.add_argument(
        "--pandas-rows",
        type=int,
        default=DEFAULT_PANDAS_ROWS,
        help="rows for the pandas comparison (capped at --rows)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON result path (default benchmarks/results/)"
    )
    parser.add_argument("--work-dir", type=Path, default=None, help="where the temp data dir goes")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args(argv)
    if args.rows is None:
        args.rows = QUICK_ROWS if args.quick else DEFAULT_ROWS
    args.pandas_rows = min(args.pandas_rows, args.rows)
    if args.repeats < 1 or args.rows < args.days * 8:
        parser.error("need --repeats >= 1 and at least 8 rows per day")
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="incidents-bench-", dir=args.work_dir))
    scratch = work / "results"
    scratch.mkdir()
    print(
        f"bench: {args.rows:,} rows over {args.days} days, {args.repeats} repeat(s), data in {work}",
        flush=True,
    )
    print(
        f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} "
        f"on {os.cpu_count()} CPUs",
        flush=True,
    )
    try:
        # ---- data
        t = time.perf_counter()
        n_dir = work / "n"
        manifest = generate(n_dir, args.rows, args.days)
        copy_config(n_dir, REPO)
        gen_seconds = {"N": time.perf_counter() - t}
        datasets = {"N": n_dir}
        if args.pandas_rows < args.rows:
            t = time.perf_counter()
            datasets["pandas"] = work / "pandas"
            pandas_manifest = generate(datasets["pandas"], args.pandas_rows, args.days)
            copy_config(datasets["pandas"], REPO)
            gen_seconds["pandas"] = time.perf_counter() - t
        else:
            datasets["pandas"] = n_dir
            pandas_manifest = manifest
        raw_days = sorted((n_dir / "raw" / "request_logs").iterdir())
        datasets["2N"] = work / "n2"
        link_copy(raw_days, datasets["2N"], copies=2)
        datasets["day_clean"] = work / "day_clean"
        link_copy(raw_days[:1], datasets["day_clean"], copies=1)
        t = time.perf_counter()
        datasets["day_bad"] = work / "day_bad"
        copy_config(datasets["day_bad"], REPO)
        bad = malformed_copy(
            raw_days[0], datasets["day_bad"] / "raw" / "request_logs" / raw_days[0].name, MALFORMED_SHARE
        )
        gen_seconds["day_bad"] = time.perf_counter() - t
        day_rows = sum(f["rows"] for f in manifest["files"] if f["path"].split("/")[2] == raw_days[0].name)
        rows = {
            "N": args.rows,
            "2N": 2 * args.rows,
            "pandas": args.pandas_rows,
            "day_clean": day_rows,
            "day_bad": day_rows,
        }
        print(
            f"generated {args.rows:,} rows ({manifest['bytes'] / 1e6:,.0f} MB) in {gen_seconds['N']:.1f} s",
            flush=True,
        )

        rec = Recorder(scratch)
        rec.rows = rows
        same_as_n = datasets["pandas"] == n_dir
        ingest_steps = ["ingest_pipeline", "ingest_duckdb", "ingest_polars"]
        sli_steps = ["sli_pipeline", "sli_duckdb", "sli_polars"]
        pandas_steps = ["ingest_pandas", "sli_pandas"]
        # ---- N: ingest, then SLI over the pipeline's lake; engines interleaved within each repeat
        print("ingest at N", flush=True)
        for _ in range(args.repeats):
            for step in ingest_steps + pandas_steps[:1] * same_as_n:
                rec.measure(step, "N", n_dir)
        print("SLI at N", flush=True)
        for _ in range(args.repeats):
            for step in sli_steps + pandas_steps[1:] * same_as_n:
                rec.measure(step, "N", n_dir)
        # ---- pandas size: pandas beside the pipeline and the raw engines at the same (smaller) size
        if same_as_n:
            for step in ingest_steps + sli_steps + pandas_steps:
                rec.runs[(step, "pandas")] = rec.runs[(step, "N")]
        else:
            print(f"pandas comparison at {args.pandas_rows:,} rows", flush=True)
            for _ in range(args.repeats):
                for step in ingest_steps + pandas_steps[:1]:
                    rec.measure(step, "pandas", datasets["pandas"])
            for _ in range(args.repeats):
                for step in sli_steps + pandas_steps[1:]:
                    rec.measure(step, "pandas", datasets["pandas"])
        # ---- 2N: peak RSS growth (one repeat)
        print("pipeline at 2N (RSS growth)", flush=True)
        rec.measure("ingest_pipeline", "2N", datasets["2N"])
        rec.measure("sli_pipeline", "2N", datasets["2N"])
        # ---- one day: clean vs 0.01 % malformed lines
        print(f"one day ({day_rows:,} rows): clean vs {bad['broken_lines']} malformed lines", flush=True)
        for _ in range(args.repeats):
            rec.measure("ingest_pipeline", "day_clean", datasets["day_clean"])
            rec.measure("ingest_pipeline", "day_bad", datasets["day_bad"])

        # ---- checks: every engine's lake has the pipeline's rows, sums and column types
        fingerprints = {}
        for engine, ds in (
            ("pipeline", "N"),
            ("duckdb", "N"),
            ("polars", "N"),
            ("pipeline", "pandas"),
            ("duckdb", "pandas"),
            ("polars", "pandas"),
            ("pandas", "pandas"),
        ):
            lake = datasets[ds] / ("lake" if engine == "pipeline" else f"lake_{engine}") / "request_logs"
            fingerprints[f"{engine}@{ds}"] = lake_fingerprint(lake)
        checks = {
            "ingest_same_as_pipeline": {
                key: fp == fingerprints[f"pipeline@{key.split('@')[1]}"]
                for key, fp in fingerprints.items()
                if not key.startswith("pipeline")
            },
            "sli_same_as_pipeline": {
                f"{engine}@{ds}": same_totals(
                    rec.runs[(f"sli_{engine}", ds)][-1]["checksum"],
                    rec.runs[("sli_pipeline", ds)][-1]["checksum"],
                )
                for engine, ds in (
                    ("duckdb", "N"),
                    ("polars", "N"),
                    ("duckdb", "pandas"),
                    ("polars", "pandas"),
                    ("pandas", "pandas"),
                )
            },
            "malformed_rows_quarantined": rec.runs[("ingest_pipeline", "day_bad")][-1]["rows_quarantined"],
            "malformed_lines_written": bad["broken_lines"],
        }
        total_seconds = time.perf_counter() - started
        summary = rec.summary()
        ratios, extra, targets = build_report(summary, total_seconds, rows)
        report = {
            "started_at": started_at.isoformat(timespec="seconds"),
            "total_seconds": round(total_seconds, 1),
            "settings": {
                "rows": args.rows,
                "days": args.days,
                "repeats": args.repeats,
                "pandas_rows": args.pandas_rows,
                "quick": args.quick,
                "malformed_share": MALFORMED_SHARE,
                "two_n": "the N raw files twice per day (hard links under a second name)",
            },
            "machine": _machine(load_start),
            "data": {
                "N": {
                    "rows": args.rows,
                    "bytes": manifest["bytes"],
                    "files": len(manifest["files"]),
                    "generate_seconds": round(gen_seconds["N"], 1),
                },
                "pandas": {"rows": args.pandas_rows, "bytes": pandas_manifest["bytes"]},
                "day_bad": {"rows": day_rows, "broken_lines": bad["broken_lines"]},
            },
            "steps": summary,
            "ratios": ratios,
            **extra,
            "targets": targets,
            "checks": checks,
            "fingerprints": fingerprints,
            "notes": notes(args.pandas_rows),
        }
        report["table"] = format_table(summary, report)
        print()
        print(report["table"])
        print(
            f"\ntotal {total_seconds / 60:.1f} min; load average at end: "
            f"{' '.join(f'{x:.2f}' for x in report['machine']['load_avg_end'])}"
        )
        bad_checks = [
            f"{kind} {key}"
            for kind in ("ingest_same_as_pipeline", "sli_same_as_pipeline")
            for key, same in checks[kind].items()
            if not same
        ]
        if bad_checks:
            print(f"WARNING: results differ from the pipeline's for {bad_checks}")
        _write(report, args.out)
        return report
    finally:
        if args.keep:
            print(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


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
    ]


def _machine(load_start: tuple[float, float, float]) -> dict:
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


def _write(report: dict, out: Path | None) -> None:
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


if __name__ == "__main__":
    main()
