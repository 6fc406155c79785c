"""The Dagster instance's SQLite files skip fsync: run history must not wait on a busy disk.

With the default SQLite storage, Dagster opens a new connection for every event it records (about 220
in a one-day run: planned materialisations and checks, step starts and outputs, materialisations, check
results) and SQLite's default `synchronous=FULL` makes each commit, and each last close of a WAL
database, wait for an fsync. On a machine whose disk is busy (the ingest itself writes gigabytes of
Parquet) that wait grew to ~80 ms an event: seconds per run spent waiting on the run log, not working
(benchmarks/README.md, "Run log"). So connections to SQLite files under $DAGSTER_HOME run with
`synchronous=OFF`: a crashed process loses nothing (SQLite hands every commit to the OS), a power loss
or kernel crash can lose or damage the run history, which is bookkeeping: the warehouse and the lake
are written by our own code with their own atomic publishing, and a deployment that must keep run
history through power loss uses PostgreSQL (deploy/). Other SQLite files are left alone.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

_registered: list[bool] = []
_INSTANCE_FILE = "incidents_instance_file"  # key in a connection record's info


@functools.lru_cache(maxsize=256)
def _under(path: str, home: str) -> bool:
    """Whether the SQLite file `path` lies under the instance home (paths resolved once per process: a run
    opens some 700 connections to a handful of files)."""
    return Path(path).resolve().is_relative_to(Path(home).resolve())


def _note_instance_file(_dialect, record, cargs, _cparams) -> None:
    """Before SQLite opens a file (`cargs[0]`): remember on the connection's record whether it is run history."""
    home = os.environ.get("DAGSTER_HOME")
    target = str(cargs[0]) if cargs else ""
    record.info[_INSTANCE_FILE] = bool(home and target and not target.startswith(":") and _under(target, home))


def _no_fsync_for_instance_files(dbapi_connection, record) -> None:
    if record.info.get(_INSTANCE_FILE) and isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def relax_instance_sync() -> None:
    """Register the hooks once per process (before the instance opens its storage)."""
    if not _registered:
        event.listen(Engine, "do_connect", _note_instance_file)
        event.listen(Engine, "connect", _no_fsync_for_instance_files)
        _registered.append(True)
