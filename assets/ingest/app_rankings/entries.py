"""One chart entry -> (app_id, app_name, artist_name), or the reason it cannot be used (naming the field)."""

from __future__ import annotations

import json
import re

from assets.ingest.app_rankings.feeds import label
from assets.ingest.day_sources import encodable

_LEGACY_ID_IN_URL = re.compile(r"/id(\d+)")
_APP_ID = re.compile(r"\d+", re.ASCII)  # Apple app ids are positive integers ("-5" or "12a" are not)

Fields = dict[str, str | None]


def preview(entry: object) -> str:
    """An entry as JSON text (for the quarantine and for reasons); repr() when it is not JSON."""
    try:
        return json.dumps(entry, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return repr(entry)


def _text(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _apple_fields(entry: dict) -> Fields:
    return {
        "app_id": _text(entry.get("id")),
        "app_name": _text(entry.get("name")),
        "artist_name": _text(entry.get("artistName")),
    }


def _legacy_fields(entry: dict) -> Fields:
    """The id is in id.attributes["im:id"], else in the store URL of id.label (.../id123)."""
    id_field = entry.get("id")
    attributes = id_field.get("attributes") if isinstance(id_field, dict) else None
    app_id = _text(attributes.get("im:id")) if isinstance(attributes, dict) else None
    if app_id is None and isinstance(url := label(id_field), str) and (m := _LEGACY_ID_IN_URL.search(url)):
        app_id = m[1]
    return {
        "app_id": app_id,
        "app_name": _text(label(entry.get("im:name"))),
        "artist_name": _text(label(entry.get("im:artist"))),
    }


def _problem(feed_format: str, entry: dict, fields: Fields) -> str | None:
    """The first thing wrong with the entry's fields, or None."""
    apple = feed_format == "apple_rss_v2"
    for key, field_name in (("app_id", "id"), ("app_name", "name")):
        if fields[key] is None:
            given = entry.get(field_name) if apple else None
            if given is not None and not isinstance(given, str):
                return f"{field_name}: {preview(given)[:60]} is not text or an integer"
            return f"{field_name}: missing or empty"
    if not _APP_ID.fullmatch(fields["app_id"]) or int(fields["app_id"]) == 0:
        given = entry.get("id") if apple else fields["app_id"]
        shown = repr(given) if isinstance(given, str) else preview(given)
        return f"id: {shown[:60]} is not a positive integer Apple app id"
    for key, value in fields.items():
        if value is not None and not encodable(value):
            return f"{key}: contains an unpaired unicode surrogate escape"
    return None


def entry_fields(feed_format: str, entry: object) -> tuple[Fields, str | None]:
    """(app_id, app_name, artist_name) of one entry, or the reason it cannot be used."""
    if not isinstance(entry, dict):
        return {}, f"entry: expected a JSON object, got {type(entry).__name__}"
    fields = _apple_fields(entry) if feed_format == "apple_rss_v2" else _legacy_fields(entry)
    return fields, _problem(feed_format, entry, fields)
