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

The event log (dagster.yaml names `KeptOpenSqliteEventLogStorage`) also keeps its connections open: Dagster's
own SQLite event log builds a new engine and connection for each of those ~700 uses a run (a one-day run spent
~1 s of its ~7 s on them, benchmarks/README.md) and asks the same schema questions (is a secondary index
built, has a table a column) on each.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import StringSource
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

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


KEPT_SHARDS = 8  # the index and the latest run files; a long-lived process reading many runs closes the oldest


def _forget_connections(storage: weakref.ref) -> None:
    """In a forked child: drop the parent's open connections unused (SQLite connections must not cross a fork;
    closing them here could disturb the parent's), so the child opens its own."""
    if (kept := storage()) is not None:
        for engine in kept._engines.values():
            engine.dispose(close=False)
        kept._engines.clear()


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log (same files, same layout under `$DAGSTER_HOME/history/runs`) with one open
    connection per file, for the `KEPT_SHARDS` files used last, and schema answers remembered once true.

    Every use still runs in its own transaction under the storage's lock, so other processes (the webserver,
    step processes) read and write the same files as before; a connection is only ever used by one thread at
    a time (the lock), which is why it may be shared across threads.
    """

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._known_schema: set[tuple[str, str]] = set()
        os.register_at_fork(after_in_child=functools.partial(_forget_connections, weakref.ref(self)))
        super().__init__(base_dir, inst_data)  # may already connect (a new index is reindexed)

    @classmethod
    def config_type(cls):
        return {"dagster_home": StringSource}

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> KeptOpenSqliteEventLogStorage:
        return cls(os.path.join(config_value["dagster_home"], "history", "runs"), inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as connection, connection.begin():
            yield connection

    def _engine(self, shard: str) -> Engine:
        """The open engine of `shard` (created, and its file initialised once a process, on first use)."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(self.conn_string_for_shard(shard), poolclass=StaticPool,
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                                 "check_same_thread": False})
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine  # the most recently used last
        while len(self._engines) > KEPT_SHARDS:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def _known(self, question: str, subject: str, ask: Callable[[str], bool]) -> bool:
        """A schema answer: asked until true, then remembered (a migration only ever adds)."""
        if (question, subject) not in self._known_schema and ask(subject):
            self._known_schema.add((question, subject))
        return (question, subject) in self._known_schema

    def has_secondary_index(self, name: str) -> bool:
        return self._known("secondary index", name, super().has_secondary_index)

    def has_asset_key_col(self, column_name: str) -> bool:
        return self._known("asset key column", column_name, super().has_asset_key_col)

    def has_table(self, table_name: str) -> bool:
        return self._known("table", table_name, super().has_table)

    def _close_all(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
            self._known_schema.clear()

    def wipe(self) -> None:
        self._close_all()  # run files are deleted: no connection may outlive its file
        super().wipe()

    def dispose(self) -> None:
        self._close_all()
        super().dispose()
