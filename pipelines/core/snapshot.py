"""Whole-warehouse snapshots, to compare two runs that must give the same tables.

Two backfills of the same raw files must give equal snapshots whatever the executor, the number of machines
or the order the partitions ran in; a refactoring must give equal digests to the run before it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import duckdb
import polars as pl

_RELATIONS = ("SELECT table_schema, table_name FROM information_schema.tables "
              "WHERE table_schema IN ('staging', 'marts', 'quarantine') ORDER BY 1, 2")


def _relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [f"{schema}.{table}" for schema, table in con.execute(_RELATIONS).fetchall()]


def warehouse_snapshot(path: Path) -> dict[str, pl.DataFrame]:
    """Every staging/marts/quarantine table and view of a warehouse, rows sorted by every column."""
    with duckdb.connect(str(path), read_only=True) as con:
        frames = {name: con.sql(f"SELECT * FROM {name}").pl() for name in _relations(con)}  # names from the catalog
    return {name: _sorted_rows(frame) for name, frame in frames.items()}


def warehouse_digests(path: Path) -> dict[str, str]:
    """`table_digest` of every staging/marts/quarantine table and view."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: table_digest(con, name) for name in _relations(con)}


def table_digest(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """md5 of a relation's rows sorted on every column, written as CSV with column names and types.

    `relation` comes from code or the catalog, never from data.
    """
    con.execute("SET TimeZone = 'UTC'")  # timestamps written the same way on any machine
    cursor = con.execute(f"SELECT * FROM {relation} ORDER BY ALL")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f"{d[0]}:{d[1]}" for d in cursor.description])
    writer.writerows(cursor.fetchall())
    return hashlib.md5(out.getvalue().encode("utf-8", "backslashreplace")).hexdigest()


def _sorted_rows(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    keys = [pl.col(c).cast(pl.String) if isinstance(t, (pl.List, pl.Struct, pl.Array)) else pl.col(c)
            for c, t in frame.schema.items()]
    return frame.sort(keys, nulls_last=True)
