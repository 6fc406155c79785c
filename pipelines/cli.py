"""The `incidents` command: check, demo, run, backfill, fetch. Runs go through Dagster (`dagster dev` shows them).

Where things live comes from the contract env vars (INCIDENTS_DATA_DIR, INCIDENTS_REPORTS_DIR,
INCIDENTS_CONFIG); the global flags --data-dir/--reports-dir/--config override them for one command.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import os
import sys
import threading
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from pipelines.backfill import EXECUTORS
from pipelines.core.preflight import check_range, check_setup, find_evidence
from pipelines.core.settings import get_settings
from pipelines.runs import console, run_range

app = typer.Typer(help="Incident analytics for AI providers.", no_args_is_help=True, add_completion=False)
DAY = {"formats": ["%Y-%m-%d"], "metavar": "YYYY-MM-DD"}
Start = Annotated[dt.datetime, typer.Option(help="first UTC day", **DAY)]
End = Annotated[dt.datetime, typer.Option(help="last UTC day (inclusive)", **DAY)]


def _version(value: bool) -> None:
    if value:
        console.print(f"incidents {version('incidents')}")
        raise typer.Exit()


@app.callback()
def main(
    data_dir: Annotated[Path | None, typer.Option(envvar="INCIDENTS_DATA_DIR",
                                                  help="data dir [default: ./data]")] = None,
    reports_dir: Annotated[Path | None, typer.Option(envvar="INCIDENTS_REPORTS_DIR",
                                                     help="reports dir [default: ./reports]")] = None,
    config: Annotated[Path | None, typer.Option(envvar="INCIDENTS_CONFIG",
                                                help="providers file [default: <data dir>/config/providers.yaml]")] = None,
    _: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version and exit"),
) -> None:
    """Incident analytics for AI providers."""
    for name, value in (("INCIDENTS_DATA_DIR", data_dir), ("INCIDENTS_REPORTS_DIR", reports_dir),
                        ("INCIDENTS_CONFIG", config)):
        if value is not None:
            os.environ[name] = str(value.resolve())


def _refuse(problems: list[str]) -> None:
    """Print each problem once, one line each, and stop with exit code 2."""
    for problem in problems:
        console.print(f"[red]error:[/] {problem}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _preflight(start: dt.date | None = None, end: dt.date | None = None) -> None:
    settings = get_settings()
    if problems := check_setup(settings):
        _refuse(problems)
    if start is None or end is None:
        return
    if reason := check_range(start, end, find_evidence(settings, start, end)):
        _refuse([reason])


@app.command()
def check() -> None:
    """Validate both config files and the data dir's layout (seconds); exit 2 on any mistake."""
    settings = get_settings()
    if problems := check_setup(settings):
        _refuse(problems)
    console.print(f"config {settings.config_path} and data dir {settings.data_dir}: OK")


@app.command()
def run(
    start: Start,
    end: End,
    in_process: bool = typer.Option(
        False, help="force the in-process executor (default: chosen by the range and the CPU count)"),
    select: str = typer.Option(None, help="only these assets, as a Dagster selection (e.g. 'group:marts')"),
    window_start: Annotated[dt.datetime | None, typer.Option(
        help="first day of the analysed window, if other than --start", **DAY)] = None,
    window_end: Annotated[dt.datetime | None, typer.Option(
        help="last day of the analysed window, if other than --end", **DAY)] = None,
) -> None:
    """Materialise every asset (ingest, staging, marts, reports) for a UTC date range, through Dagster.

    The range is also the analysed window of the window-wide marts and pages, unless --window-start/--window-end
    say otherwise."""
    _preflight(start.date(), end.date())
    window = _window(start.date(), end.date(), window_start, window_end)
    raise typer.Exit(0 if _interruptible(run_range, start.date(), end.date(), in_process, window, select) else 1)


@app.command()
def reports(
    window_start: Annotated[dt.datetime | None, typer.Option(help="first day of the analysed window", **DAY)] = None,
    window_end: Annotated[dt.datetime | None, typer.Option(help="last day of the analysed window", **DAY)] = None,
) -> None:
    """Rebuild the pages from the marts only (no ingest, no marts), for the config's analysed window or the
    given one."""
    from pipelines.core.config import load_providers
    from pipelines.core.window import analysis_window

    _preflight()
    settings = get_settings()
    if not settings.warehouse_path.is_file():
        _refuse([f"{settings.warehouse_path}: no warehouse yet; run `incidents run` (or `incidents demo`) first"])
    default = analysis_window(load_providers(settings.config_path))
    window = _window(default.start, default.end, window_start, window_end)
    ok = _interruptible(run_range, window.start, window.end, True, window, "group:reports")
    if ok:
        console.print(f"reports: {settings.reports_dir / 'index.html'}")
    raise typer.Exit(0 if ok else 1)


def _window(start: dt.date, end: dt.date, window_start: dt.datetime | None, window_end: dt.datetime | None):
    from pipelines.core.window import Window

    window = Window(window_start.date() if window_start else start, window_end.date() if window_end else end, "run")
    if window.end < window.start:
        _refuse([f"the analysed window ends ({window.end}) before it starts ({window.start})"])
    return window


def _interruptible(function, *args) -> bool:
    """Run `function`; Ctrl-C ends the command with one line instead of a traceback (exit 130)."""
    try:
        return function(*args)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]: the run stopped; finished partitions are kept, rerun to complete")
        raise typer.Exit(130) from None


@app.command()
def demo(seed: int = typer.Option(2026, help="scenario seed"), scale: float = typer.Option(1.0, help="volume factor")) -> None:
    """Build the bundled synthetic scenario into the data dir and run everything on it."""
    from pipelines.scenario import generate

    _preflight()
    settings = get_settings()
    with console.status(f"generating the bundled scenario into {settings.data_dir} ..."):
        truth = generate(settings.data_dir, seed=seed, scale=scale, config=settings.config_path)
    written = ", ".join(f"{source} {rows:,}" for source, rows in truth.rows.items())
    console.print(f"scenario written ({truth.start} .. {truth.end}, seed {seed}): {written} records")
    ok = _interruptible(run_range, dt.date.fromisoformat(truth.start), dt.date.fromisoformat(truth.end), True)
    if ok:
        console.print(f"reports: {settings.reports_dir / 'index.html'}")
    raise typer.Exit(0 if ok else 1)


@app.command()
def backfill(
    start: Start,
    end: Annotated[dt.datetime | None, typer.Option(help="last UTC day of a range run (inclusive)", **DAY)] = None,
    job: str = typer.Option("backfill_job", help="backfill_job, celery_backfill_job, main_job or celery_main_job"),
    executor: str = typer.Option(None, help=f"one of {', '.join(EXECUTORS)} (default: the job's own)"),
    max_concurrent: int = typer.Option(2, help="steps at a time (multiprocess)"),
    run_config: str = typer.Option(None, help="run config as JSON (overrides --executor)"),
) -> None:
    """One Dagster run of a job for one partition (or a range) in this process: the unit of a parallel
    or distributed backfill (deploy/README.md). Its last line is a JSON summary."""
    from pipelines.backfill import executor_run_config, run_partitions, summary_line
    from pipelines.runs import instance

    if run_config:
        config = json.loads(run_config)
    else:
        config = executor_run_config(executor, max_concurrent) if executor else {}
    instance()
    result = run_partitions(job, start.date().isoformat(), end.date().isoformat() if end else None, config)
    print(summary_line(result), flush=True)
    raise typer.Exit(0 if result.success else 1)


@app.command()
def providers() -> None:
    """The shipped catalogue of AI providers and what each entry supports; providers.yaml picks from it by name."""
    from rich.table import Table

    from pipelines.core.catalogue import catalogue_rows

    table = Table(title="Provider catalogue (pick by name in providers.yaml)")
    table.add_column("name", no_wrap=True, min_width=max(len(r["name"]) for r in catalogue_rows()))
    for column in ("provider", "status platform", "capabilities", "app", "crowd names", "log names", "verified"):
        table.add_column(column)
    rows = catalogue_rows()
    for row in rows:
        table.add_row(row["name"], row["display_name"], row["platform"], ", ".join(row["capabilities"]),
                      "yes" if row["has_app"] else "no", ", ".join(row["crowd_names"]),
                      ", ".join(row["log_names"]), "yes" if row["verified"] else "no")
    console.print(table)
    console.print(f"{len(rows)} providers")


@app.command()
def fetch() -> None:
    """Pull live status pages and App Store charts over HTTP into raw/ (earlier snapshots are never touched)."""
    from assets.ingest.fetch import fetch_all
    from pipelines.core.config import load_providers

    _preflight()
    settings = get_settings()
    report = fetch_all(settings, load_providers(settings.config_path))
    for line in report.lines():
        console.print(line, soft_wrap=True, highlight=False)
    raise typer.Exit(0 if report.ok else 1)


def entry() -> None:
    """The `incidents` command (and `python -m pipelines.cli`): the command, then a quick exit.

    Tearing down the interpreter frees the run's modules (Dagster, Great Expectations, pandas, Altair: some
    600 MB) object by object, about 1.2 s after every run that the user would wait for. Once the command
    has returned, everything it wrote is closed and committed (warehouse, lake, run storage), so this does
    what a normal exit does first (waits for non-daemon threads, runs the exit handlers, flushes the logs
    and the terminal) and leaves with the command's exit code.
    """
    code: int | str | None = 0
    try:
        app()
    except SystemExit as stop:
        code = stop.code
    if isinstance(code, str):  # sys.exit("message"): printed, exit code 1
        print(code, file=sys.stderr)
        code = 1
    for thread in threading.enumerate():  # what the interpreter waits for first: threads not marked daemon
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # then the handlers it would run (logging's, the libraries')
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    entry()
