"""The whole pipeline as a user runs it: `incidents run --start D --end D` in a fresh process.

Each run gets its own data dir, reports dir and Dagster instance (DAGSTER_HOME inside the data dir), so
runs never share state. Measured per run: wall time of the command (interpreter start and imports
included: that is what a user waits for), peak RSS of the largest process of the run (`wait4` of the
command: the maximum over it and every step process it waited for) and the five slowest steps from the
Dagster run's own step stats.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SLOWEST_STEPS = 5


def copy_configs(data_dir: Path) -> Path:
    """The tracked config files (providers, cost model) inside `data_dir`; returns the providers file."""
    target = data_dir / "config"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted((REPO / "data" / "config").glob("*.yaml")):
        shutil.copy(path, target / path.name)
    return target / "providers.yaml"


def write_scenario(data_dir: Path, start: dt.date, end: dt.date, scale: float,
                   sources: tuple[str, ...] = ("status_pages", "app_rankings", "crowd_reports", "request_logs")) -> None:
    """The demo scenario's raw files for [start, end] (only `sources`) in `data_dir`, written in a subprocess."""
    config = copy_configs(data_dir)
    code = ("import sys; from pipelines.scenario import generate; "
            "generate(sys.argv[1], start=sys.argv[2], end=sys.argv[3], scale=float(sys.argv[4]), "
            "sources=sys.argv[5].split(','), config=sys.argv[6])")
    subprocess.run([sys.executable, "-c", code, str(data_dir), start.isoformat(), end.isoformat(), str(scale),
                    ",".join(sources), str(config)], cwd=REPO, env=run_env(data_dir), check=True, capture_output=True)


def fresh_copy(source: Path, target: Path, start: dt.date | None = None) -> Path:
    """A new data dir with `source`'s raw files (hard links) and config: no warehouse, lake or instance yet.
    With `start`, only the raw files of that day and later (`history_slice`)."""
    shutil.copytree(source / "config", target / "config")
    shutil.copytree(source / "raw", target / "raw", copy_function=_link,
                    ignore=None if start is None else _before(source / "raw", start))
    return target


def history_slice(source: Path, target: Path, start: dt.date) -> Path:
    """`source` with a shorter past: its config and the raw files of `start` and later, day folders by their
    name (raw/<source>/YYYY-MM-DD/), status-page snapshots by the UTC day of their stamp (YYYYMMDDTHHMMSSZ...).
    The days both hold are the same bytes."""
    return fresh_copy(source, target, start)


def _before(raw: Path, start: dt.date):
    """A copytree `ignore`: the day folders and snapshot files of days before `start`."""
    def ignored(directory: str, names: list[str]) -> set[str]:
        parts = Path(directory).relative_to(raw).parts
        if len(parts) == 1 and parts[0] != "status_pages":  # raw/<source>: day folders
            return {n for n in names if dt.date.fromisoformat(n) < start}
        if len(parts) == 2 and parts[0] == "status_pages":  # raw/status_pages/<provider>: snapshots
            return {n for n in names if dt.datetime.strptime(n[:8], "%Y%m%d").date() < start}
        return set()
    return ignored


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system: a real copy
        shutil.copy2(src, dst)


def run_env(data_dir: Path) -> dict[str, str]:
    """Environment of a run on `data_dir`: the contract env vars and a Dagster instance of its own."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(
        INCIDENTS_DATA_DIR=str(data_dir),
        INCIDENTS_REPORTS_DIR=str(data_dir / "reports"),
        INCIDENTS_CONFIG=str(data_dir / "config" / "providers.yaml"),
        DAGSTER_HOME=str(data_dir / ".dagster"),
    )
    return env


# Linux carries a process's peak RSS across fork and exec, so a command started straight from this (large)
# benchmark process would report at least this process's peak. A bare interpreter (-S, ~10 MB) starts the
# command instead and reports the peak of the command's processes (wait4: it and every child it waited for).
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def timed_command(command: list[str], env: dict[str, str], log_path: Path) -> dict:
    """Run `command`; wall seconds, the largest process's peak RSS (MB) and the 1-minute load at start."""
    load = os.getloadavg()[0]
    peak_file = log_path.with_suffix(".peak_rss_kb")
    started = time.perf_counter()
    with open(log_path, "w") as log:
        returncode = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, str(peak_file), *command],
                                    check=False, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env).returncode
    seconds = time.perf_counter() - started
    if returncode != 0:
        raise RuntimeError(f"{' '.join(command[-6:])} failed ({returncode}):\n{log_path.read_text()[-3000:]}")
    return {"seconds": round(seconds, 3), "peak_rss_mb": round(int(peak_file.read_text()) / 1024, 1),
            "load_avg_1m": round(load, 2)}


def incidents_run(data_dir: Path, start: dt.date, end: dt.date, log_path: Path,
                  executor: str | None = None) -> dict:
    """`incidents run` for [start, end] (the executor it chooses), or one forced executor; with step stats."""
    if executor is None:
        command = [sys.executable, "-m", "pipelines", "run", "--start", start.isoformat(),
                   "--end", end.isoformat()]
    else:  # the same run on a given executor (for the executor comparison)
        code = ("import sys, datetime as dt; from pipelines.runs import execute_range; "
                "sys.exit(0 if execute_range(*map(dt.date.fromisoformat, sys.argv[1:3]), sys.argv[3]) else 1)")
        command = [sys.executable, "-c", code, start.isoformat(), end.isoformat(), executor]
    env = run_env(data_dir)
    result = timed_command(command, env, log_path)
    result.update(latest_run_steps(Path(env["DAGSTER_HOME"])))
    return result


def latest_run_steps(dagster_home: Path) -> dict:
    """Step count, summed step seconds and the slowest steps of the newest run on that instance."""
    import dagster as dg

    # the instance's event log is configured by $DAGSTER_HOME (dagster.yaml): address it like the run did
    with (mock.patch.dict(os.environ, {"DAGSTER_HOME": str(dagster_home)}),
          dg.DagsterInstance.from_config(str(dagster_home)) as instance):
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_step_stats(run.run_id)
        executor = next(iter(run.run_config.get("execution", {}).get("config", {})), "in_process")
    times = sorted(((s.end_time - s.start_time, s.step_key) for s in stats if s.start_time and s.end_time),
                   reverse=True)
    return {
        "run_id": run.run_id,
        "executor": executor,
        "steps": len(stats),
        "step_seconds_total": round(sum(t for t, _ in times), 2),
        "slowest_steps": [{"step": key, "seconds": round(t, 2)} for t, key in times[:SLOWEST_STEPS]],
    }
