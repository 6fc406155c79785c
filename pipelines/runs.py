"""Launching `main_job` for a range of UTC days on the persistent instance, with a progress bar.

Runs go through Dagster (not around it), so every run of the CLI shows up in `dagster dev`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import uuid
from contextlib import nullcontext
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pipelines.backfill import RANGE_END_TAG, RANGE_START_TAG, executor_run_config, reconstructable_job
from pipelines.core import chart_process, gx_process
from pipelines.core.settings import get_settings
from pipelines.core.warehouse import kept_open
from pipelines.core.window import Window
from pipelines.idle_sources import idle_assets
from pipelines.instance_storage import relax_instance_sync

INVOCATION_TAG = "incidents/invocation"
# The multiprocess executor (forkserver preloading the code location and Great Expectations, two steps at a
# time) costs a process per step and pays only when long steps can run side by side on idle cores: on a
# week of the demo at 0.2x on 2 cores it took 2.2x the in-process time (benchmarks/README.md, "Executor").
# So: in-process, unless the range is long and the machine has cores to spare beyond DuckDB's own threads.
MULTIPROCESS_FROM_DAYS = 32
MULTIPROCESS_MIN_CPUS = 4
console = Console()


def choose_executor(start: dt.date, end: dt.date, cpus: int | None = None) -> str:
    """The executor that pays for the range: `in_process` for a day, a short range or a small machine."""
    long_range = (end - start).days + 1 >= MULTIPROCESS_FROM_DAYS
    spare_cores = (cpus or os.cpu_count() or 1) >= MULTIPROCESS_MIN_CPUS
    return "multiprocess" if long_range and spare_cores else "in_process"


def instance() -> dg.DagsterInstance:
    """The persistent instance under $DAGSTER_HOME (default ./.dagster, seeded with ./dagster.yaml)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and Path("dagster.yaml").exists():
        shutil.copy("dagster.yaml", home / "dagster.yaml")
    relax_instance_sync()
    return dg.DagsterInstance.get()


def _watch(instance: dg.DagsterInstance, invocation: str, total_steps: int, done: threading.Event) -> None:
    """Poll the run's event log and advance a progress bar per finished step (read-only: no Dagster logging;
    each poll reads only the steps finished since the last); one last poll after the run ended, so the bar
    shows every step."""
    ended = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED}
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("materialising", total=total_steps)
        run_id, cursor, completed, latest = None, None, 0, ""
        while True:
            finished = done.wait(0.5)
            if run_id is None:
                runs = instance.get_runs(dg.RunsFilter(tags={INVOCATION_TAG: invocation}), limit=1)
                run_id = runs[0].run_id if runs else None
            if run_id is not None:
                new = instance.get_records_for_run(run_id, cursor=cursor, of_type=ended)
                cursor, completed = new.cursor, completed + len(new.records)
                latest = new.records[-1].event_log_entry.step_key if new.records else latest
                description = "materialised" if finished else f"materialising {latest or ''}".strip()
                progress.update(task, completed=completed, description=description)
            if finished:
                break


def run_range(start: dt.date, end: dt.date, in_process: bool = False, window: Window | None = None,
              select: str | None = None) -> bool:
    """Materialise every asset (or the `select`ed ones) for the UTC days [start, end] as one Dagster run on the
    persistent instance; the window-wide marts and pages analyse `window` (default: the same days).

    `in_process=True` forces the in-process executor; otherwise `choose_executor` picks it by the range.
    """
    if end < start:
        raise ValueError(f"--end {end} is before --start {start}")
    executor = "in_process" if in_process else choose_executor(start, end)
    return execute_range(start, end, executor, window or Window(start, end, "run"), select)


def selected_keys(select: str) -> list[dg.AssetKey]:
    """The asset keys a Dagster selection string names (e.g. `group:reports`, `key:marts/*`)."""
    from pipelines.definitions import defs

    keys = dg.AssetSelection.from_coercible(select).resolve(defs.resolve_asset_graph())
    executable = {k for k in keys if defs.resolve_asset_graph().get(k).is_materializable}
    if not executable:
        raise ValueError(f"--select {select!r} names no asset that can be materialised")
    return sorted(executable, key=lambda k: k.to_user_string())


def execute_range(start: dt.date, end: dt.date, executor: str, window: Window | None = None,
                  select: str | None = None) -> bool:
    """One run of `main_job` (or its `select`ed assets) for [start, end] on `executor`."""
    if executor == "in_process":
        gx_process.warm_up()  # Great Expectations loads on the other core while the code location loads
    else:
        gx_process.stop()  # started early by `incidents run`; the steps validate and draw in their own processes
        chart_process.stop()
    from pipelines.definitions import job_named

    persistent = instance()
    invocation = uuid.uuid4().hex
    window = window or Window(start, end, "run")
    # The range is what is ingested (partitions); the window is what the window-wide marts analyse.
    tags = {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat(), INVOCATION_TAG: invocation,
            **window.tags()}
    keys = selected_keys(select) if select else None
    if keys is None and (idle := idle_assets(get_settings(), start, end)):
        # sources without data in the range cost nothing: their per-day assets stay out of the run
        keys = sorted(set(job_named("main_job").asset_layer.executable_asset_keys) - idle,
                      key=lambda k: k.to_user_string())
        console.print(f"no raw data in {start} .. {end} for: "
                      + ", ".join(sorted(k.to_user_string() for k in idle)) + " (left out of the run)")
    # Step logs stay in the run's event log (see `make dev`); the terminal shows the progress bar and warnings.
    run_config = {**executor_run_config(executor), "loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    job = job_named("main_job")
    steps = len((job.get_subset(asset_selection=set(keys)) if keys else job).nodes)
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(persistent, invocation, steps, done), daemon=True)
    watcher.start()
    # In-process steps share one open warehouse (a new DuckDB instance per connection costs ~15 ms); step
    # processes of the other executors connect for their writes only, so they do not hold each other up.
    keep = kept_open(get_settings().warehouse_path) if executor == "in_process" else nullcontext()
    try:
        with keep:
            result = dg.execute_job(reconstructable_job("main_job"), instance=persistent, tags=tags,
                                    run_config=run_config, asset_selection=keys)
    finally:
        done.set()
        watcher.join()
        persistent.dispose()
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    if result.success:
        console.print(f"[green]run {result.run_id} succeeded[/] ({start} .. {end})")
    else:
        console.print(f"[red]run {result.run_id} failed[/]: steps {', '.join(failed) or '(none)'}; see `make dev`")
    return result.success
