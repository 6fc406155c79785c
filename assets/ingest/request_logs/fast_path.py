"""The fast path for JSONL and CSV: DuckDB's native parallel readers, kept only when nothing was odd.

The native readers type the fields, the shared SQL validates every row, and accepted rows stream
straight into Parquet. The query aborts on the first refused row (`error()`), because the native
readers cannot say which line a row came from, and a reject without its line number is no use to
whoever has to fix the export. Lines are counted on the side (numpy, another thread), unless they were
counted while a gzip file was inflated (inflated_files.py); the result stands only if every physical
line became exactly one row, since the native readers silently skip some odd input (a lone NUL byte).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path

import duckdb

from assets.ingest.request_logs.connection import copy_to_parquet, remove, rows_per_file_and_day
from assets.ingest.request_logs.fields import (
    GATEWAY_REQUIRED,
    JSONL_CSV_REQUIRED,
    LAKE_COLUMNS,
    LAKE_PARQUET_OPTIONS,
)
from assets.ingest.request_logs.lines import UNREADABLE, count_lines
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.raw_files import RawFile, read_csv_header
from assets.ingest.request_logs.sources import SqlParams, csv_fast_source, jsonl_fast_source
from assets.ingest.request_logs.validation import ANOTHER_DAY, accepted_only, jsonl_csv_validated


def _fast_query(
    sql: SqlParams,
    files: list[RawFile],
    mapping: ProviderMapping,
    limits: tuple[dt.date, dt.datetime],
    stage: bool,
    one_day: str | None,
) -> str | None:
    """One query over all `files` with the native readers, or None if one of them cannot take that path.

    limits: (earliest day, now). stage: also output the (empty) record_no, reason and raw columns, like an
    exact-path stage file. one_day: every row is expected on that UTC day (the query aborts otherwise), so
    the output needs no `day` column.
    """
    columns = ", ".join(LAKE_COLUMNS) + ("" if one_day else ", day") + (", record_no, reason, raw" if stage else "")
    expected_day = None
    if one_day:
        start = dt.datetime.combine(dt.date.fromisoformat(one_day), dt.time(), dt.UTC)
        expected_day = (sql.p(start), sql.p(start + dt.timedelta(days=1)))
    parts = []
    for f in files:
        if f.kind == "jsonl":
            source = jsonl_fast_source(sql, f.path, f.rel, mapping.column_map_for_file(f.path.name))
        elif f.kind == "csv":
            header = read_csv_header(f.path)
            source = csv_fast_source(sql, f.path, f.rel, header, mapping.column_map_for_file(f.path.name))
        else:
            source = None
        if source is None:
            return None
        required = GATEWAY_REQUIRED if f.gateway else JSONL_CSV_REQUIRED
        validated = jsonl_csv_validated(sql, source, mapping, *limits, required)
        parts.append(accepted_only(validated, columns, expected_day))
    return "\nUNION ALL\n".join(parts) if parts else None


def try_fast(
    con: duckdb.DuckDBPyConnection,
    files: list[RawFile],
    mapping: ProviderMapping,
    limits: tuple[dt.date, dt.datetime],
    target: Path,
    *,
    stage: bool = False,
    one_day: str | None = None,
    suspects: set[str] | None = None,
    memory_limit: str | None = None,
) -> dict[str, dict[str, int]] | None:
    """Write every row of `files` to target via the native readers; rows per (file, day), or None (and nothing).

    target: a folder of day=YYYY-MM-DD/*.parquet (one per UTC day of the rows); with `stage`, one
    uncompressed stage file that keeps the `day` column and the (empty) reject columns.
    one_day: the day the rows probably lie on (their folder's). Writing a single day is much cheaper than
    splitting by day, so that is tried first; a row of another day stops it, and the split write follows.

    The native readers skip what they consider blank and cannot number lines, so their result is kept
    only if each file yielded exactly one row per physical line (CSV: minus the header); a file with a
    blank line, a record spanning lines or anything else unusual is left to the exact path.
    suspects: collects the files that made the attempt fail (so they are not tried natively again).
    memory_limit: the connection's own limit; given, the one-day attempt runs under ONE_DAY_MEMORY_LIMIT
    and the connection gets its own back after it.
    """
    suspects = suspects if suspects is not None else set()
    if one_day is not None and not stage:
        with _memory_limit(con, ONE_DAY_MEMORY_LIMIT, memory_limit) if memory_limit else nullcontext():
            rows = _attempt(con, files, mapping, limits, target, stage, one_day, suspects)
        if rows is not _ANOTHER_DAY:
            return rows
    return _attempt(con, files, mapping, limits, target, stage, None, suspects)


_ANOTHER_DAY: dict = {}  # returned by a one-day attempt that met a row of another day

# A one-day attempt streams rows from the readers straight into one Parquet file and holds nothing but
# the readers' and the writer's buffers. Under a larger budget DuckDB lets every file's reader run ahead,
# so memory grew with the number of files per day (8 files: 844 MB under 1 GB against 655 MB under this)
# at the same speed. Splitting by day (PARTITION_BY) and the exact path do use memory: they keep the
# connection's own limit (512 MB made a split of 10 M rows 1.7x slower).
ONE_DAY_MEMORY_LIMIT = "512MB"


@contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, limit: str, restore: str) -> Iterator[None]:
    """The connection's memory_limit set to `limit` for the block, then to `restore` (DuckDB reports its
    setting rounded, so the connection's own limit is passed in rather than read back)."""
    con.execute("SET memory_limit = ?", [limit])
    try:
        yield
    finally:
        con.execute("SET memory_limit = ?", [restore])


def _attempt(
    con: duckdb.DuckDBPyConnection,
    files: list[RawFile],
    mapping: ProviderMapping,
    limits: tuple[dt.date, dt.datetime],
    target: Path,
    stage: bool,
    one_day: str | None,
    suspects: set[str],
) -> dict[str, dict[str, int]] | None:
    sql = SqlParams()
    try:
        query = _fast_query(sql, files, mapping, limits, stage, one_day)
    except UNREADABLE:  # the CSV header could not be read: the exact path reports it
        return None
    if query is None:
        return None
    if stage:
        options, output = "COMPRESSION uncompressed", target
    elif one_day:
        options, output = LAKE_PARQUET_OPTIONS, target / f"day={one_day}" / "data_0.parquet"
        output.parent.mkdir(parents=True, exist_ok=True)
    else:
        options, output = f"{LAKE_PARQUET_OPTIONS}, PARTITION_BY (day)", target
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:  # count lines on the side while DuckDB parses
        line_counts = pool.submit(
            lambda: [count_lines(f.path, stop) if f.lines is None else f.lines for f in files]
        )
        try:
            rows = copy_to_parquet(con, sql, query, output, options)
            if one_day and len(files) == 1:  # the COPY's own count says it all: no need to read it back
                counts = {files[0].rel: {one_day: rows}} if rows else {}
            else:
                counts = rows_per_file_and_day(con, target)
            expected = line_counts.result()
        except (duckdb.Error, *UNREADABLE) as exc:
            stop.set()
            remove(target)
            message = str(exc)  # DuckDB names the file; error() messages carry its relative path
            if ANOTHER_DAY in message:
                return _ANOTHER_DAY
            named = {f.rel for f in files if f.rel in message or str(f.path) in message}
            suspects.update(named or {f.rel for f in files})
            return None
    for f, lines in zip(files, expected, strict=True):
        if sum(counts.get(f.rel, {}).values()) != (max(lines - 1, 0) if f.kind == "csv" else lines):
            suspects.add(f.rel)
    if suspects:
        remove(target)
        return None
    return {f.rel: counts.get(f.rel, {}) for f in files}
