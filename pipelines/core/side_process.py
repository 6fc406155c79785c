"""Worker processes that a command starts early and its steps ask: the one way a run hands work to another core.

A worker is `python -m <module>` whose `__main__` loads what it needs, then calls `serve(answer)`: it reads
pickled requests on stdin and writes one pickled reply per request on stdout, `("ok", answer(request))` or
`("error", traceback text)`. The run's side is `Workers`: one live worker of a module per process, started
on demand (or early, by `warm_up`), replaced if it died, stopped at exit; asked now (`ask`) or in turn by a
thread of its own (`submit`), so that the step goes on while the worker answers. Standard library only, so that the
`incidents` command can start workers before it imports anything heavy (`pipelines.launch`).
"""

from __future__ import annotations

import atexit
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from pipelines.core import collector


class SideProcess:
    """`python -m <module>` and the pipe to it."""

    def __init__(self, module: str, what: str, env: Mapping[str, str]) -> None:
        root = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        self.what = what
        self.process = subprocess.Popen([sys.executable, "-m", module], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env={**os.environ, **env, "PYTHONPATH": path})

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, request: Any) -> Any:
        """The worker's answer to `request`; a RuntimeError with the worker's traceback if it failed on it."""
        try:
            pickle.dump(request, self.process.stdin)
            self.process.stdin.flush()
            status, body = pickle.load(self.process.stdout)
        except (BrokenPipeError, EOFError):
            raise RuntimeError(f"the {self.what} worker process exited (code {self.process.wait()}) before it "
                               "answered; its error, if any, is on stderr above") from None
        if status != "ok":
            raise RuntimeError(f"{self.what} failed in the worker process:\n{body}")
        return body

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.kill()
        self.process.wait()


class Workers:
    """The one live worker of a module in this process (thread-safe: one request at a time)."""

    def __init__(self, module: str, what: str, env: Mapping[str, str] | None = None) -> None:
        self.module, self.what, self.env = module, what, dict(env or {})
        self._lock = threading.Lock()
        self.live: list[SideProcess] = []  # the worker, once started
        self._queues: dict[int, queue.SimpleQueue] = {}  # pid -> the queue of the thread that asks in turn
        self._queues_lock = threading.Lock()  # not `_lock`: that one is held while the worker answers

    def _worker(self) -> SideProcess:
        if not self.live or not self.live[0].alive():
            if not self.live:
                atexit.register(self.stop)
            self.live[:] = [SideProcess(self.module, self.what, self.env)]
        return self.live[0]

    def warm_up(self) -> None:
        """Start the worker now (no-op while it lives), so what it loads overlaps the run's own start."""
        with self._lock:
            self._worker()

    def started(self) -> bool:
        return bool(self.live)

    def ask(self, request: Any) -> Any:
        """The worker's answer (the worker started, or restarted, if need be)."""
        with self._lock:
            return self._worker().ask(request)

    def submit(self, request: Any) -> Future:
        """`ask` without waiting: the requests of this process are asked in the order submitted, by one daemon
        thread (it never holds up the exit); the future holds the answer or the error."""
        future: Future = Future()
        with self._queues_lock:
            if os.getpid() not in self._queues:  # a forked child asks with a thread of its own
                self._queues[os.getpid()] = queue.SimpleQueue()
                threading.Thread(target=self._ask_in_turn, args=(self._queues[os.getpid()],), daemon=True,
                                 name=f"{self.what} requests").start()
            self._queues[os.getpid()].put((future, request))
        return future

    def _ask_in_turn(self, requests: queue.SimpleQueue) -> None:
        while True:
            future, request = requests.get()
            settle(future, lambda: self.ask(request))  # noqa: B023 - called before the loop moves on

    def stop(self) -> None:
        with self._lock:
            for worker in self.live:
                worker.stop()
            self.live.clear()


def settle(future: Future, call: Callable[[], Any]) -> Future:
    """`future` settled with `call()`'s value, or with the exception it raised (raised again where it is read)."""
    try:
        future.set_result(call())
    except Exception as exc:  # noqa: BLE001 - whoever reads the future gets it
        future.set_exception(exc)
    return future


def serve(answer: Callable[[Any], Any], load: Callable[[], object] = lambda: None) -> None:
    """The worker's side: `load()` (what the first request would otherwise wait for, with the garbage collector
    paused: `collector`), then answer requests until the run closes the pipe; a failing request is a reply,
    not the worker's end. Whatever the worker's libraries print, from the first import on, goes to stderr:
    stdout carries the replies only."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    with collector.paused():
        load()
    requests = sys.stdin.buffer
    while True:
        try:
            request = pickle.load(requests)
        except EOFError:
            return
        try:
            reply = ("ok", answer(request))
        except Exception:  # noqa: BLE001 - any failure goes back to the step that asked, with its traceback
            reply = ("error", traceback.format_exc())
        pickle.dump(reply, replies)
        replies.flush()
