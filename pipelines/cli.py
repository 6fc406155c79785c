"""The `incidents` command: demo, run, backfill, fetch. Runs go through Dagster, so they show up in `dagster dev`."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
import uuid
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pipelines.backfill import EXECUTORS, RANGE_END_TAG, RANGE_START_TAG
from pipelines.core.partitions import SCENARIO_END, SCENARIO_START
from pipelines.core.settings import get_settings

app = typer.Typer(help="Incident analytics for AI providers.", no_args_is_help=True, add_completion=False)
console = Console()
INVOCATION_TAG = "incidents/invocation"


def _instance():
    """The persistent instance under $DAGSTER_HOME (default ./.dagster, seeded with ./dagster.yaml)."""
    import dagster as dg

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and Path("dagster.yaml").exists():
        shutil.copy("dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.get()


def _main_job():
    from pipelines.definitions import job_named

    return job_named("main_job")


def _parse_day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{option} must be a date like 2026-03-02, got {text!r}") from None


def _watch(instance, invocation: str, total_steps: int, done: threading.Event) -> None:
    """Poll the run's event log and advance a progress bar per finished step (read-only: no Dagster logging)."""
    from dagster import DagsterEventType, RunsFilter

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("materialising", total=total_steps)
        while not done.wait(0.5):
            runs = instance.get_runs(RunsFilter(tags={INVOCATION_TAG: invocation}), limit=1)
            if not runs:
                continue
            records = instance.get_records_for_run(runs[0].run_id, of_type={
                DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE, DagsterEventType.STEP_SKIPPED}).records
            latest = records[-1].event_log_entry.step_key if records else ""
            progress.update(task, completed=len(records), description=f"materialising {latest or ''}".strip())
        progress.update(task, completed=progress.tasks[0].completed)


def run_range(start: dt.date, end: dt.date, in_process: bool = False) -> bool:
    """Materialise every asset for the UTC days [start, end] as one Dagster run on the persistent instance."""
    import dagster as dg

    from pipelines.backfill import reconstructable_job

    if end < start:
        raise typer.BadParameter("--end must not be before --start")
    instance = _instance()
    invocation = uuid.uuid4().hex
    tags = {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat(), INVOCATION_TAG: invocation}
    executor = {"in_process": {}} if in_process else {"multiprocess": {"max_concurrent": 2}}
    # Step logs stay in the run's event log (see `make dev`); the terminal shows the progress bar and warnings.
    run_config = {"execution": {"config": executor}, "loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    steps = len(_main_job().nodes)
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(instance, invocation, steps, done), daemon=True)
    watcher.start()
    try:
        result = dg.execute_job(reconstructable_job("main_job"), instance=instance, tags=tags, run_config=run_config)
    finally:
        done.set()
        watcher.join()
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    if result.success:
        console.print(f"[green]run {result.run_id} succeeded[/] ({start} .. {end})")
    else:
        console.print(f"[red]run {result.run_id} failed[/]: steps {', '.join(failed) or '(none)'}; see `make dev`")
    return result.success


@app.command()
def run(
    start: str = typer.Option(..., help="first UTC day, YYYY-MM-DD"),
    end: str = typer.Option(..., help="last UTC day (inclusive), YYYY-MM-DD"),
    in_process: bool = typer.Option(False, help="run every step in this process (no subprocess per step)"),
) -> None:
    """Materialise every asset (ingest, staging, marts, reports) for a UTC date range, through Dagster."""
    ok = run_range(_parse_day(start, "--start"), _parse_day(end, "--end"), in_process=in_process)
    raise typer.Exit(0 if ok else 1)


@app.command()
def demo(seed: int = typer.Option(2026, help="scenario seed"), scale: float = typer.Option(1.0, help="volume factor")) -> None:
    """Build the bundled synthetic scenario into the data dir and run everything on it."""
    from pipelines.scenario import generate

    settings = get_settings()
    with console.status(f"generating the bundled scenario into {settings.data_dir} ..."):
        truth = generate(settings.data_dir, seed=seed, start=SCENARIO_START, end=SCENARIO_END, scale=scale,
                         config=settings.config_path)
    written = ", ".join(f"{source} {rows:,}" for source, rows in truth.rows.items())
    console.print(f"scenario written ({SCENARIO_START} .. {SCENARIO_END}, seed {seed}): {written} records")
    ok = run_range(dt.date.fromisoformat(SCENARIO_START), dt.date.fromisoformat(SCENARIO_END), in_process=True)
    index = settings.reports_dir / "index.html"
    if ok:
        console.print(f"reports: {index}")
    raise typer.Exit(0 if ok else 1)


@app.command()
def backfill(
    start: str = typer.Option(..., help="UTC day YYYY-MM-DD (the first day with --end)"),
    end: str = typer.Option(None, help="last UTC day of a range run (inclusive)"),
    job: str = typer.Option("backfill_job", help="backfill_job, celery_backfill_job, main_job or celery_main_job"),
    executor: str = typer.Option(None, help=f"one of {', '.join(EXECUTORS)} (default: the job's own)"),
    max_concurrent: int = typer.Option(2, help="steps at a time (multiprocess)"),
    run_config: str = typer.Option(None, help="run config as JSON (overrides --executor)"),
) -> None:
    """One Dagster run of a job for one partition (or a range) in this process: the unit of a parallel
    or distributed backfill (deploy/README.md). Its last line is a JSON summary."""
    from pipelines.backfill import executor_run_config, run_partitions, summary_line

    first = _parse_day(start, "--start").isoformat()
    last = _parse_day(end, "--end").isoformat() if end else None
    if run_config:
        config = json.loads(run_config)
    elif executor:
        config = executor_run_config(executor, max_concurrent)
    else:
        config = {}
    _instance()
    result = run_partitions(job, first, last, config)
    print(summary_line(result), flush=True)
    raise typer.Exit(0 if result.success else 1)


@app.command()
def fetch() -> None:
    """Pull live status pages and App Store charts over HTTP into raw/ (earlier snapshots are never touched)."""
    from assets.ingest.fetch import fetch_all
    from pipelines.core.config import load_providers

    settings = get_settings()
    report = fetch_all(settings, load_providers(settings.config_path))
    for line in report.lines():
        console.print(line)
    raise typer.Exit(0 if report.ok else 1)


if __name__ == "__main__":
    app()
