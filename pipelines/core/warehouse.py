"""DuckDB warehouse access: short-lived connections, idempotent writes, quarantine.

Writers parse first and connect last, so the file lock is held only for the write itself; a writer that
finds the file locked by another process waits and retries instead of failing the step.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipelines.core.quarantine import REJECTED_SCHEMA
from pipelines.core.tables import UNIQUE_KEYS, sql_name

SCHEMAS = ("staging", "marts", "quarantine")
_TABLE = re.compile(r"^(staging|marts|quarantine)\.[a-z_][a-z0-9_]*$")

Table = dg.AssetKey | str  # an asset key from tables.py (or, for the quarantine, its SQL name)


def _checked(table: Table) -> str:
    # Table names are identifiers and cannot be bound as parameters, so they come only from code and
    # must match this pattern; values always go through parameters.
    name = sql_name(table)
    if not _TABLE.match(name):
        raise ValueError(f"not a warehouse table name: {name!r}")
    return name


LOCK_TIMEOUT_S = 120.0
_kept_open: dict[str, duckdb.DuckDBPyConnection] = {}  # by the file's real path: one instance per file


@contextmanager
def connect(path: Path, read_only: bool = False, lock_timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse at `path`, closed on exit (a cursor of it while `kept_open`)."""
    kept = _kept_open.get(os.path.realpath(path)) if _kept_open else None
    con = kept.cursor() if kept is not None else _open(Path(path), read_only, lock_timeout_s)
    try:
        con.execute("SET TimeZone = 'UTC'")  # the one UTC rule: TIMESTAMPTZ values come back in UTC
        yield con
    finally:
        con.close()


@contextmanager
def kept_open(path: Path) -> Iterator[None]:
    """Keep the warehouse open in this process while the block runs; `connect` hands out cursors of it.

    Opening a DuckDB database costs ~15 ms (a fresh instance), and an in-process run connects some 45
    times. While the block runs, this process holds DuckDB's file lock: another process that connects waits
    (up to its lock timeout) for the block to end, instead of for one write.
    """
    key = os.path.realpath(path)
    if key in _kept_open:
        yield
        return
    con = _open(Path(path), False, LOCK_TIMEOUT_S)
    _kept_open[key] = con
    try:
        yield
    finally:
        del _kept_open[key]
        con.close()


def _open(path: Path, read_only: bool, lock_timeout_s: float) -> duckdb.DuckDBPyConnection:
    """A new connection (a new DuckDB instance), waiting while another process holds the file's lock;
    writable ones make sure the schemas and the quarantine table exist."""
    if read_only and not path.exists():
        raise FileNotFoundError(f"{path}: warehouse not built yet (run `incidents run` or `incidents demo`)")
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout_s
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    if not read_only:
        try:
            for schema in SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            con.execute(
                "CREATE TABLE IF NOT EXISTS quarantine.rejected_rows ("
                "source VARCHAR, file VARCHAR, record_no BIGINT, reason VARCHAR, raw VARCHAR)"
            )
        except BaseException:
            con.close()
            raise
    return con


def table_exists(con: duckdb.DuckDBPyConnection, table: Table) -> bool:
    schema, name = _checked(table).split(".")
    # DuckDB's own catalog functions: a third less time than information_schema (some 50 asks a run)
    rows = con.execute(
        "SELECT count(*) FROM (SELECT schema_name, table_name FROM duckdb_tables() "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views()) WHERE schema_name = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(rows[0][0])


def read_table(con: duckdb.DuckDBPyConnection, table: Table, columns: str = "*", where: str = "") -> pl.DataFrame:
    """`SELECT columns FROM table where`, rows in one fixed order (`order_by`).

    The order a table's rows are stored in depends on the order its partitions were written, so without
    ORDER BY the row order (and with it the last bits of float sums computed downstream) could differ
    between two warehouses holding the same rows; sorted input keeps reruns byte-identical.
    `columns` and `where` come from code, never from data.
    """
    return con.sql(f"SELECT {columns} FROM {_checked(table)} {where} ORDER BY {order_by(table, columns)}").pl()


def order_by(table: Table, columns: str) -> str:
    """The ORDER BY of a read: the table's unique key (tables.UNIQUE_KEYS) when every key column is read,
    else ALL (every column read, left to right)."""
    key = UNIQUE_KEYS.get(table) if isinstance(table, dg.AssetKey) else None
    read = {c.strip() for c in columns.split(",")}
    return ", ".join(key) if key and ("*" in read or set(key) <= read) else "ALL"


def read_table_if_exists(
    con: duckdb.DuckDBPyConnection, table: Table, columns: str = "*", where: str = ""
) -> pl.DataFrame | None:
    """`read_table`, or None while the table (or view) has not been written yet."""
    return read_table(con, table, columns, where) if table_exists(con, table) else None


MART_SIGNIFICANT_DIGITS = 12


def stable_floats(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Round a mart's float columns to 12 significant digits.

    Parallel aggregation (Polars, DuckDB) adds floats in an order that can change from run to run, which
    moves the last bit of a sum; rounding far below any reported precision makes a rerun byte-identical.
    Staging tables keep source values untouched.
    """
    if not sql_name(table).startswith("marts."):
        return frame
    digits = MART_SIGNIFICANT_DIGITS
    return frame.with_columns(
        [pl.col(c).round_sig_figs(digits) for c, t in frame.schema.items() if t in (pl.Float32, pl.Float64)]
        + [pl.col(c).list.eval(pl.element().round_sig_figs(digits)) for c, t in frame.schema.items()
           if isinstance(t, pl.List) and t.inner in (pl.Float32, pl.Float64)]
    )


@contextmanager
def _writing(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> Iterator[None]:
    """`frame` registered as view `name` inside one transaction: committed on success, rolled back on error."""
    con.register(name, frame)
    try:
        con.execute("BEGIN")
        yield
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister(name)


def replace_table(con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame) -> int:
    """Atomically replace a whole table with `frame` (for tables rebuilt from every input)."""
    table = _checked(table)
    frame = stable_floats(table, frame)
    with _writing(con, "_incoming", frame):
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _incoming")
    return frame.height


def replace_where(
    con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame, column: str, values: Sequence[object]
) -> int:
    """Delete rows whose `column` is in `values`, then insert `frame`, in one transaction.

    This is how partitions are written: a rerun or a backfill replaces its own partitions and never
    double counts. The table is created from `frame`'s schema on first write.
    """
    if not re.match(r"^[a-z_][a-z0-9_]*$", column):
        raise ValueError(f"not a column name: {column!r}")
    table = _checked(table)
    frame = stable_floats(table, frame)
    with _writing(con, "_incoming", frame):
        if not table_exists(con, table):
            # Created with its rows, not empty and then filled: in DuckDB 2.0 an empty `CREATE TABLE AS ...
            # LIMIT 0` and a large INSERT in one transaction leave statistics that read as an empty table
            # (every scan, on any connection of the instance) until the database is reopened.
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM _incoming")
        else:
            if values:
                con.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT unnest(?))", [list(values)])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    return frame.height


def write_rejects(
    con: duckdb.DuckDBPyConnection, source: str, files: Sequence[str], rejects: pl.DataFrame
) -> int:
    """Replace the quarantined rows of `source` for `files` (so re-ingesting a file never duplicates)."""
    rejects = rejects.select([pl.col(c).cast(t) for c, t in REJECTED_SCHEMA.items()])
    with _writing(con, "_rejects", rejects):
        con.execute(
            "DELETE FROM quarantine.rejected_rows WHERE source = ? AND file IN (SELECT unnest(?))",
            [source, list(files)],
        )
        con.execute("INSERT INTO quarantine.rejected_rows BY NAME SELECT * FROM _rejects")
    return rejects.height


def replace_day_partitions(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    source: str,
    days: Sequence[str],
    accepted: pl.DataFrame,
    files: Sequence[str],
    rejects: pl.DataFrame,
) -> None:
    """Write `days` of a day-partitioned staging table and of its quarantine.

    Rows are replaced per `partition_day`; the source's quarantined rows for those day folders are
    dropped first, so a file removed since the last run leaves no stale rejects (write_rejects only
    replaces the files it is given), then the new rejects are written.
    """
    replace_where(con, table, accepted, "partition_day", [dt.date.fromisoformat(d) for d in days])
    for day in days:
        con.execute(
            "DELETE FROM quarantine.rejected_rows WHERE source = ? AND starts_with(file, ?)",
            [source, f"raw/{source}/{day}/"],
        )
    write_rejects(con, source, files, rejects)
