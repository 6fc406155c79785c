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

import os
import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

_registered: list[bool] = []


def _instance_home() -> Path | None:
    home = os.environ.get("DAGSTER_HOME")
    return Path(home).resolve() if home else None


def _no_fsync_for_instance_files(dbapi_connection, _record) -> None:
    home = _instance_home()
    if home is None or not isinstance(dbapi_connection, sqlite3.Connection):
        return
    files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list").fetchall() if row[2]]
    if any(Path(f).resolve().is_relative_to(home) for f in files):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def relax_instance_sync() -> None:
    """Register the hook once per process (before the instance opens its storage)."""
    if not _registered:
        event.listen(Engine, "connect", _no_fsync_for_instance_files)
        _registered.append(True)
