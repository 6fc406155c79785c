"""Gateway request logs -> typed rows in Parquet plus the refused lines, one UTC day at a time.

Request logs are the large source (tens of millions of lines a day), so no row passes through Python:

* Fast path (JSONL and CSV): DuckDB's own parallel readers (`read_json`, `read_csv`) type the fields,
  SQL validates every row, and accepted rows stream straight into one zstd Parquet file. The query
  aborts on the first refused row (`error()`), because the native readers cannot say which line a row
  came from, and a reject without its line number is no use to whoever has to fix the export. Lines
  are counted on the side (numpy, another thread); the result stands only if every physical line
  became exactly one row, since the native readers silently skip some odd input (a lone NUL byte).
* Exact path (combined logs always; JSONL/CSV files the fast path gave up on): the file is read in
  large binary chunks, split into numbered lines with numpy and handed to DuckDB as Arrow batches;
  the same SQL validation runs and every refused line is kept with its 1-based line number, a reason
  naming the field, and its text (first 2,000 characters).

Both paths use the same typing and validation SQL, so a row is accepted with identical values by
either; the exact path is what defines the result, the fast path is an optimisation for clean files.
Memory stays bounded (chunked reads, streaming COPY); nothing here opens the warehouse.

Formats under raw/request_logs/<YYYY-MM-DD>/ (each may also be gzipped, `.gz`):
- `*.jsonl`: one JSON object per line with ts, provider, model, endpoint, status, latency_ms,
  tokens_in, tokens_out, client_id, region and optional error_type; extra keys are ignored.
- `*.csv`: the same fields as columns named in a header line (any order; extra columns ignored).
- `*.log`: Apache/Nginx combined log format, optionally followed by the request time in seconds
  (nginx `$request_time`); the provider comes from the request path prefix or a host in the file name.

`ingest_day()` is the entry point (the staging asset and the benchmark both call it).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import re
import shutil
import tempfile
import threading
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from pipelines.core.config import ProvidersConfig
from pipelines.core.quarantine import RAW_PREVIEW_CHARS, REJECTED_SCHEMA

SOURCE = "request_logs"
CHUNK_BYTES = 16 << 20  # bytes read per step of the exact path
MAX_LINE_BYTES = 1 << 20  # a longer line is quarantined (by its first characters), never parsed
# zstd at its fastest level: about half snappy's size for these logs, at close to snappy's speed.
LAKE_PARQUET_OPTIONS = "COMPRESSION zstd, COMPRESSION_LEVEL 1"
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".log": "log"}

# Columns of the accepted rows, in Parquet order (`day` is the hive partition, not stored in the file).
LAKE_COLUMNS: dict[str, str] = {
    "ts": "TIMESTAMPTZ",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "endpoint": "VARCHAR",
    "status": "INTEGER",
    "latency_ms": "DOUBLE",
    "tokens_in": "BIGINT",
    "tokens_out": "BIGINT",
    "client_id": "VARCHAR",
    "region": "VARCHAR",
    "error_type": "VARCHAR",
    "file": "VARCHAR",
}
TEXT_FIELDS = ("ts", "provider", "model", "endpoint", "client_id", "region", "error_type")
NUMBER_FIELDS = ("status", "latency_ms", "tokens_in", "tokens_out")
JSONL_CSV_REQUIRED = (
    "ts",
    "provider",
    "model",
    "endpoint",
    "status",
    "latency_ms",
    "tokens_in",
    "tokens_out",
    "client_id",
    "region",
)
OPTIONAL_TEXT = ("error_type",)
LOG_REQUIRED = ("ts", "status")  # the rest of a combined-log row is derived or legitimately empty

_LINE_SCHEMA = pa.schema(
    [
        ("line_no", pa.int64()),
        ("line", pa.large_string()),
        ("line_bytes", pa.int64()),
        ("bad_utf8", pa.bool_()),
    ]
)
_UTF8_BOM = b"\xef\xbb\xbf"
_UNREADABLE = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError


# ---------------------------------------------------------------------------------------------------
# Provider mapping (from data/config/providers.yaml)
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProviderMapping:
    """How a log line names its provider: `provider` field values, path prefixes, hosts in file names."""

    names: dict[str, str]  # lower-cased `provider` value -> provider key
    path_prefixes: dict[str, str]  # request path prefix (e.g. /anthropic/) -> provider key, longest first
    hosts: dict[str, str]  # virtual host in a combined-log file name -> provider key

    @classmethod
    def from_config(cls, config: ProvidersConfig) -> ProviderMapping:
        prefixes = {p: key for key, prov in config.providers.items() for p in prov.request_logs.path_prefixes}
        hosts = {h.lower(): key for key, prov in config.providers.items() for h in prov.request_logs.hosts}
        # longest prefix first, so /openai/v1/ would win over /openai/ if both were configured
        prefixes = dict(sorted(prefixes.items(), key=lambda kv: -len(kv[0])))
        return cls(names=config.provider_for_log_name(), path_prefixes=prefixes, hosts=hosts)

    @property
    def providers(self) -> set[str]:
        return set(self.names.values()) | set(self.path_prefixes.values()) | set(self.hosts.values())

    def provider_for_file_name(self, name: str) -> str | None:
        """`api.anthropic.com-access.log.gz` -> anthropic: a configured host standing alone in the name."""
        lowered = name.lower()
        for host, key in sorted(self.hosts.items(), key=lambda kv: -len(kv[0])):
            if re.search(rf"(?:^|[^a-z0-9]){re.escape(host)}(?:[^a-z0-9]|$)", lowered):
                return key
        return None


# ---------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------
@dataclass
class FileResult:
    """What happened to one raw file. rows_in = rows_accepted + rows_quarantined."""

    file: str  # path relative to the data dir (posix)
    format: str  # jsonl, csv, log (+ .gz)
    bytes: int
    parser: str = ""  # "native" (fast path), "lines" (exact path) or "" when the file was refused whole
    rows_in: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    error: str | None = None  # set when the whole file was refused (corrupt gzip, unreadable, unknown kind)


@dataclass
class DayResult:
    """One day's ingest: per-file counts, the refused rows, and the Parquet file of accepted rows."""

    day: dt.date
    output_path: Path
    files: list[FileResult] = field(default_factory=list)
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTED_SCHEMA))

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


# ---------------------------------------------------------------------------------------------------
# Exact path, step 1: binary chunks -> Arrow batches (line_no, line, line_bytes, bad_utf8)
# ---------------------------------------------------------------------------------------------------
def open_raw(path: Path):
    """A binary stream over the file's bytes, decompressing `.gz` on the fly."""
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def _preview(data: bytes) -> str:
    return data[: RAW_PREVIEW_CHARS * 4].decode("utf-8", "backslashreplace")[:RAW_PREVIEW_CHARS]


def _batch(buf: bytes, starts: np.ndarray, ends: np.ndarray, first_line_no: int) -> pa.RecordBatch:
    """Lines buf[starts[i]:ends[i]] (ends exclusive, at the newline or the end of the data) as a batch.

    The Arrow values keep their newline (offsets must be contiguous, and copying every line to drop one
    byte would cost more than the whole parse); SQL ignores it where it matters. `line_bytes` is the
    length without the terminator (a trailing CR is not counted either).
    """
    n = len(starts)
    arr = np.frombuffer(buf, dtype=np.uint8)
    last = ends - 1
    has_cr = (ends > starts) & (arr[np.maximum(last, 0)] == 13)
    line_bytes = (ends - starts - has_cr).astype(np.int64)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[:n] = starts
    offsets[n] = min(int(ends[-1]) + 1, len(buf)) if n else 0
    if n > 1:
        offsets[1:n] = starts[1:]
    data_end = int(offsets[n])
    bad = None
    # Fast path: the whole chunk is ASCII (or valid UTF-8); a newline never splits a UTF-8 sequence.
    if not buf.isascii():
        try:
            codecs.utf_8_decode(memoryview(buf)[:data_end], "strict", True)
        except UnicodeDecodeError:
            bad = np.zeros(n, dtype=bool)
            texts = []
            for i in range(n):  # slow path, only for chunks that hold invalid bytes
                raw = buf[offsets[i] : offsets[i + 1]]
                try:
                    texts.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    bad[i] = True
                    texts.append(raw.decode("utf-8", "backslashreplace"))
            lines = pa.array(texts, type=pa.large_string())
    if bad is None:
        lines = pa.Array.from_buffers(
            pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(memoryview(buf)[:data_end])]
        )
        bad = np.zeros(n, dtype=bool)
    line_no = np.arange(first_line_no, first_line_no + n, dtype=np.int64)
    return pa.RecordBatch.from_arrays(
        [pa.array(line_no), lines, pa.array(line_bytes), pa.array(bad)], schema=_LINE_SCHEMA
    )


def iter_line_batches(
    stream, chunk_bytes: int = CHUNK_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[pa.RecordBatch]:
    """Split a binary stream into batches of numbered lines (LF or CRLF), in bounded memory.

    A line longer than `max_line_bytes` is not accumulated: its first bytes are kept for the reject's
    preview, the rest is skipped up to the next newline, and its true length is reported.
    """
    line_no = 1
    carry = b""
    first = True
    skipping: list | None = None  # [prefix bytes, length so far] of an over-long line being skipped
    while True:
        block = stream.read(chunk_bytes)
        eof = not block
        if first and block:
            first = False
            block = block.removeprefix(_UTF8_BOM)
        if skipping is not None:
            newline = block.find(b"\n")
            if newline < 0 and not eof:
                skipping[1] += len(block)
                continue
            end = newline if newline >= 0 else len(block)
            skipping[1] += end
            yield _overlong_batch(skipping[0], skipping[1], line_no)
            line_no += 1
            skipping = None
            if eof:
                return
            block = block[newline + 1 :]
        buf = carry + block if carry else block
        if not buf:
            return
        arr = np.frombuffer(buf, dtype=np.uint8)
        newlines = np.flatnonzero(arr == 10)
        if eof:
            ends = (
                np.append(newlines, len(buf))
                if (len(newlines) == 0 or newlines[-1] != len(buf) - 1)
                else newlines
            )
            tail = b""
        else:
            ends = newlines
            tail_start = int(newlines[-1]) + 1 if len(newlines) else 0
            tail = buf[tail_start:]
        if len(ends):
            starts = np.empty(len(ends), dtype=np.int64)
            starts[0] = 0
            starts[1:] = ends[:-1] + 1
            yield _batch(buf, starts, ends.astype(np.int64), line_no)
            line_no += len(ends)
        if eof:
            return
        if len(tail) > max_line_bytes:
            skipping = [tail[: RAW_PREVIEW_CHARS * 4], len(tail)]
            carry = b""
        else:
            carry = tail


def _overlong_batch(prefix: bytes, length: int, line_no: int) -> pa.RecordBatch:
    text = _preview(prefix)
    return pa.RecordBatch.from_arrays(
        [pa.array([line_no]), pa.array([text], pa.large_string()), pa.array([length]), pa.array([False])],
        schema=_LINE_SCHEMA,
    )


# ---------------------------------------------------------------------------------------------------
# SQL. Every source yields the same "text" shape; typing and validation are shared by both paths.
# Values from data or config always travel as parameters ($name); the SQL text holds only code.
# ---------------------------------------------------------------------------------------------------
_MACROS = """
CREATE OR REPLACE MACRO q(x) AS '''' || left(x, 80) || (CASE WHEN length(x) > 80 THEN '...''' ELSE '''' END);
CREATE OR REPLACE MACRO iso(t) AS strftime(t, '%Y-%m-%dT%H:%M:%SZ');
CREATE OR REPLACE MACRO strip_eol(x) AS replace(replace(x, chr(10), ''), chr(13), '');
CREATE OR REPLACE MACRO whole(x) AS CASE WHEN x = floor(x) AND abs(x) < 9e18 THEN x::BIGINT END;
"""

# ISO 8601 with a time of day and an explicit offset: a bare local time is refused, never guessed as UTC.
# (LIKE patterns, not a regex: this runs on every row and costs a tenth as much; the cast that follows
# checks the rest of the format. A time of day never contains '-', so '-hh' at the end is an offset.)
_HAS_OFFSET = (
    "contains(ts_text, ':') AND (suffix(ts_text, 'Z') OR suffix(ts_text, 'z') "
    "OR ts_text LIKE '%+__:__' OR ts_text LIKE '%-__:__' OR ts_text LIKE '%+____' OR ts_text LIKE '%-____' "
    "OR ts_text LIKE '%+__' OR ts_text LIKE '%-__')"
)

_JSON_STRUCTURE = "{" + ",".join(f'"{f}":"VARCHAR"' for f in (*TEXT_FIELDS, *NUMBER_FIELDS)) + "}"

# ip ident user [time] "request" status bytes ["referer" "user agent"] [request time in seconds]
_COMBINED_RX = (
    r'^(\S+) \S+ (\S+) \[([^\]]*)\] "((?:[^"\\]|\\.)*)" (\S+) (\S+)'
    r'(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(?: (\S+))?\s*$'
)
# Blank lines (empty, or only spaces and tabs) are skipped and not counted as rows, as read_json does.
_NOT_BLANK = (
    r"line_bytes > 0 AND CASE WHEN left(line, 1) IN (' ', chr(9)) THEN regexp_matches(line, '[^ \t\r\n]') "
    "ELSE true END"
)
_CSV_QUOTED_FIELD_RX = '(?:^|,)("(?:[^"]|"")*"|[^,"]*)'


class _Sql:
    """Collects parameters while a query is assembled; `p(value)` returns the placeholder to splice."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}

    def p(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"


def _text_shape(
    sql: _Sql,
    *,
    file: str,
    texts: dict[str, str],
    numbers: dict[str, tuple[str, str]],
    exact: bool,
    structure_error: str = "NULL::VARCHAR",
) -> str:
    """The select list every source produces. texts: field -> SQL; numbers: field -> (text SQL, number SQL)."""
    head = (
        "line_no AS record_no, line, line_bytes, bad_utf8"
        if exact
        else "NULL::BIGINT AS record_no, NULL::VARCHAR AS line, 0::BIGINT AS line_bytes, false AS bad_utf8"
    )
    cols = [f"{sql.p(file)}::VARCHAR AS file", head, f"{structure_error} AS structure_error"]
    cols += [f"{texts[f]} AS {f}_text" for f in TEXT_FIELDS]
    cols += [f"{numbers[f][0]} AS {f}_text, {numbers[f][1]} AS {f}_num" for f in NUMBER_FIELDS]
    return ",\n    ".join(cols)


def _jsonl_fast_source(sql: _Sql, path: Path, file: str) -> str:
    columns = {f: "VARCHAR" for f in TEXT_FIELDS} | {f: "DOUBLE" for f in NUMBER_FIELDS}
    select = _text_shape(
        sql,
        file=file,
        texts={f: f"nullif({f}, '')" if f in OPTIONAL_TEXT else f for f in TEXT_FIELDS},
        numbers={f: ("NULL::VARCHAR", f) for f in NUMBER_FIELDS},
        exact=False,
    )
    return (
        f"SELECT {select}\nFROM read_json({sql.p(str(path))}, format = 'newline_delimited', "
        f"columns = {sql.p(columns)}, maximum_object_size = {sql.p(MAX_LINE_BYTES)})"
    )


def _jsonl_exact_source(sql: _Sql, file: str) -> str:
    structure_error = (
        "CASE WHEN j IS NULL THEN (CASE WHEN json_valid(line) THEN 'line: JSON value is not an object' "
        "ELSE 'line: invalid JSON' END) "
        "WHEN j.ts IS NULL AND j.provider IS NULL AND j.status IS NULL "
        "THEN (CASE WHEN json_type(line) <> 'OBJECT' THEN 'line: JSON value is not an object' END) END"
    )
    select = _text_shape(
        sql,
        file=file,
        texts={f: f"nullif(j.{f}, '')" for f in TEXT_FIELDS},
        numbers={f: (f"nullif(j.{f}, '')", f"try_cast(j.{f} AS DOUBLE)") for f in NUMBER_FIELDS},
        exact=True,
        structure_error=structure_error,
    )
    return (
        f"SELECT {select}\nFROM (SELECT *, try(json_transform(line, {sql.p(_JSON_STRUCTURE)})) AS j "
        f"FROM lines WHERE {_NOT_BLANK})"
    )


def _csv_columns(header: list[str]) -> dict[str, int] | None:
    """Field -> 1-based column position, by header name (case-insensitive); None if names repeat."""
    names = [h.strip().lower() for h in header]
    if len(set(names)) != len(names):
        return None
    return {f: names.index(f) + 1 for f in (*TEXT_FIELDS, *NUMBER_FIELDS) if f in names}


def _csv_fast_source(sql: _Sql, path: Path, file: str, header: list[str]) -> str | None:
    """read_csv with positional column names c1..cN (header names are data: they never enter SQL)."""
    positions = _csv_columns(header)
    if positions is None or any(f not in positions for f in JSONL_CSV_REQUIRED):
        return None  # let the exact path name the problem on every row
    by_position = {pos: f for f, pos in positions.items()}
    columns = {
        f"c{i}": ("DOUBLE" if by_position.get(i) in NUMBER_FIELDS else "VARCHAR")
        for i in range(1, len(header) + 1)
    }
    col = {f: f"c{pos}" for f, pos in positions.items()}
    select = _text_shape(
        sql,
        file=file,
        texts={
            f: (f"nullif({col[f]}, '')" if f in OPTIONAL_TEXT else col[f]) if f in col else "NULL::VARCHAR"
            for f in TEXT_FIELDS
        },
        numbers={f: ("NULL::VARCHAR", col[f]) for f in NUMBER_FIELDS},
        exact=False,
    )
    return (
        f"SELECT {select}\nFROM read_csv({sql.p(str(path))}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', strict_mode = true, null_padding = false, "
        f"columns = {sql.p(columns)}, max_line_size = {sql.p(MAX_LINE_BYTES)})"
    )


def _csv_exact_source(sql: _Sql, file: str, header: list[str]) -> str:
    """Split each line on commas (RFC 4180 quoting on the rare lines that hold a quote)."""
    positions = _csv_columns(header) or {}
    n_columns = sql.p(len(header))

    def field_sql(f: str) -> str:
        if f not in positions:
            return "NULL::VARCHAR"
        value = f"parts[{sql.p(positions[f])}]"
        if positions[f] == len(header):  # the last field still carries the line terminator
            value = f"strip_eol({value})"
        return f"nullif({value}, '')"

    structure_error = (
        f"CASE WHEN {sql.p(_csv_columns(header) is None)} THEN 'line: the CSV header repeats a column name' "
        "WHEN parts IS NULL THEN 'line: malformed CSV quoting' "
        f"WHEN len(parts) <> {n_columns} THEN 'line: ' || len(parts) || ' fields but the header has ' || {n_columns} END"
    )
    select = _text_shape(
        sql,
        file=file,
        texts={f: field_sql(f) for f in TEXT_FIELDS},
        numbers={f: (field_sql(f), f"try_cast({field_sql(f)} AS DOUBLE)") for f in NUMBER_FIELDS},
        exact=True,
        structure_error=structure_error,
    )
    quoted = sql.p(_CSV_QUOTED_FIELD_RX)
    return (
        f"SELECT {select}\nFROM (\n"
        "    SELECT * REPLACE (line_no - 1 AS line_no),\n"
        "        CASE WHEN NOT contains(line, '\"') THEN string_split(line, ',')\n"
        "             WHEN array_to_string(quoted, ',') = strip_eol(line)\n"
        "             THEN list_transform(quoted, lambda x: CASE WHEN starts_with(x, '\"')\n"
        "                  THEN replace(substr(x, 2, length(x) - 2), '\"\"', '\"') ELSE x END) END AS parts\n"
        f"    FROM (SELECT *, CASE WHEN contains(line, '\"') THEN regexp_extract_all(strip_eol(line), {quoted}, 1) END"
        f"          AS quoted FROM lines WHERE line_no > 1 AND {_NOT_BLANK}))"
    )


def _provider_case(sql: _Sql, column: str, mapping: dict[str, str], how: str) -> str:
    """CASE over config values (as parameters); how = 'equals' or 'prefix'."""
    if not mapping:
        return "NULL::VARCHAR"
    whens = []
    for match, key in mapping.items():
        test = f"{column} = {sql.p(match)}" if how == "equals" else f"starts_with({column}, {sql.p(match)})"
        whens.append(f"WHEN {test} THEN {sql.p(key)}")
    return "CASE " + " ".join(whens) + " END"


def _log_exact_source(sql: _Sql, file: str, file_provider: str | None, mapping: ProviderMapping) -> str:
    """Combined log lines -> the text shape, plus ts and provider already typed."""
    strips = " ".join(
        f"WHEN starts_with(path, {sql.p(prefix)}) THEN substr(path, {sql.p(len(prefix) + 1)})"
        for prefix in mapping.path_prefixes
    )
    endpoint = f"'/' || ltrim(CASE {strips} ELSE path END, '/')" if strips else "path"
    provider = f"coalesce({_provider_case(sql, 'provider_text', mapping.path_prefixes, 'prefix')}, {sql.p(file_provider)})"
    structure_error = (
        "CASE WHEN m.ip = '' THEN 'line: not in combined log format (ip - user [time] \"request\" status bytes ...)' "
        "WHEN path IS NULL THEN 'request: ' || q(m.request) || ' is not \"METHOD /path PROTOCOL\"' END"
    )
    rt = "nullif(nullif(m.rt, ''), '-')"
    select = _text_shape(
        sql,
        file=file,
        texts={
            "ts": "nullif(m.time, '')",
            "provider": "path",
            "model": "NULL::VARCHAR",
            "endpoint": f"CASE WHEN path IS NOT NULL THEN {endpoint} END",
            "client_id": "CASE WHEN m.user NOT IN ('-', '') THEN m.user ELSE m.ip END",
            "region": "NULL::VARCHAR",
            "error_type": "NULL::VARCHAR",
        },
        numbers={
            "status": ("nullif(m.status, '')", "try_cast(m.status AS DOUBLE)"),
            "latency_ms": (rt, f"try_cast({rt} AS DOUBLE) * 1000.0"),
            "tokens_in": ("NULL::VARCHAR", "NULL::DOUBLE"),
            "tokens_out": ("NULL::VARCHAR", "NULL::DOUBLE"),
        },
        exact=True,
        structure_error=structure_error,
    )
    groups = sql.p(["ip", "user", "time", "request", "status", "bytes", "referer", "ua", "rt"])
    return (
        f"SELECT *, try_strptime(ts_text, '%d/%b/%Y:%H:%M:%S %z') AS ts, {provider} AS provider FROM (\n"
        f"SELECT {select}\nFROM (\n"
        "    SELECT *, CASE WHEN regexp_matches(m.request, '^\\S+ /') "
        "THEN split_part(split_part(m.request, ' ', 2), '?', 1) END AS path\n"
        f"    FROM (SELECT *, regexp_extract(line, {sql.p(_COMBINED_RX)}, {groups}) AS m FROM lines "
        f"WHERE {_NOT_BLANK})))"
    )


def _typed(sql: _Sql, source: str, mapping: ProviderMapping) -> str:
    """JSONL/CSV: ts from ISO 8601 text with an offset, provider from the configured names."""
    return (
        f"SELECT *, CASE WHEN {_HAS_OFFSET} THEN try_cast(ts_text AS TIMESTAMPTZ) END AS ts, "
        f"{_provider_case(sql, 'lower(provider_text)', mapping.names, 'equals')} AS provider\n"
        f"FROM ({source})"
    )


def _validated(
    sql: _Sql,
    typed: str,
    *,
    required: tuple[str, ...],
    day: dt.date,
    now: dt.datetime,
    ts_hint: str,
    latency_field: str,
    provider_reason: str,
) -> str:
    """Adds the final typed columns and `reason` (NULL when the row is accepted; else the first problem)."""
    day_start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    missing = []
    for f in required:
        # '' counts as missing (required text fields skip nullif on the fast path: this check covers it)
        test = (
            f"{f}_text IS NULL OR {f}_text = ''"
            if f in TEXT_FIELDS
            else f"{f}_text IS NULL AND {f}_num IS NULL"
        )
        missing.append(f"WHEN {test} THEN '{f}: missing required field'")
    shown = {f: f"coalesce({f}_text, {f}_num::VARCHAR)" for f in NUMBER_FIELDS}
    max_bytes = sql.p(MAX_LINE_BYTES)
    return f"""
SELECT file, record_no, ts, provider, model_text AS model, endpoint_text AS endpoint, status, latency_ms,
       tokens_in, tokens_out, client_id_text AS client_id, region_text AS region, error_type_text AS error_type,
       reason, CASE WHEN reason IS NOT NULL THEN left(strip_eol(line), {sql.p(RAW_PREVIEW_CHARS)}) END AS raw
FROM (
    SELECT *, CASE
        WHEN bad_utf8 THEN 'line: bytes are not valid UTF-8'
        WHEN line_bytes > {max_bytes}
            THEN 'line: ' || line_bytes || ' bytes is longer than the limit of ' || {max_bytes} || ' bytes'
        WHEN structure_error IS NOT NULL THEN structure_error
        {" ".join(missing)}
        WHEN ts IS NULL THEN 'ts: ' || q(ts_text) || ' is not a timestamp with a UTC offset ({ts_hint})'
        WHEN ts < {sql.p(day_start)} OR ts >= {sql.p(day_start + dt.timedelta(days=1))}
            THEN 'ts: ' || iso(ts) || ' is outside the partition day ' || {sql.p(day.isoformat())} || ' (UTC)'
        WHEN ts > {sql.p(now)} THEN 'ts: ' || iso(ts) || ' is in the future'
        WHEN status IS NULL THEN 'status: ' || q({shown["status"]}) || ' is not an integer HTTP code in 100-599'
        WHEN latency_ms_num IS NULL AND latency_ms_text IS NOT NULL OR NOT isfinite(latency_ms_num)
            THEN '{latency_field}: ' || q({shown["latency_ms"]}) || ' is not a number'
        WHEN latency_ms < 0 THEN '{latency_field}: ' || q({shown["latency_ms"]}) || ' is negative'
        WHEN tokens_in_num IS NOT NULL AND tokens_in IS NULL OR tokens_in_num IS NULL AND tokens_in_text IS NOT NULL
            THEN 'tokens_in: ' || q({shown["tokens_in"]}) || ' is not a whole number'
        WHEN tokens_in < 0 THEN 'tokens_in: ' || tokens_in || ' is negative'
        WHEN tokens_out_num IS NOT NULL AND tokens_out IS NULL OR tokens_out_num IS NULL AND tokens_out_text IS NOT NULL
            THEN 'tokens_out: ' || q({shown["tokens_out"]}) || ' is not a whole number'
        WHEN tokens_out < 0 THEN 'tokens_out: ' || tokens_out || ' is negative'
        WHEN provider IS NULL THEN {provider_reason}
    END AS reason
    FROM (
        SELECT *,
            CASE WHEN status_num BETWEEN 100 AND 599 AND status_num = floor(status_num)
                 THEN status_num::INTEGER END AS status,
            CASE WHEN isfinite(latency_ms_num) THEN latency_ms_num END AS latency_ms,
            whole(tokens_in_num) AS tokens_in,
            whole(tokens_out_num) AS tokens_out
        FROM ({typed})
    )
)"""


_NAMES_REASON = "'provider: ' || q(provider_text) || ' is not a configured provider (request_logs.names in the providers config)'"
_LOG_PROVIDER_REASON = (
    "'provider: path ' || q(provider_text) || ' has no configured prefix (request_logs.path_prefixes) "
    "and the file name has no configured host (request_logs.hosts)'"
)


def _jsonl_csv_validated(
    sql: _Sql, source: str, mapping: ProviderMapping, day: dt.date, now: dt.datetime
) -> str:
    return _validated(
        sql,
        _typed(sql, source, mapping),
        required=JSONL_CSV_REQUIRED,
        day=day,
        now=now,
        ts_hint="ISO 8601, e.g. 2026-03-02T11:49:03Z",
        latency_field="latency_ms",
        provider_reason=_NAMES_REASON,
    )


def _log_validated(sql: _Sql, source: str, day: dt.date, now: dt.datetime) -> str:
    return _validated(
        sql,
        source,
        required=LOG_REQUIRED,
        day=day,
        now=now,
        ts_hint="combined log time, e.g. 02/Mar/2026:11:49:03 +0000",
        latency_field="request_time",
        provider_reason=_LOG_PROVIDER_REASON,
    )


def _accepted_only(validated: str, columns: str = ", ".join(LAKE_COLUMNS)) -> str:
    """Lake columns of a validated query that aborts on the first refused row (the fast path)."""
    return (
        f"SELECT {columns} FROM ({validated}) "
        "WHERE CASE WHEN reason IS NULL THEN true "
        "ELSE error('refused row in ' || file || ': ' || reason || ' (re-read by the exact path)') END"
    )


# ---------------------------------------------------------------------------------------------------
# Files and days
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _RawFile:
    path: Path
    rel: str
    kind: str | None  # jsonl, csv, log; None = not a request-log file

    @property
    def format(self) -> str:
        return (self.kind or self.path.suffix.lstrip(".") or "?") + (
            ".gz" if self.path.name.endswith(".gz") else ""
        )


def file_format(path: Path) -> str | None:
    """jsonl, csv or log from the file name (a trailing .gz is looked through); None otherwise."""
    name = path.name.removesuffix(".gz")
    return FORMATS.get(Path(name).suffix.lower())


def list_day_files(raw_day_dir: Path) -> list[Path]:
    """The day's raw files in name order; hidden files (editors, partial uploads) are ignored."""
    if not raw_day_dir.is_dir():
        return []
    return sorted(p for p in raw_day_dir.iterdir() if p.is_file() and not p.name.startswith("."))


def _read_csv_header(path: Path) -> list[str]:
    with open_raw(path) as stream:
        first = stream.readline(MAX_LINE_BYTES)
    text = first.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")
    if not text:
        return []
    try:
        return next(csv.reader([text]), [])
    except csv.Error:  # stray CR or NUL in the header: its names will simply not match any field
        return text.split(",")


def _sql_literal(path: Path) -> str:
    """A file path as the body of a SQL string literal (COPY targets cannot be bound as parameters)."""
    return str(path).replace("'", "''")


def _connect(work_dir: Path, memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET temp_directory = ?", [str(work_dir / "spill")])
    con.execute("SET preserve_insertion_order = false")  # row order in the lake is not part of the contract
    if threads:
        con.execute("SET threads = ?", [int(threads)])
    con.execute(_MACROS)
    return con


def _copy(con: duckdb.DuckDBPyConnection, sql: _Sql, query: str, target: Path, options: str) -> int:
    rows = con.execute(
        f"COPY ({query}) TO '{_sql_literal(target)}' (FORMAT parquet, {options})", sql.params
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def _fast_query(
    sql: _Sql, files: list[_RawFile], mapping: ProviderMapping, day: dt.date, now: dt.datetime, stage: bool
) -> str | None:
    """One query over all `files` with the native readers, or None if one of them cannot take that path.

    stage: also output the (empty) record_no, reason and raw columns, like an exact-path stage file.
    """
    columns = ", ".join(LAKE_COLUMNS) + (", record_no, reason, raw" if stage else "")
    parts = []
    for f in files:
        if f.kind == "jsonl":
            source = _jsonl_fast_source(sql, f.path, f.rel)
        elif f.kind == "csv":
            source = _csv_fast_source(sql, f.path, f.rel, _read_csv_header(f.path))
        else:
            source = None
        if source is None:
            return None
        parts.append(_accepted_only(_jsonl_csv_validated(sql, source, mapping, day, now), columns))
    return "\nUNION ALL\n".join(parts) if parts else None


def count_lines(path: Path, stop: threading.Event | None = None) -> int:
    """Physical lines in a file (a last line without newline counts), decompressing .gz on the fly."""
    buffer = bytearray(CHUNK_BYTES)
    view = np.frombuffer(buffer, dtype=np.uint8)
    lines, last = 0, 10
    with open_raw(path) as stream:
        while (size := stream.readinto(buffer)) and not (stop and stop.is_set()):
            lines += int(np.count_nonzero(view[:size] == 10))
            last = buffer[size - 1]
    return lines + (last != 10)


def _try_fast(
    con,
    files: list[_RawFile],
    mapping,
    day,
    now,
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
    sql = _Sql()
    try:
        query = _fast_query(sql, files, mapping, day, now, stage)
    except _UNREADABLE:  # the CSV header could not be read: the exact path reports it
        return None
    if query is None:
        return None
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:  # count lines on the side while DuckDB parses
        line_counts = pool.submit(lambda: [count_lines(f.path, stop) for f in files])
        try:
            _copy(con, sql, query, target, "COMPRESSION uncompressed" if stage else LAKE_PARQUET_OPTIONS)
            counts = dict(
                con.execute(
                    "SELECT file, count(*) FROM read_parquet(?) GROUP BY file", [str(target)]
                ).fetchall()
            )
            expected = line_counts.result()
        except (duckdb.Error, *_UNREADABLE) as exc:
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


def _exact_file(con, f: _RawFile, mapping: ProviderMapping, day, now, target: Path) -> str | None:
    """Every line of one file (accepted or not, with reason) -> target; returns an error if unreadable."""
    sql = _Sql()
    if f.kind == "jsonl":
        query = _jsonl_csv_validated(sql, _jsonl_exact_source(sql, f.rel), mapping, day, now)
    elif f.kind == "csv":
        try:
            header = _read_csv_header(f.path)
        except _UNREADABLE as exc:
            return _unreadable(exc)
        query = _jsonl_csv_validated(sql, _csv_exact_source(sql, f.rel, header), mapping, day, now)
    else:
        source = _log_exact_source(sql, f.rel, mapping.provider_for_file_name(f.path.name), mapping)
        query = _log_validated(sql, source, day, now)

    failure: list[BaseException] = []

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            with open_raw(f.path) as stream:
                yield from iter_line_batches(stream)
        except _UNREADABLE as exc:
            failure.append(exc)
            raise

    con.register("lines", pa.RecordBatchReader.from_batches(_LINE_SCHEMA, batches()))
    try:
        _copy(con, sql, query, target, "COMPRESSION uncompressed")
    except duckdb.Error:
        if not failure:
            raise
        target.unlink(missing_ok=True)
        return _unreadable(failure[0])
    finally:
        con.unregister("lines")
    return None


def _unreadable(exc: BaseException) -> str:
    return f"file: unreadable ({type(exc).__name__}: {exc}); the whole file was skipped"


def _inside(path: Path, data_dir: Path) -> bool:
    return data_dir.resolve() in path.resolve().parents


def _relative(path: Path, data_dir: Path) -> str:
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def ingest_day(
    raw_day_dir: Path | str,
    day: dt.date | str,
    output_path: Path | str,
    mapping: ProviderMapping | ProvidersConfig,
    *,
    data_dir: Path | str | None = None,
    now: dt.datetime | None = None,
    work_dir: Path | str | None = None,
    memory_limit: str = "1GB",
    threads: int | None = None,
    fast_path: bool = True,
) -> DayResult:
    """Parse every request-log file of one UTC day into one Parquet file of accepted rows.

    raw_day_dir: the day's folder (raw/request_logs/<YYYY-MM-DD>/); day: that UTC day.
    output_path: the Parquet file of accepted rows (zstd, columns LAKE_COLUMNS). It is written in
        place: callers that need atomicity (the lake writer) pass a temp path and rename it.
    mapping: the providers config or a ProviderMapping built from it.
    data_dir: `file` values are made relative to it (default: three levels above raw_day_dir).
    now: rows later than this are refused as "in the future" (default: the current time).
    work_dir: scratch space (staging files, DuckDB spill); default: a temp dir beside output_path,
        removed afterwards.
    memory_limit, threads: for the in-memory DuckDB that does the work.
    fast_path: False forces the exact line-by-line path for every file (tests compare the two).
    Returns per-file counts and the refused rows (quarantine schema); nothing touches the warehouse.
    """
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    if isinstance(mapping, ProvidersConfig):
        mapping = ProviderMapping.from_config(mapping)
    raw_day_dir, output_path = Path(raw_day_dir), Path(output_path)
    data_dir = Path(data_dir) if data_dir is not None else raw_day_dir.resolve().parents[2]
    now = now or dt.datetime.now(dt.UTC)
    listed = list_day_files(raw_day_dir)
    # A symlink that leads out of the data dir is never read: it is refused whole, like an unreadable file.
    escaping = [p for p in listed if not _inside(p, data_dir)]
    files = [_RawFile(p, _relative(p, data_dir), file_format(p)) for p in listed if p not in escaping]
    output_path.parent.mkdir(parents=True, exist_ok=True)
    work = (
        Path(work_dir)
        if work_dir is not None
        else Path(tempfile.mkdtemp(prefix=".work-", dir=output_path.parent))
    )
    work.mkdir(parents=True, exist_ok=True)
    result = DayResult(day=day, output_path=output_path)
    try:
        con = _connect(work, memory_limit, threads)
        try:
            suspects: set[str] = set()
            rows = (
                _try_fast(con, files, mapping, day, now, output_path, suspects=suspects)
                if fast_path and files
                else None
            )
            if rows is not None:
                for f in files:
                    n = rows[f.rel]
                    result.files.append(FileResult(f.rel, f.format, f.path.stat().st_size, "native", n, n, 0))
            else:
                _per_file(con, files, mapping, day, now, work, output_path, result, fast_path, suspects)
        finally:
            con.close()
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    if escaping:
        for p in escaping:
            link = _relative(raw_day_dir, data_dir) + "/" + p.name  # the link's own name, not its target
            result.files.append(FileResult(link, file_format(p) or "", 0, rows_in=1, rows_quarantined=1,
                                           error="file: symlink leaving the data dir; refused"))
        refused = [{"source": SOURCE, "file": f.file, "record_no": 0, "reason": f.error, "raw": ""}
                   for f in result.files if f.error == "file: symlink leaving the data dir; refused"]
        result.rejects = pl.concat([result.rejects, pl.DataFrame(refused, schema=REJECTED_SCHEMA)])
    return result


def _per_file(
    con,
    files,
    mapping,
    day,
    now,
    work: Path,
    output_path: Path,
    result: DayResult,
    fast_path: bool,
    suspects: set[str],
) -> None:
    """Each file on its own: native if it is clean, else line by line; then merge into output_path.

    suspects: files the day-wide native attempt already failed on; they go straight to the exact path.
    """
    stages: list[Path] = []
    whole_file_rejects = []
    for i, f in enumerate(files):
        fr = FileResult(f.rel, f.format, f.path.stat().st_size)
        stage = work / f"stage-{i:05d}.parquet"
        if f.kind is None:
            fr.error = (
                f"file: {f.path.name!r} is not a request log (expected .jsonl, .csv or .log, optionally .gz)"
            )
        elif (
            fast_path
            and f.kind in ("jsonl", "csv")
            and f.rel not in suspects
            and _try_fast(con, [f], mapping, day, now, stage, stage=True) is not None
        ):
            fr.parser = "native"
        else:
            fr.error = _exact_file(con, f, mapping, day, now, stage)
            fr.parser = "lines" if fr.error is None else ""
        if fr.error is None:
            stages.append(stage)
        else:
            fr.rows_in = fr.rows_quarantined = 1  # the file itself is the one refused record (record_no 0)
            whole_file_rejects.append(
                {"source": SOURCE, "file": f.rel, "record_no": 0, "reason": fr.error, "raw": ""}
            )
        result.files.append(fr)

    lake_columns = ", ".join(f"{c}::{t} AS {c}" for c, t in LAKE_COLUMNS.items())
    if not stages:  # an empty file with the right schema, so the day still has its file set
        empty = ", ".join(f"NULL::{t} AS {c}" for c, t in LAKE_COLUMNS.items())
        con.execute(
            f"COPY (SELECT {empty} WHERE false) TO '{_sql_literal(output_path)}' (FORMAT parquet, {LAKE_PARQUET_OPTIONS})"
        ).fetchall()
    else:
        stage_list = {"stages": [str(s) for s in stages]}
        source = "read_parquet($stages, union_by_name = true)"
        con.execute(
            f"COPY (SELECT {lake_columns} FROM {source} WHERE reason IS NULL) "
            f"TO '{_sql_literal(output_path)}' (FORMAT parquet, {LAKE_PARQUET_OPTIONS})",
            stage_list,
        ).fetchall()
        counts = {
            file: (int(total), int(refused))
            for file, total, refused in con.execute(
                f"SELECT file, count(*), count(reason) FROM {source} GROUP BY file", stage_list
            ).fetchall()
        }
        for fr in result.files:
            if fr.error is None:
                total, refused = counts.get(fr.file, (0, 0))
                fr.rows_in, fr.rows_quarantined, fr.rows_accepted = total, refused, total - refused
        frame = con.sql(
            f"SELECT $source AS source, file, record_no, reason, raw FROM {source} "
            "WHERE reason IS NOT NULL ORDER BY file, record_no",
            params={**stage_list, "source": SOURCE},
        ).pl()
        result.rejects = frame.select([pl.col(c).cast(t) for c, t in REJECTED_SCHEMA.items()])
    if whole_file_rejects:
        result.rejects = pl.concat([result.rejects, pl.DataFrame(whole_file_rejects, schema=REJECTED_SCHEMA)])
