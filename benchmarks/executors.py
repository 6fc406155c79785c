"""Which executor pays for `incidents run`: the same range in-process and on the multiprocess executor.

`python benchmarks/executors.py [--days 7] [--scale 0.2] [--repeats 1]` writes the demo scenario's first
`--days` days at `--scale` once, then runs the whole range on a fresh copy per executor and repeat
(engines interleaved) and prints wall time, peak RSS and the slowest steps of each. The multiprocess
executor is the one `incidents run` uses for long ranges: forkserver preloading the code location and
Great Expectations, two steps at a time (pipelines/backfill.py `executor_run_config`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from whole_run import fresh_copy, incidents_run, write_scenario

EXECUTORS = ("in_process", "multiprocess")
SCENARIO_START = dt.date(2026, 3, 1)  # the week of the March 2026 outages


def compare(days: int, scale: float, repeats: int, work: Path) -> dict:
    start, end = SCENARIO_START, SCENARIO_START + dt.timedelta(days=days - 1)
    world = work / "world"
    write_scenario(world, start, end, scale)
    runs: dict[str, list[dict]] = {name: [] for name in EXECUTORS}
    for repeat in range(repeats):
        for name in EXECUTORS:
            data_dir = fresh_copy(world, work / f"{name}-{repeat}")
            result = incidents_run(data_dir, start, end, work / f"{name}-{repeat}.log", executor=name)
            runs[name].append(result)
            print(f"  {name:<13} {result['seconds']:7.1f} s  peak RSS {result['peak_rss_mb']:6.0f} MB  "
                  f"(load {result['load_avg_1m']:.1f})  slowest: "
                  + ", ".join(f"{s['step']} {s['seconds']:.1f}" for s in result["slowest_steps"][:3]), flush=True)
    best = {name: min(r["seconds"] for r in results) for name, results in runs.items()}
    return {"days": days, "scale": scale, "start": start.isoformat(), "end": end.isoformat(), "runs": runs,
            "best_seconds": best, "multiprocess_vs_in_process": round(best["multiprocess"] / best["in_process"], 3)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=7, help="days of the scenario from 2026-03-01 (default 7)")
    parser.add_argument("--scale", type=float, default=0.2, help="request-log volume factor (default 0.2)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="JSON result path")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="incidents-executors-"))
    try:
        report = compare(args.days, args.scale, args.repeats, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"multiprocess / in-process: {report['multiprocess_vs_in_process']:.2f}x")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
