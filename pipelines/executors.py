"""Scale-out: job variants for the multiprocess and Celery executors, and one-process-per-run launching.

Three jobs live here (deploy/README.md shows how they run on several machines):
- `backfill_job`: the per-day assets that already run independently per partition (staging crowd reports,
  app ranks, request logs and the minute SLI mart) on the default executor (multiprocess, or in_process
  via run config). Parallel backfills launch one run per partition, each in its own process.
- `celery_backfill_job`: the same selection on the Celery executor (`celery_env_executor`): every step
  becomes a Celery task that any worker listening on the broker (Redis) can pick up.
- `celery_main_job`: `main_job`'s selection (the whole graph) on the Celery executor, for production.

Runs are started with `execute_job(build_reconstructable_job(...))`, never `dg.materialize()` (that always
runs in-process and ignores the executor), and one process per run: `python -m pipelines.executors run
--job backfill_job --partition 2026-03-02` runs one partition (with `--end`, a range) on the
persistent instance under $DAGSTER_HOME; `launch_partition_runs()` starts such processes, N at a time,
each bounded by a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from dagster_celery import celery_executor
from dagster_celery.executor import CELERY_CONFIG

import assets
from pipelines.core.resources import Workspace
from pipelines.jobs import main_job

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
REPO_ROOT = Path(__file__).resolve().parents[1]

# Wanted in the backfill jobs, in dependency order. A key that is not (yet) a materialisable asset is left
# out, and so is any key whose upstream (outside raw/) is left out: the SLI mart reads staging.request_logs.
BACKFILL_KEYS: tuple[dg.AssetKey, ...] = (
    dg.AssetKey(["staging", "crowd_reports"]),
    dg.AssetKey(["staging", "app_ranks"]),
    dg.AssetKey(["staging", "request_logs"]),
    dg.AssetKey(["marts", "provider_minute_sli"]),
)

# Broker and result backend of the Celery executor when the run config names none (Redis URLs, e.g.
# redis://redis.internal:6379/0); deploy/celery.yaml hands the same variables to the workers.
BROKER_ENV = "DAGSTER_CELERY_BROKER_URL"
BACKEND_ENV = "DAGSTER_CELERY_BACKEND_URL"


def _celery_config_from_env(config: dict) -> dict:
    """dagster-celery's defaults (AMQP on localhost, rpc:// results) replaced by the env vars above."""
    return {**config, "broker": config.get("broker") or {"env": BROKER_ENV},
            "backend": config.get("backend") or {"env": BACKEND_ENV}}


_CELERY_ENV_SCHEMA = {
    **CELERY_CONFIG,
    "broker": dg.Field(dg.Noneable(dg.StringSource), is_required=False, default_value=None,
                       description=f"Celery broker URL; default: the {BROKER_ENV} env var."),
    "backend": dg.Field(dg.Noneable(dg.StringSource), is_required=False, default_value=None,
                        description=f"Celery result backend URL; default: the {BACKEND_ENV} env var."),
}
celery_env_executor = celery_executor.configured(
    _celery_config_from_env, name="celery", config_schema=_CELERY_ENV_SCHEMA,
    description="dagster-celery's executor with broker and backend from env vars (deploy/README.md).",
)

# Imported once per run by the multiprocess executor's forkserver; every step process forks from it.
FORKSERVER_PRELOAD = ("pipelines.executors", "great_expectations")

all_assets = dg.load_assets_from_package_module(assets)
all_asset_checks = dg.load_asset_checks_from_package_module(assets)


def backfill_keys(assets_defs: Iterable[object] = all_assets, wanted: Sequence[dg.AssetKey] = BACKFILL_KEYS
                  ) -> list[dg.AssetKey]:
    """The wanted keys that are materialisable here and whose non-raw upstreams are kept too."""
    upstream: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    for definition in assets_defs:
        if isinstance(definition, dg.AssetsDefinition) and definition.is_executable:
            for key in definition.keys:
                upstream[key] = set(definition.asset_deps.get(key, set()))
    kept: list[dg.AssetKey] = []
    for key in wanted:  # dependency order, so an upstream is decided before its downstreams
        if key not in upstream:
            continue
        missing = [dep for dep in upstream[key] if dep.path[0] != "raw" and dep not in kept]
        if not missing:
            kept.append(key)
    return kept


BACKFILL_SELECTION = dg.AssetSelection.assets(*backfill_keys())

backfill_job = dg.define_asset_job(
    "backfill_job",
    selection=BACKFILL_SELECTION,
    description="Per-day staging tables and the minute SLI mart; launch one run per partition to backfill in parallel.",
)

celery_backfill_job = dg.define_asset_job(
    "celery_backfill_job",
    selection=BACKFILL_SELECTION,
    executor_def=celery_env_executor,
    description="backfill_job with every step run as a Celery task on the workers (broker/backend from env).",
)

celery_main_job = dg.define_asset_job(
    "celery_main_job",
    selection=main_job.selection,
    executor_def=celery_env_executor,
    description="main_job with every step run as a Celery task on the workers (broker/backend from env).",
)

scale_out_jobs = [backfill_job, celery_backfill_job, celery_main_job]

# Our own code location over the same assets (pipelines/definitions.py is the main one); runs resolve
# their job from here, in the launching process, in step subprocesses and in Celery workers alike.
defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_asset_checks,
    jobs=scale_out_jobs,
    resources={"workspace": Workspace()},
)


def job_named(name: str) -> dg.JobDefinition:
    """Reconstructor for `build_reconstructable_job`: the job of that name in this module's Definitions."""
    return defs.resolve_job_def(name)


def reconstructable_job(name: str):
    """A job that can cross process boundaries (step subprocesses, Celery workers on other machines)."""
    return dg.build_reconstructable_job("pipelines.executors", "job_named", reconstructable_args=(name,))


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
        config: dict = {}
        if broker:
            config["broker"] = broker
        if backend:
            config["backend"] = backend
        return {"execution": {"config": config}}
    raise ValueError(f"unknown executor {executor!r}: choose in_process, multiprocess or celery")


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

    Each process is `python -m pipelines.executors run ...` with `env` (DAGSTER_HOME, INCIDENTS_* ...);
    one that outlives `timeout_s` is killed and reported with returncode None.
    """
    origin = time.monotonic()
    config_text = json.dumps(dict(run_config))
    process_env = dict(os.environ if env is None else env)
    process_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), process_env.get("PYTHONPATH")]))

    def one(partition: str) -> RunOutcome:
        started = time.monotonic()
        command = [sys.executable, "-m", "pipelines.executors", "run", "--job", job_name,
                   "--partition", partition, "--run-config", config_text]
        try:
            done = subprocess.run(command, cwd=REPO_ROOT, env=process_env, capture_output=True, text=True,
                                  timeout=timeout_s, check=False)
            returncode, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as exc:  # subprocess.run kills the child before raising
            returncode, output = None, f"timed out after {timeout_s:.0f} s\n{_text(exc.stdout)}{_text(exc.stderr)}"
        summary = _summary_line(output)
        return RunOutcome(
            partition=partition, returncode=returncode, run_id=summary.get("run_id"),
            success=returncode == 0 and bool(summary.get("success")), failed_steps=summary.get("failed_steps", []),
            started_s=round(started - origin, 2), elapsed_s=round(time.monotonic() - started, 2), output=output,
        )

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        return list(pool.map(one, partitions))


def warehouse_snapshot(path: Path) -> dict[str, pl.DataFrame]:
    """Every staging/marts/quarantine table and view of a warehouse, rows sorted by every column.

    Two backfills of the same raw files must give equal snapshots whatever the executor, the number of
    machines or the order the partitions ran in: compare a distributed backfill with a local one this way.
    """
    with duckdb.connect(str(path), read_only=True) as con:
        names = [f"{schema}.{table}" for schema, table in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('staging', 'marts', 'quarantine') ORDER BY 1, 2").fetchall()]
        frames = {name: con.sql(f"SELECT * FROM {name}").pl() for name in names}  # names come from the catalog
    return {name: _sorted_rows(frame) for name, frame in frames.items()}


def _sorted_rows(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    keys = [pl.col(c).cast(pl.String) if isinstance(t, (pl.List, pl.Struct, pl.Array)) else pl.col(c)
            for c, t in frame.schema.items()]
    return frame.sort(keys, nulls_last=True)


SUMMARY_PREFIX = "incidents-run-summary: "


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _summary_line(output: str) -> dict:
    for line in reversed(output.splitlines()):
        if line.startswith(SUMMARY_PREFIX):
            return json.loads(line[len(SUMMARY_PREFIX):])
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.executors",
                                     description="Run one Dagster run of a scale-out job in this process.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one run for a partition (or a range with --end)")
    run.add_argument("--job", default="backfill_job", choices=[job.name for job in scale_out_jobs])
    run.add_argument("--partition", required=True, help="UTC day YYYY-MM-DD (the range start with --end)")
    run.add_argument("--end", default=None, help="last UTC day of a range run (inclusive)")
    run.add_argument("--executor", default=None, choices=["in_process", "multiprocess", "celery"],
                     help="executor (default: the job's own; celery jobs read the broker from env)")
    run.add_argument("--max-concurrent", type=int, default=2, help="steps at a time (multiprocess)")
    run.add_argument("--run-config", default=None, help="run config as JSON (overrides --executor)")
    args = parser.parse_args(argv)

    if args.run_config:
        run_config = json.loads(args.run_config)
    elif args.executor:
        run_config = executor_run_config(args.executor, args.max_concurrent)
    else:
        run_config = {}
    result = run_partitions(args.job, args.partition, args.end, run_config)
    failed = sorted({event.step_key for event in result.all_events if event.is_step_failure})
    print(SUMMARY_PREFIX + json.dumps({"run_id": result.run_id, "success": result.success, "failed_steps": failed}))
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
