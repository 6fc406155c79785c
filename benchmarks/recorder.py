"""Measuring engine steps: each in a fresh interpreter (benchmarks/steps.py), medians per step and data set."""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from whole_run import REPO, copy_configs

HERE = Path(__file__).resolve().parent


def link_copy(src_raw_days: list[Path], dst_data_dir: Path, copies: int) -> None:
    """A data dir whose raw days hold `copies` hard links of each source file (names made unique)."""
    copy_configs(dst_data_dir)
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



def same_totals(a: dict, b: dict) -> bool:
    """SLI checksums agree: counts exactly, float sums up to summation-order noise."""
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=0.2) for k in a)

