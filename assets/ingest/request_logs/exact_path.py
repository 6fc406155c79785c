"""The exact path: every line of one file, numbered, through the same SQL; refused lines keep their number.

Combined logs always take it, and so do the JSONL/CSV files the fast path gave up on. The file is read
in large binary chunks, split into numbered lines with numpy and handed to DuckDB as Arrow batches;
every refused line is kept with its 1-based line number, a reason naming the field, and its text
(first 2,000 characters).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from assets.ingest.request_logs.connection import copy_to_parquet
from assets.ingest.request_logs.fields import GATEWAY_REQUIRED, JSONL_CSV_REQUIRED
from assets.ingest.request_logs.lines import LINE_SCHEMA, UNREADABLE, iter_line_batches, open_raw
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.raw_files import RawFile, read_csv_header
from assets.ingest.request_logs.sources import (
    SqlParams,
    csv_exact_source,
    jsonl_exact_source,
    log_exact_source,
)
from assets.ingest.request_logs.validation import jsonl_csv_validated, log_validated


def _unreadable(exc: BaseException) -> str:
    return f"file: unreadable ({type(exc).__name__}: {exc}); the whole file was skipped"


def exact_file(
    con: duckdb.DuckDBPyConnection,
    f: RawFile,
    mapping: ProviderMapping,
    earliest: dt.date,
    now: dt.datetime,
    target: Path,
) -> str | None:
    """Every line of one file (accepted or not, with reason) -> target; returns an error if unreadable."""
    sql = SqlParams()
    if f.kind == "jsonl":
        source = jsonl_exact_source(sql, f.rel, mapping.column_map_for_file(f.path.name))
        required = GATEWAY_REQUIRED if f.gateway else JSONL_CSV_REQUIRED
        query = jsonl_csv_validated(sql, source, mapping, earliest, now, required)
    elif f.kind == "csv":
        try:
            header = read_csv_header(f.path)
        except UNREADABLE as exc:
            return _unreadable(exc)
        source = csv_exact_source(sql, f.rel, header, mapping.column_map_for_file(f.path.name))
        query = jsonl_csv_validated(sql, source, mapping, earliest, now)
    else:
        source = log_exact_source(sql, f.rel, mapping.provider_for_file_name(f.path.name), mapping)
        query = log_validated(sql, source, earliest, now)

    failure: list[BaseException] = []

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            with open_raw(f.path) as stream:
                yield from iter_line_batches(stream)
        except UNREADABLE as exc:
            failure.append(exc)
            raise

    con.register("lines", pa.RecordBatchReader.from_batches(LINE_SCHEMA, batches()))
    try:
        copy_to_parquet(con, sql, query, target, "COMPRESSION uncompressed")
    except duckdb.Error:
        if not failure:
            raise
        target.unlink(missing_ok=True)
        return _unreadable(failure[0])
    finally:
        con.unregister("lines")
    return None
