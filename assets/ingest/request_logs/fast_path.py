"""The fast path for JSONL and CSV: DuckDB's native parallel readers, kept only when nothing was odd.

The native readers type the fields, the shared SQL validates every row, and accepted rows stream
straight into Parquet. The query aborts on the first refused row (`error()`), because the native
readers cannot say which line a row came from, and a reject without its line number is no use to
whoever has to fix the export. Lines are counted on the side (numpy, another thread); the result
stands only if every physical line became exactly one row, since the native readers silently skip
some odd input (a lone NUL byte).
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from assets.ingest.request_logs.connection import copy_to_parquet
from assets.ingest.request_logs.fields import LAKE_COLUMNS, LAKE_PARQUET_OPTIONS
from assets.ingest.request_logs.lines import UNREADABLE, count_lines
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.raw_files import RawFile, read_csv_header
from assets.ingest.request_logs.sources import SqlParams, csv_fast_source, jsonl_fast_source
from assets.ingest.request_logs.validation import accepted_only, jsonl_csv_validated


def _fast_query(
    sql: SqlParams, files: list[RawFile], mapping: ProviderMapping, day: dt.date, now: dt.datetime, stage: bool
) -> str | None:
    """One query over all `files` with the native readers, or None if one of them cannot take that path.

    stage: also output the (empty) record_no, reason and raw columns, like an exact-path stage file.
    """
    columns = ", ".join(LAKE_COLUMNS) + (", record_no, reason, raw" if stage else "")
    parts = []
    for f in files:
        if f.kind == "jsonl":
            source = jsonl_fast_source(sql, f.path, f.rel)
        elif f.kind == "csv":
            source = csv_fast_source(sql, f.path, f.rel, read_csv_header(f.path))
        else:
            source = None
        if source is None:
            return None
        parts.append(accepted_only(jsonl_csv_validated(sql, source, mapping, day, now), columns))
    return "\nUNION ALL\n".join(parts) if parts else None


def try_fast(
    con: duckdb.DuckDBPyConnection,
    files: list[RawFile],
    mapping: ProviderMapping,
    day: dt.date,
    now: dt.datetime,
    target: Path,
    *,
    stage: bool = False,
    suspects: set[str] | None = None,
) -> dict[str, int] | None:
    """Write every row of `files` to target via the native readers; rows per file, or None (and no file).

    The native readers skip what they consider blank and cannot number lines, so their result is kept
    only if each file yielded exactly one row per physical line (CSV: minus the header); a file with a
    blank line, a record spanning lines or anything else unusual is left to the exact path.
    suspects: collects the files that made the attempt fail (so they are not tried natively again).
    """
    suspects = suspects if suspects is not None else set()
    sql = SqlParams()
    try:
        query = _fast_query(sql, files, mapping, day, now, stage)
    except UNREADABLE:  # the CSV header could not be read: the exact path reports it
        return None
    if query is None:
        return None
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:  # count lines on the side while DuckDB parses
        line_counts = pool.submit(lambda: [count_lines(f.path, stop) for f in files])
        try:
            options = "COMPRESSION uncompressed" if stage else LAKE_PARQUET_OPTIONS
            copy_to_parquet(con, sql, query, target, options)
            counts = dict(
                con.execute(
                    "SELECT file, count(*) FROM read_parquet(?) GROUP BY file", [str(target)]
                ).fetchall()
            )
            expected = line_counts.result()
        except (duckdb.Error, *UNREADABLE) as exc:
            stop.set()
            target.unlink(missing_ok=True)
            message = str(exc)  # DuckDB names the file; error() messages carry its relative path
            named = {f.rel for f in files if f.rel in message or str(f.path) in message}
            suspects.update(named or {f.rel for f in files})
            return None
    rows = {f.rel: int(counts.get(f.rel, 0)) for f in files}
    for f, lines in zip(files, expected, strict=True):
        if rows[f.rel] != (max(lines - 1, 0) if f.kind == "csv" else lines):
            suspects.add(f.rel)
    if suspects:
        target.unlink(missing_ok=True)
        return None
    return rows
