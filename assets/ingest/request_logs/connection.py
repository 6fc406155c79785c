"""The in-memory DuckDB that parses a day, and the COPY that writes a query's rows to Parquet."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb

from assets.ingest.request_logs.sources import SqlParams

# q(), iso(), strip_eol() and whole(): the helpers the source and validation SQL call.
MACROS = resources.files(__package__).joinpath("macros.sql").read_text(encoding="utf-8")


def sql_literal(path: Path) -> str:
    """A file path as the body of a SQL string literal (COPY targets cannot be bound as parameters)."""
    return str(path).replace("'", "''")


def connect(work_dir: Path, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET temp_directory = ?", [str(work_dir / "spill")])
    con.execute("SET preserve_insertion_order = false")  # row order in the lake is not part of the contract
    if threads:
        con.execute("SET threads = ?", [int(threads)])
    con.execute(MACROS)
    return con


def copy_to_parquet(con: duckdb.DuckDBPyConnection, sql: SqlParams, query: str, target: Path, options: str) -> int:
    rows = con.execute(
        f"COPY ({query}) TO '{sql_literal(target)}' (FORMAT parquet, {options})", sql.params
    ).fetchall()
    return int(rows[0][0]) if rows else 0
