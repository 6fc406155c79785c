"""Typing and validation SQL shared by both paths: a row is accepted with identical values by either.

The query (validation.sql) adds the typed columns and `reason`, the first problem of a refused row,
worded to say which field was wrong and why.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources

from assets.ingest.request_logs.fields import (
    JSONL_CSV_REQUIRED,
    LOG_REQUIRED,
    MAX_LINE_BYTES,
    TEXT_FIELDS,
)
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.sources import SqlParams, provider_case
from pipelines.core.quarantine import RAW_PREVIEW_CHARS

_VALIDATION_SQL = resources.files(__package__).joinpath("validation.sql").read_text(encoding="utf-8")

# ISO 8601 with a time of day and an explicit offset: a bare local time is refused, never guessed as UTC.
# (LIKE patterns, not a regex: this runs on every row and costs a tenth as much; the cast that follows
# checks the rest of the format. A time of day never contains '-', so '-hh' at the end is an offset.)
_HAS_OFFSET = (
    "contains(ts_text, ':') AND (suffix(ts_text, 'Z') OR suffix(ts_text, 'z') "
    "OR ts_text LIKE '%+__:__' OR ts_text LIKE '%-__:__' OR ts_text LIKE '%+____' OR ts_text LIKE '%-____' "
    "OR ts_text LIKE '%+__' OR ts_text LIKE '%-__')"
)
ANOTHER_DAY = "a row of another UTC day"  # aborts a one-day fast write (fast_path.try_fast)
_NAMES_REASON = "'provider: ' || q(provider_text) || ' is not a configured provider (request_logs.names in the providers config)'"
_LOG_PROVIDER_REASON = (
    "'provider: path ' || q(provider_text) || ' has no configured prefix (request_logs.path_prefixes) "
    "and the file name has no configured host (request_logs.hosts)'"
)


def _typed(sql: SqlParams, source: str, mapping: ProviderMapping) -> str:
    """JSONL/CSV: ts from ISO 8601 text with an offset, provider from the configured names.

    The common `...Z` form is recognised by one suffix test, so the LIKE patterns run only on the rest
    (same accepted set: a `Z` suffix with a time of day is an offset; about a third of the typing cost).
    """
    return (
        "SELECT *, CASE WHEN suffix(ts_text, 'Z') AND contains(ts_text, ':') THEN try_cast(ts_text AS TIMESTAMPTZ) "
        f"WHEN {_HAS_OFFSET} THEN try_cast(ts_text AS TIMESTAMPTZ) END AS ts, "
        f"{provider_case(sql, 'provider_text', mapping.names, 'any_case')} AS provider\n"
        f"FROM ({source})"
    )


def _validated(
    sql: SqlParams,
    typed: str,
    *,
    required: tuple[str, ...],
    earliest: dt.date,
    now: dt.datetime,
    ts_hint: str,
    latency_field: str,
    provider_reason: str,
) -> str:
    """Adds the final typed columns, the row's UTC `day` and `reason` (NULL when accepted; else the first problem).

    A row may lie on any UTC day from `earliest` up to `now`: files are not cut at midnight, and each
    accepted row goes to the day of its own timestamp.
    """
    missing = []
    for f in required:
        # '' counts as missing (required text fields skip nullif on the fast path: this check covers it)
        test = (
            f"{f}_text IS NULL OR {f}_text = ''"
            if f in TEXT_FIELDS
            else f"{f}_text IS NULL AND {f}_num IS NULL"
        )
        missing.append(f"WHEN {test} THEN '{f}: missing required field'")
    return _VALIDATION_SQL.format(
        max_line_bytes=sql.p(MAX_LINE_BYTES),
        raw_preview_chars=sql.p(RAW_PREVIEW_CHARS),
        missing_checks=" ".join(missing),
        ts_hint=ts_hint,
        earliest_start=sql.p(dt.datetime(earliest.year, earliest.month, earliest.day, tzinfo=dt.UTC)),
        earliest=sql.p(earliest.isoformat()),
        now=sql.p(now),
        latency_field=latency_field,
        provider_reason=provider_reason,
        typed=typed,
    )


def jsonl_csv_validated(
    sql: SqlParams,
    source: str,
    mapping: ProviderMapping,
    earliest: dt.date,
    now: dt.datetime,
    required: tuple[str, ...] = JSONL_CSV_REQUIRED,
) -> str:
    """required: GATEWAY_REQUIRED for a gateway export's canonical JSONL (fewer fields are known)."""
    return _validated(
        sql,
        _typed(sql, source, mapping),
        required=required,
        earliest=earliest,
        now=now,
        ts_hint="ISO 8601, e.g. 2026-03-02T11:49:03Z",
        latency_field="latency_ms",
        provider_reason=_NAMES_REASON,
    )


def log_validated(sql: SqlParams, source: str, earliest: dt.date, now: dt.datetime) -> str:
    return _validated(
        sql,
        source,
        required=LOG_REQUIRED,
        earliest=earliest,
        now=now,
        ts_hint="combined log time, e.g. 02/Mar/2026:11:49:03 +0000",
        latency_field="request_time",
        provider_reason=_LOG_PROVIDER_REASON,
    )


def accepted_only(validated: str, columns: str, expected_day: tuple[str, str] | None = None) -> str:
    """Lake columns of a validated query that aborts on the first refused row (the fast path).

    expected_day: placeholders of the UTC day's first instant and the next day's; a row outside them
    then also aborts the query, with a message holding ANOTHER_DAY (the caller retries with a write split
    by day). Compared as instants, not as `day`: the time-zone-aware cast to DATE is the dearer test.
    """
    another_day = (
        f"WHEN ts < {expected_day[0]} OR ts >= {expected_day[1]} "
        f"THEN error('{ANOTHER_DAY} in ' || file || ': ' || iso(ts)) "
        if expected_day
        else ""
    )
    return (
        f"SELECT {columns} FROM ({validated}) "
        "WHERE CASE WHEN reason IS NOT NULL "
        "THEN error('refused row in ' || file || ': ' || reason || ' (re-read by the exact path)') "
        f"{another_day}ELSE true END"
    )
