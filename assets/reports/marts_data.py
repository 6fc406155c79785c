"""How reports read the warehouse: marts only, defensively. The one data-access module of the reports.

Reports never compute a metric. They read mart tables (and the quarantine counts), pick, sort, filter
and format; `figures.Figures` records each number a page quotes so it can be traced to its mart cell.

Marts are built by other assets that may not have run (or may be older than this code): a missing
table or column makes the section say "not available" instead of failing the whole report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import duckdb
import polars as pl

from pipelines.core import tables
from pipelines.core.frames import to_utc
from pipelines.core.warehouse import Table, table_exists

# What a report may read: the marts schema and the quarantine counts. Nothing from staging.
_READABLE = re.compile(r"^(marts\.[a-z_][a-z0-9_]*|quarantine\.rejected_rows)$")
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")

COMPONENT_PROVIDER = "(provider)"  # provider-level row of marts.component_reliability
PERIOD_ALL = "all"


def checked(table: Table) -> str:
    """The SQL name of a table a report may read; ValueError for anything outside the marts."""
    name = tables.sql_name(table)
    if not _READABLE.match(name):
        raise ValueError(f"reports read marts only; refusing to read {name!r}")
    return name


def display_names(workspace) -> dict[str, str]:
    """provider key -> display name from providers.yaml (labels only; empty if the config is unreadable)."""
    try:
        return {key: p.display_name for key, p in workspace.providers().providers.items()}
    except (OSError, ValueError):  # a label is not worth failing a report for (ConfigError is a ValueError)
        return {}


def table_columns(con: duckdb.DuckDBPyConnection, table: Table) -> list[str]:
    """The table's columns in order; none when it does not exist (a table has at least one)."""
    schema, name = checked(table).split(".")
    # fetchall() so no pending result is left on the connection (DuckDB 2 refuses the next query).
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def read_mart(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    where: str = "",
    params: Sequence[Any] = (),
    required: Sequence[str] = (),
) -> pl.DataFrame | None:
    """A mart as a frame (timestamps in UTC), or None when the table or a `required` column is missing.

    `where` is SQL from code (e.g. "WHERE minute >= ? AND minute < ?") with values bound from `params`.
    """
    name = checked(table)
    columns = table_columns(con, name)
    if not columns or any(c not in columns for c in required):
        return None
    return to_utc(con.sql(f"SELECT * FROM {name} {where}", params=list(params) or None).pl())


def read_between(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    ts_column: str,
    start: dt.datetime,
    end: dt.datetime,
    required: Sequence[str] = (),
) -> pl.DataFrame | None:
    """Rows of a large time-series mart with start <= ts_column < end (None if unavailable)."""
    if not _COLUMN.match(ts_column):
        raise ValueError(f"not a column name: {ts_column!r}")
    return read_mart(con, table, f"WHERE {ts_column} >= ? AND {ts_column} < ?", [start, end], (ts_column, *required))


def time_span(
    con: duckdb.DuckDBPyConnection, table: Table, ts_column: str, not_null: str | None = None
) -> tuple[int, Any, Any] | None:
    """(rows, first, latest) of `ts_column`, counting only rows where `not_null` is set when the mart has
    that column; None when the mart or the column is missing."""
    name = checked(table)
    if not all(_COLUMN.match(c) for c in (ts_column, not_null or ts_column)):
        raise ValueError(f"not a column name: {ts_column!r} / {not_null!r}")
    columns = table_columns(con, name)
    if ts_column not in columns:
        return None
    where = f"WHERE {not_null} IS NOT NULL" if not_null and not_null in columns else ""
    found = con.execute(f"SELECT count(*), min({ts_column}), max({ts_column}) FROM {name} {where}").fetchall()
    return found[0]


def quarantine_counts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Refused input rows per source, from quarantine.rejected_rows (empty when nothing was refused)."""
    name = checked(tables.REJECTED_ROWS)
    if not table_exists(con, name):
        return []
    rows = con.execute(f"SELECT source, count(*) FROM {name} GROUP BY source ORDER BY source").fetchall()
    return [{"source": s, "rows": n} for s, n in rows]


def first_column(frame: pl.DataFrame | None, *candidates: str) -> str | None:
    """The first of `candidates` that `frame` has."""
    if frame is None:
        return None
    return next((c for c in candidates if c in frame.columns), None)


def has(frame: pl.DataFrame | None, *columns: str) -> bool:
    return frame is not None and frame.height > 0 and all(c in frame.columns for c in columns)
