"""The Great Expectations worker process: started early, shared by a run's checks, stopped at exit.

Standard library only, so a command can start GX loading (2.4 CPU s) on the other core before it imports
Dagster and the code location (`pipelines.launch`); `quality` sends the suites (`ask`). A process that has
GX imported already (the multiprocess executor's forkserver, Celery workers started with it) needs no worker.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path


class _Worker:
    """`python -m pipelines.core.gx_runner` and the pipe to it."""

    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.core.gx_runner"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": path, "GX_ANALYTICS_ENABLED": "false"})

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, ipc: bytes, expectations: list[tuple[str, dict]]) -> list[dict]:
        try:
            pickle.dump((ipc, expectations), self.process.stdin)
            self.process.stdin.flush()
            status, body = pickle.load(self.process.stdout)
        except (BrokenPipeError, EOFError):
            raise RuntimeError(f"the Great Expectations worker process exited (code {self.process.wait()}) "
                               "before it answered; its error, if any, is on stderr above") from None
        if status != "ok":
            raise RuntimeError(f"Great Expectations failed on this suite in the worker process:\n{body}")
        return body

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.kill()
        self.process.wait()


_lock = threading.Lock()
_workers: list[_Worker] = []  # the one live worker of this process, once started


def in_place() -> bool:
    """GX is imported in this process already (a forkserver or Celery worker preloaded it): no worker."""
    return "great_expectations" in sys.modules


def _worker() -> _Worker:
    """The live worker, started if there is none (or the last one died)."""
    if not _workers or not _workers[0].alive():
        if not _workers:
            atexit.register(stop)
        _workers[:] = [_Worker()]
    return _workers[0]


def warm_up() -> None:
    """Start GX loading in its worker process, so the seconds it takes overlap the run's imports and first
    steps on another core instead of delaying the first check."""
    if not in_place():
        with _lock:
            _worker()


def ask(ipc: bytes, expectations: list[tuple[str, dict]]) -> list[dict]:
    """Run one suite in the worker (started if need be): `gx_runner.run_suite`'s results."""
    with _lock:
        return _worker().ask(ipc, expectations)


def stop() -> None:
    """Stop the worker, if any (at exit, and when a run's steps validate in other processes)."""
    with _lock:
        for worker in _workers:
            worker.stop()
        _workers.clear()
