"""Per-format SQL sources: JSONL, CSV and combined-log input -> one "text" shape of columns.

Every source yields the same select list (file, record_no, line, ..., <field>_text, <number>_num), so
typing and validation (validation.py) are shared by the fast and the exact path. Values from data or
config always travel as parameters ($name); the SQL text holds only code.
"""

from __future__ import annotations

import json
from pathlib import Path

from assets.ingest.request_logs.fields import (
    JSONL_CSV_REQUIRED,
    MAX_LINE_BYTES,
    NUMBER_FIELDS,
    OPTIONAL_TEXT,
    TEXT_FIELDS,
)
from assets.ingest.request_logs.providers import ProviderMapping

ColumnMap = dict[str, str]  # our field -> the name of that field in the user's file (providers config column_map)

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
# A quoted or plain field after a comma; the line gets one comma in front, so every match consumes at
# least that comma (with `(?:^|,)` instead, an empty first field made the next field vanish).
_CSV_QUOTED_FIELD_RX = ',("(?:[^"]|"")*"|[^,"]*)'


def _ident(name: str) -> str:
    """A field name from the config's column_map as a quoted SQL identifier (the one place names enter SQL)."""
    return '"' + name.replace('"', '""') + '"'


def _theirs(column_map: ColumnMap, field: str) -> str:
    return column_map.get(field, field)


class SqlParams:
    """Collects parameters while a query is assembled; `p(value)` returns the placeholder to splice."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}

    def p(self, value: object) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"


def _text_shape(
    sql: SqlParams,
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


def jsonl_fast_source(sql: SqlParams, path: Path, file: str, column_map: ColumnMap) -> str:
    columns = {_theirs(column_map, f): "VARCHAR" for f in TEXT_FIELDS}
    columns |= {_theirs(column_map, f): "DOUBLE" for f in NUMBER_FIELDS}
    col = {f: _ident(_theirs(column_map, f)) for f in (*TEXT_FIELDS, *NUMBER_FIELDS)}
    select = _text_shape(
        sql,
        file=file,
        texts={f: f"nullif({col[f]}, '')" if f in OPTIONAL_TEXT else col[f] for f in TEXT_FIELDS},
        numbers={f: ("NULL::VARCHAR", col[f]) for f in NUMBER_FIELDS},
        exact=False,
    )
    return (
        f"SELECT {select}\nFROM read_json({sql.p(str(path))}, format = 'newline_delimited', "
        f"columns = {sql.p(columns)}, maximum_object_size = {sql.p(MAX_LINE_BYTES)})"
    )


def jsonl_exact_source(sql: SqlParams, file: str, column_map: ColumnMap) -> str:
    j = {f: "j." + _ident(_theirs(column_map, f)) for f in (*TEXT_FIELDS, *NUMBER_FIELDS)}
    structure = json.dumps({_theirs(column_map, f): "VARCHAR" for f in (*TEXT_FIELDS, *NUMBER_FIELDS)})
    structure_error = (
        "CASE WHEN j IS NULL THEN (CASE WHEN json_valid(line) THEN 'line: JSON value is not an object' "
        "ELSE 'line: invalid JSON' END) "
        f"WHEN {j['ts']} IS NULL AND {j['provider']} IS NULL AND {j['status']} IS NULL "
        "THEN (CASE WHEN json_type(line) <> 'OBJECT' THEN 'line: JSON value is not an object' END) END"
    )
    select = _text_shape(
        sql,
        file=file,
        texts={f: f"nullif({j[f]}, '')" for f in TEXT_FIELDS},
        numbers={f: (f"nullif({j[f]}, '')", f"try_cast({j[f]} AS DOUBLE)") for f in NUMBER_FIELDS},
        exact=True,
        structure_error=structure_error,
    )
    return (
        f"SELECT {select}\nFROM (SELECT *, try(json_transform(line, {sql.p(structure)})) AS j "
        f"FROM lines WHERE {_NOT_BLANK})"
    )


def _csv_columns(header: list[str], column_map: ColumnMap) -> dict[str, int] | None:
    """Field -> 1-based column position, by header name (case-insensitive); None if names repeat."""
    names = [h.strip().lower() for h in header]
    if len(set(names)) != len(names):
        return None
    theirs = {f: _theirs(column_map, f).lower() for f in (*TEXT_FIELDS, *NUMBER_FIELDS)}
    return {f: names.index(name) + 1 for f, name in theirs.items() if name in names}


def csv_fast_source(sql: SqlParams, path: Path, file: str, header: list[str], column_map: ColumnMap) -> str | None:
    """read_csv with positional column names c1..cN (header names are data: they never enter SQL)."""
    positions = _csv_columns(header, column_map)
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


def csv_exact_source(sql: SqlParams, file: str, header: list[str], column_map: ColumnMap) -> str:
    """Split each line on commas (RFC 4180 quoting on the rare lines that hold a quote)."""
    positions = _csv_columns(header, column_map) or {}
    n_columns = sql.p(len(header))

    def field_sql(f: str) -> str:
        if f not in positions:
            return "NULL::VARCHAR"
        value = f"parts[{sql.p(positions[f])}]"
        if positions[f] == len(header):  # the last field still carries the line terminator
            value = f"strip_eol({value})"
        return f"nullif({value}, '')"

    structure_error = (
        f"CASE WHEN {sql.p(_csv_columns(header, column_map) is None)} THEN 'line: the CSV header repeats a column name' "
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
        f"    FROM (SELECT *, CASE WHEN contains(line, '\"') THEN regexp_extract_all(',' || strip_eol(line), {quoted}, 1) END"
        f"          AS quoted FROM lines WHERE line_no > 1 AND {_NOT_BLANK}))"
    )


def provider_case(sql: SqlParams, column: str, mapping: dict[str, str], how: str) -> str:
    """CASE over config values (as parameters): how = 'prefix' (`column` starts with one) or 'any_case'
    (`column` lower-cased is one; the values are lower-case). Most values are written as configured, so
    any_case tries them as they are first and lower-cases only the rest (lower-casing all of 10 M values cost
    0.4 of the fast path's 14 CPU s)."""
    if not mapping:
        return "NULL::VARCHAR"
    pairs = [(sql.p(match), sql.p(key)) for match, key in mapping.items()]
    if how == "prefix":
        return "CASE " + " ".join(f"WHEN starts_with({column}, {m}) THEN {k}" for m, k in pairs) + " END"
    exact = " ".join(f"WHEN {column} = {m} THEN {k}" for m, k in pairs)
    lowered = " ".join(f"WHEN lower({column}) = {m} THEN {k}" for m, k in pairs)
    return f"CASE {exact} ELSE CASE {lowered} END END"


def log_exact_source(sql: SqlParams, file: str, file_provider: str | None, mapping: ProviderMapping) -> str:
    """Combined log lines -> the text shape, plus ts and provider already typed."""
    strips = " ".join(
        f"WHEN starts_with(path, {sql.p(prefix)}) THEN substr(path, {sql.p(len(prefix) + 1)})"
        for prefix in mapping.path_prefixes
    )
    endpoint = f"'/' || ltrim(CASE {strips} ELSE path END, '/')" if strips else "path"
    provider = f"coalesce({provider_case(sql, 'provider_text', mapping.path_prefixes, 'prefix')}, {sql.p(file_provider)})"
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

