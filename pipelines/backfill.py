"""Backfills: one Dagster run per partition, each in its own process, N at a time, on any executor.

Runs are started with `execute_job(build_reconstructable_job(...))`, never `dg.materialize()` (that always
runs in-process and ignores the executor), and one process per run: `incidents backfill --start D` runs
one partition (with `--end`, a range) on the persistent instance under $DAGSTER_HOME;
`launch_partition_runs()` starts such processes, N at a time, each bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
REPO_ROOT = Path(__file__).resolve().parents[1]
SUMMARY_PREFIX = "incidents-run-summary: "
EXECUTORS = ("in_process", "multiprocess", "celery")

# Imported once per run by the multiprocess executor's forkserver; every step process forks from it.
FORKSERVER_PRELOAD = ("pipelines.definitions", "great_expectations")


def reconstructable_job(name: str):
    """A job of the code location that can cross process boundaries (step subprocesses, Celery workers)."""
    return dg.build_reconstructable_job("pipelines.definitions", "job_named", reconstructable_args=(name,))


def executor_run_config(executor: str, max_concurrent: int = 2, broker: str | None = None,
                        backend: str | None = None) -> dict:
    """Run config selecting the executor: in_process, multiprocess (max_concurrent steps) or celery.

    Multiprocess step processes fork from a forkserver that imported the code location and Great
    Expectations once per run, instead of spawning and re-importing them per step (seconds each).
    """
    if executor == "in_process":
        return {"execution": {"config": {"in_process": {}}}}
    if executor == "multiprocess":
        start_method = {"forkserver": {"preload_modules": list(FORKSERVER_PRELOAD)}}
        return {"execution": {"config": {"multiprocess": {"max_concurrent": max_concurrent,
                                                          "start_method": start_method}}}}
    if executor == "celery":
        config = {key: value for key, value in (("broker", broker), ("backend", backend)) if value}
        return {"execution": {"config": config}}
    raise ValueError(f"unknown executor {executor!r}: choose {', '.join(EXECUTORS)}")


def run_partitions(job_name: str, start: str, end: str | None = None, run_config: Mapping | None = None,
                   instance: dg.DagsterInstance | None = None) -> dg.JobExecutionResult:
    """Execute one run of `job_name` for the partition `start` (or the range start..end) in this process.

    The run lands on the persistent instance ($DAGSTER_HOME) so `dagster dev` shows it. Call it once per
    process: Dagster's run set-up is not safe to repeat from several threads of one process.
    """
    if end is None or end == start:
        tags = {"dagster/partition": start}
    else:
        tags = {RANGE_START_TAG: start, RANGE_END_TAG: end}
    job, config = reconstructable_job(job_name), dict(run_config or {})
    if instance is not None:
        return dg.execute_job(job, instance=instance, tags=tags, run_config=config)
    with dg.DagsterInstance.get() as persistent:
        return dg.execute_job(job, instance=persistent, tags=tags, run_config=config)


def summary_line(result: dg.JobExecutionResult) -> str:
    """The last line a backfill process prints, read back by `launch_partition_runs`."""
    failed = sorted({event.step_key for event in result.all_events if event.is_step_failure})
    return SUMMARY_PREFIX + json.dumps({"run_id": result.run_id, "success": result.success, "failed_steps": failed})


@dataclass(frozen=True)
class RunOutcome:
    """One partition run launched in its own process."""

    partition: str
    returncode: int | None  # None: killed after the timeout
    run_id: str | None
    success: bool
    failed_steps: list[str]
    started_s: float  # seconds since the launch of the first run
    elapsed_s: float
    output: str  # the process's stdout and stderr (for diagnostics)


def launch_partition_runs(job_name: str, partitions: Sequence[str], run_config: Mapping, parallel: int = 2,
                          timeout_s: float = 300.0, env: Mapping[str, str] | None = None) -> list[RunOutcome]:
    """Run each partition as its own Dagster run in its own process, `parallel` at a time.

    Each process is `python -m pipelines.cli backfill ...` with `env` (DAGSTER_HOME, INCIDENTS_* ...);
    one that outlives `timeout_s` is killed and reported with returncode None.
    """
    origin = time.monotonic()
    config_text = json.dumps(dict(run_config))
    process_env = dict(os.environ if env is None else env)
    process_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), process_env.get("PYTHONPATH")]))

    def one(partition: str) -> RunOutcome:
        started = time.monotonic()
        command = [sys.executable, "-m", "pipelines.cli", "backfill", "--job", job_name,
                   "--start", partition, "--run-config", config_text]
        try:
            done = subprocess.run(command, cwd=REPO_ROOT, env=process_env, capture_output=True, text=True,
                                  timeout=timeout_s, check=False)
            returncode, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:  # subprocess.run kills the child before raising
            returncode, output = None, f"timed out after {timeout_s:.0f} s\n{_text(exc.stdout)}{_text(exc.stderr)}"
        summary = _read_summary(output)
        return RunOutcome(
            partition=partition, returncode=returncode, run_id=summary.get("run_id"),
            success=returncode == 0 and bool(summary.get("success")), failed_steps=summary.get("failed_steps", []),
            started_s=round(started - origin, 2), elapsed_s=round(time.monotonic() - started, 2), output=output,
        )

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, partitions))


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _read_summary(output: str) -> dict:
    for line in reversed(output.splitlines()):
        if line.startswith(SUMMARY_PREFIX):
            return json.loads(line[len(SUMMARY_PREFIX):])
    return {}
