"""Readers of one field of a Statuspage / incident.io JSON record: the value, or Invalid with the reason.

`where` prefixes every reason with the record's path (`incidents[3] (id 'abc'): `), so a quarantined row
says which field of which record was wrong and why. `required` is True for the fields Statuspage API v2
always sends (page_kind statuspage) and False for incident.io's lenient dialect.

(Hand-written rather than pydantic models: the reasons users see - and the README and the robustness
tests quote - name the record path, the field, the offending value and the dialect hint; pydantic's
errors would have to be translated back into exactly these texts, in this order, field by field.)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from assets.ingest.status_pages.schema import COMPONENT_STATUSES, Invalid


def decode_text(data: bytes) -> str:
    """The file as text, or Invalid naming why it is not usable UTF-8."""
    if not data:
        raise Invalid("empty file (0 bytes): the fetch probably failed; delete it or fetch again")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with a byte-order mark, as some endpoints send
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise Invalid(f"not UTF-16 text despite its byte-order mark: {exc.reason} at offset {exc.start}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded"
        ) from exc


MAX_JSON_DEPTH_ERRORS = (RecursionError, MemoryError)


def load_json(data: bytes) -> object:
    """The decoded JSON document, or Invalid naming why the whole file is unusable."""
    text = decode_text(data)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"not valid JSON (truncated or corrupt?): {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except MAX_JSON_DEPTH_ERRORS as exc:
        raise Invalid("not usable JSON: nested too deeply") from exc


def parse_timestamp(value: object, name: str) -> dt.datetime | None:
    """An ISO 8601 time with offset (`2026-03-02T11:49:42.123Z`, `...-08:00`) as UTC; None for null/missing."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name}: expected an ISO 8601 time string, got {type(value).__name__} {value!r:.80}")
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"{name}: {text!r:.80} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Invalid(f"{name}: {text!r:.80} has no UTC offset (expected e.g. 'Z' or '-08:00')")
    return parsed.astimezone(dt.UTC)


def text(record: Mapping, key: str, where: str, required: bool) -> str | None:
    value = record.get(key)
    if value is None:
        if required:
            raise Invalid(f"{where}{key}: missing (required by Statuspage API v2; if this page is incident.io's "
                          "compatible API, set its status_page.kind to incident_io)")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Invalid(f"{where}{key}: expected a string, got {type(value).__name__} {value!r:.80}")
    return str(value)


def identifier(record: Mapping, key: str, where: str, required: bool) -> str | None:
    value = text(record, key, where, required)
    if value is not None and not value.strip():
        if required:
            raise Invalid(f"{where}{key}: is empty")
        return None
    return value.strip() if value is not None else None


def time(record: Mapping, key: str, where: str, required: bool) -> dt.datetime | None:
    value = parse_timestamp(record.get(key), f"{where}{key}")
    if value is None and required:
        raise Invalid(f"{where}{key}: missing (required by Statuspage API v2; set status_page.kind to incident_io "
                      "if this page omits it)")
    return value


def vocabulary(record: Mapping, key: str, allowed: tuple[str, ...], where: str, required: bool) -> str | None:
    value = text(record, key, where, required)
    if value is None or (value == "" and not required):
        return None
    if value not in allowed:
        raise Invalid(f"{where}{key}: {value!r:.60} is not one of {', '.join(allowed)}")
    return value


def listing(record: Mapping, key: str, where: str, required: bool) -> list:
    value = record.get(key)
    if value is None:
        if required:
            raise Invalid(f"{where}{key}: missing (required by Statuspage API v2)")
        return []
    if not isinstance(value, list):
        raise Invalid(f"{where}{key}: expected a list, got {type(value).__name__}")
    return value


def component_status(value: object, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in COMPONENT_STATUSES:
        raise Invalid(f"{where}: {value!r:.60} is not one of {', '.join(COMPONENT_STATUSES)}")
    return value
