"""A platform's document translated into Statuspage-shaped records, for the one validator they all share.

Every platform (Instatus, Better Stack, Google Cloud, AWS Health, Rootly, Azure's RSS) says the same things in
its own words: an incident with a title, a status, times, updates and the components it touched. Each
platform module translates its words into Statuspage API v2's (one documented mapping per platform, unknown
words refused, never guessed) and statuspage_json.add_translated validates the result exactly as it validates
a Statuspage page, so the four staging tables and the quarantine reasons look the same whatever the source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from assets.ingest.status_pages.schema import INCIDENTS, Invalid


@dataclass
class Source:
    """One Statuspage-shaped record, where it sits in the platform's document, and the record as sent."""

    record_no: int  # 1-based position in the platform's own array
    path: str  # e.g. "activeIncidents[2]": names the record in quarantine reasons
    record: object
    raw: object = None  # the platform's record, previewed when the record is quarantined


@dataclass
class Translated:
    incidents: list[Source] = field(default_factory=list)
    components: list[Source] = field(default_factory=list)
    refused: list[tuple[str, int, str, object]] = field(default_factory=list)  # (table, record_no, reason, raw)


def each_incident(records: list, array: str, translate_one: Callable[[object, str], dict],
                  into: Translated | None = None) -> Translated:
    """Translate every record of the platform's `array` (its name in reasons; "" for a bare top-level array);
    a record that cannot be translated is refused on its own, with its position and the reason."""
    out = into or Translated()
    for position, record in enumerate(records):
        path = f"{array}[{position}]"
        try:
            out.incidents.append(Source(position + 1, path, translate_one(record, path), record))
        except Invalid as exc:
            out.refused.append((INCIDENTS, position + 1, str(exc), record))
    return out


def iso(when: dt.datetime | None) -> str | None:
    return when.astimezone(dt.UTC).isoformat() if when is not None else None


def epoch_seconds(value: object, where: str) -> dt.datetime | None:
    """AWS's times: epoch seconds as a number or a string of digits; None for null/missing/empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
        raise Invalid(f"{where}: {value!r:.60} is not a time in epoch seconds")
    return dt.datetime.fromtimestamp(int(value), tz=dt.UTC)


def mapped(value: object, vocabulary: Mapping[str, str | None], where: str, platform: str) -> str | None:
    """A platform's word in ours, by the platform's documented vocabulary; an unknown word is Invalid."""
    if value is None or value == "":
        return None
    key = value.strip() if isinstance(value, str) else value
    if not isinstance(key, str) or key not in vocabulary:
        raise Invalid(f"{where}: {value!r:.60} is not one of {platform}'s {', '.join(vocabulary)}")
    return vocabulary[key]


def record_list(document: object, key: str, platform: str) -> list:
    """`document[key]` as a list (missing = empty), or Invalid for the whole file."""
    if not isinstance(document, dict):
        raise Invalid(f"expected a JSON object (a {platform} document), got a {type(document).__name__}")
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(f"'{key}' must be a list, got {type(value).__name__}")
    return value


def last_path_segment(url: object) -> str | None:
    """`abc123` for `https://status.example.com/incidents/abc123`: the id pages without one still link to."""
    if not isinstance(url, str) or not url.strip():
        return None
    segment = url.split("?")[0].split("#")[0].rstrip("/").rpartition("/")[2]
    return segment or None
