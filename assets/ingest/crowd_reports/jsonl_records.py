"""JSON Lines exports -> text records: one JSON object per line, its keys are the columns."""

from __future__ import annotations

import json
import re

import polars as pl

from assets.ingest.crowd_reports.schema import COLUMNS, REQUIRED_COLUMNS, note_drift
from assets.ingest.day_sources import encodable

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _as_text(column: str, value: object) -> tuple[str | None, str | None]:
    """A JSON value as text (numbers keep their JSON spelling) or a reason why it cannot be one."""
    if value is None or isinstance(value, str):
        return value, None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, (int, float)):
        return (str(value) if isinstance(value, int) else repr(value)), None
    kind = "an object" if isinstance(value, dict) else "an array"
    return None, f"{column}: expected text or a number, got {kind}"


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line: invalid JSON ({exc.msg} at column {exc.colno})"
    return f"line: invalid JSON ({type(exc).__name__}: {exc})"[:300]


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _parse_object(text: str | None) -> tuple[dict | None, str | None]:
    """The line's JSON object, or None and the reason it is not one."""
    if text is None:
        return None, "line: not valid UTF-8 text"
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return None, _json_error(exc)
    if not isinstance(obj, dict):
        return None, f"line: expected a JSON object, got {type(obj).__name__}"
    return obj, None


def _object_values(obj: dict, text: str) -> tuple[list[str | None], str | None]:
    """COLUMNS of one object as text, and the first field that cannot be text (or stored) as reason."""
    check_unicode = _SURROGATE_ESCAPE.search(text) is not None
    values: list[str | None] = []
    reason = None
    for c in COLUMNS:
        value, problem = _as_text(c, obj.get(c))
        if check_unicode and value is not None and not encodable(value):
            value, problem = None, f"{c}: contains an unpaired unicode surrogate escape"
        reason = reason or problem
        values.append(value)
    return values, reason


def jsonl_records(lines: pl.DataFrame, drift: dict[str, list[str]]) -> pl.DataFrame:
    """(record_no, raw, reason, *COLUMNS as text) per line; record_no is the line number."""
    columns: dict[str, list[str | None]] = {c: [] for c in COLUMNS}
    reasons: list[str | None] = []
    keys: set[str] = set()
    for text in lines["text"].to_list():
        obj, reason = _parse_object(text)
        values: list[str | None] = [None] * len(COLUMNS)
        if obj is not None:
            keys.update(obj)
            values, reason = _object_values(obj, text)
        for c, value in zip(COLUMNS, values, strict=True):
            columns[c].append(value)
        reasons.append(reason)
    names = sorted(_printable(k) for k in keys)
    missing = [c for c in REQUIRED_COLUMNS if c not in keys] if keys else []
    note_drift(drift, names, missing)
    frame = lines.select(pl.col("line_no").alias("record_no"), "raw").with_columns(
        pl.Series("reason", reasons, dtype=pl.String),
        *[pl.Series(c, columns[c], dtype=pl.String) for c in COLUMNS],
    )
    if missing:
        # A key absent from every record is a renamed column, not a few sparse rows: say so on each row.
        file_reason = (
            f"{missing[0]}: required field missing from every record of this file "
            f"(found: {', '.join(names)}); was it renamed?"
        )
        frame = frame.with_columns(pl.coalesce("reason", pl.lit(file_reason)).alias("reason"))
    return frame
