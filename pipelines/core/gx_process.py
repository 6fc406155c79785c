"""The Great Expectations worker process: started early, shared by a run's checks, stopped at exit.

Standard library only, so a command can start GX loading (~1.2 CPU s) on the other core before it imports
Dagster and the code location (`pipelines.launch`); `quality` sends the suites (`submit`). A process that has
GX imported already (the multiprocess executor's forkserver, Celery workers started with it) needs no worker.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future

from pipelines.core.side_process import Workers

_gx = Workers("pipelines.core.gx_runner", "Great Expectations", {"GX_ANALYTICS_ENABLED": "false"})
_workers = _gx.live  # the one live worker of this process, once started


def in_place() -> bool:
    """GX is imported in this process already (a forkserver or Celery worker preloaded it): no worker."""
    return "great_expectations" in sys.modules


def warm_up() -> None:
    """Start GX loading in its worker process, so the seconds it takes overlap the run's imports and first
    steps on another core instead of delaying the first check."""
    if not in_place():
        _gx.warm_up()


def submit(ipc: bytes, expectations: list[tuple[str, dict]]) -> Future:
    """Run one suite in the worker (started if need be), after those submitted before it; the future holds
    `gx_runner.run_suite`'s results."""
    return _gx.submit((ipc, expectations))


def stop() -> None:
    """Stop the worker, if any (at exit, and when a run's steps validate in other processes)."""
    _gx.stop()
