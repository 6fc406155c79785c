"""One chart file -> its feed: JSON decoding, then Apple RSS v2 or legacy iTunes RSS recognised."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assets.ingest.day_folders import FileRefused
from assets.ingest.day_sources import read_raw


@dataclass
class Feed:
    """A chart response reduced to what we keep: its format, entries in rank order and update time."""

    feed_format: str
    entries: list[object]
    updated_text: str | None
    country: str | None


def load_json(path: Path) -> object:
    """The file's JSON document (UTF-8, BOM allowed); raises FileRefused saying where it breaks."""
    data = read_raw(path)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileRefused(f"file: not UTF-8 text (bad byte at offset {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise FileRefused(
            f"file: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise FileRefused(f"file: not valid JSON ({type(exc).__name__})") from exc


def label(value: object) -> object:
    """Legacy iTunes fields are {"label": ...} objects; Apple sometimes sends the bare value."""
    return value.get("label") if isinstance(value, dict) else value


def _as_list(value: object) -> list[object]:
    """A feed's entries: legacy iTunes sends a bare object when the chart holds one app."""
    return value if isinstance(value, list) else [] if value is None else [value]


def detect_feed(doc: object) -> Feed:
    """Recognise Apple RSS v2 or legacy iTunes RSS JSON; an empty chart is a feed with no entries."""
    feed = doc.get("feed") if isinstance(doc, dict) else None
    if not isinstance(feed, dict):
        raise FileRefused("feed: no 'feed' object; not an Apple RSS v2 or legacy iTunes RSS response")
    country = feed.get("country")
    country = country.strip().lower() if isinstance(country, str) else None
    # Only a `results` key makes an Apple RSS v2 chart: a string `updated` alone used to, which read a feed
    # whose `results` had been renamed (schema drift) as an empty chart and lost its entries silently.
    if "results" in feed:
        updated = feed.get("updated")
        return Feed(
            "apple_rss_v2", _as_list(feed.get("results")), updated if isinstance(updated, str) else None, country
        )
    if "entry" in feed or isinstance(feed.get("updated"), dict):
        updated = label(feed.get("updated"))
        return Feed(
            "itunes_legacy", _as_list(feed.get("entry")), updated if isinstance(updated, str) else None, country
        )
    if isinstance(feed.get("updated"), str):  # looks like Apple RSS v2, but the entries are not where they go
        keys = ", ".join(sorted(repr(str(k))[:40] for k in feed)[:20])
        raise FileRefused(f"feed: no 'results' list (found keys: {keys}); renamed?")
    raise FileRefused(
        "feed: neither 'results' (Apple RSS v2) nor 'entry' (legacy iTunes RSS); unknown feed format"
    )
