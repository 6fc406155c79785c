"""Smoke run of `make bench`'s engine steps at a tiny size: every measured step is in the JSON with positive numbers.

The whole-pipeline runs are smoke-tested in test_whole_run_smoke.py."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STEPS = {
    "N": {"ingest_pipeline", "ingest_duckdb", "ingest_polars", "sli_pipeline", "sli_duckdb", "sli_polars"},
    "2N": {"ingest_pipeline", "ingest_duckdb", "sli_pipeline", "sli_duckdb"},
    "pandas": {
        "ingest_pipeline",
        "ingest_duckdb",
        "ingest_polars",
        "ingest_pandas",
        "sli_pipeline",
        "sli_duckdb",
        "sli_polars",
        "sli_pandas",
    },
    "day_clean": {"ingest_pipeline"},
    "day_bad": {"ingest_pipeline"},
}


def test_quick_bench_writes_every_step(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "run.py"),
            "--quick",
            "--repeats",
            "1",
            "--rows",
            "60000",
            "--out",
            str(out),
            "--work-dir",
            str(tmp_path),
            "--no-whole-runs",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(out.read_text())
    measured = {(s["step"], s["dataset"]): s for s in report["steps"]}
    for dataset, steps in STEPS.items():
        for step in steps:
            entry = measured[(step, dataset)]
            assert entry["repeats"] == 1
            assert entry["median_seconds"] > 0 and entry["rows_per_second"] > 0
            assert entry["peak_rss_mb"] > 0
    assert report["ratios"] and all(v > 0 for v in report["ratios"].values())
    assert {t["target"].split(" (")[0] for t in report["targets"]} >= {"ingest within 1.1x of raw DuckDB"}
    # every engine produced the pipeline's rows and totals; the broken lines were all quarantined
    assert all(report["checks"]["ingest_same_as_pipeline"].values())
    assert all(report["checks"]["sli_same_as_pipeline"].values())
    assert report["checks"]["malformed_rows_quarantined"] == report["checks"]["malformed_lines_written"] > 0
    assert len(report["machine"]["load_avg_start"]) == 3
    assert not list(tmp_path.glob("incidents-bench-*")), "the temp data dir is removed"
