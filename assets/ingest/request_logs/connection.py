"""The in-memory DuckDB that parses a batch of files, and the COPY that writes a query's rows to Parquet."""

from __future__ import annotations

import shutil
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


def parquet_files(target: Path) -> list[str]:
    """The Parquet files of a COPY target: the file itself, or every file of a day-partitioned folder."""
    if target.is_file():
        return [str(target)]
    return sorted(str(p) for p in target.glob("day=*/*.parquet"))


def rows_per_file_and_day(con: duckdb.DuckDBPyConnection, target: Path) -> dict[str, dict[str, int]]:
    """Accepted rows of a COPY target per raw file and UTC day ({file: {YYYY-MM-DD: rows}})."""
    files = parquet_files(target)
    if not files:
        return {}
    source = (
        "read_parquet($files)"
        if target.is_file()
        else "read_parquet($files, hive_partitioning = true, hive_types = {'day': DATE})"
    )
    counts: dict[str, dict[str, int]] = {}
    for file, day, rows in con.execute(
        f"SELECT file, day::VARCHAR, count(*) FROM {source} GROUP BY ALL", {"files": files}
    ).fetchall():
        counts.setdefault(file, {})[day] = int(rows)
    return counts


def remove(target: Path) -> None:
    """Delete a COPY target, file or folder, if it exists."""
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
    else:
        target.unlink(missing_ok=True)
