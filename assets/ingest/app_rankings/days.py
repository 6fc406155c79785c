"""App Store chart snapshots -> one row per (day, country, chart, rank), refused entries quarantined.

Input: raw/app_rankings/<YYYY-MM-DD>/<country>-<chart>.json, as fetched from Apple's RSS v2 generator
(`{"feed": {"title", "country", "updated", "results": [{"id", "name", "artistName", ...}]}}`) or from the
legacy iTunes RSS JSON (`{"feed": {"updated": {"label"}, "entry": [{"im:name": {"label"}, "id": {"label",
"attributes": {"im:id"}}, ...}]}}`, where `entry` is a bare object when the chart holds one app).
Rank is the position in the feed (1-based). A chart holds at most a few hundred entries, so walking the
JSON in Python is the simple and fast way.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest import day_folders
from assets.ingest.day_folders import FileRefused as _FileRefused
from assets.ingest.day_folders import parse_day
from pipelines.core.quarantine import Rejects

SOURCE = "app_rankings"
FEED_FORMATS = ("apple_rss_v2", "itunes_legacy")


def day_files(data_dir: Path, day: str) -> list[Path]:
    return day_folders.day_files(data_dir, day, SOURCE)


def resolve_inside(data_dir: Path, day: str, listed: Path) -> Path:
    return day_folders.resolve_inside(data_dir, day, listed, SOURCE)


# staging.app_ranks (contract columns first; record_no = the entry's 1-based position in `file`)
STAGING_SCHEMA = {
    "partition_day": pl.Date,
    "day": pl.Date,
    "country": pl.String,
    "chart": pl.String,
    "rank": pl.Int32,
    "app_id": pl.String,
    "app_name": pl.String,
    "provider": pl.String,
    "feed_format": pl.String,
    "file": pl.String,
    "artist_name": pl.String,
    "feed_updated": pl.Datetime("us", "UTC"),
    "feed_updated_text": pl.String,
    "record_no": pl.Int64,
}

_FILE_NAME = re.compile(r"^([A-Za-z]{2})-([a-z0-9]+(?:[-_][a-z0-9]+)*)\.json$")
_LEGACY_ID_IN_URL = re.compile(r"/id(\d+)")
_APP_ID = re.compile(r"\d+", re.ASCII)  # Apple app ids are positive integers ("-5" or "12a" are not)


@dataclass
class RanksParse:
    """What one run read: accepted rows (STAGING_SCHEMA), quarantined entries, files seen, empty feeds."""

    accepted: pl.DataFrame
    rejects: pl.DataFrame
    files: list[str]
    rows_in: int
    empty_feeds: list[str] = field(default_factory=list)

    @property
    def rows_accepted(self) -> int:
        return self.accepted.height

    @property
    def rows_quarantined(self) -> int:
        return self.rejects.height


@dataclass
class Feed:
    """A chart response reduced to what we keep: its format, entries in rank order and update time."""

    feed_format: str
    entries: list[object]
    updated_text: str | None
    country: str | None


def country_and_chart(file_name: str) -> tuple[str, str]:
    """`us-top-free.json` -> ("us", "top-free"); raises _FileRefused naming what is wrong."""
    match = _FILE_NAME.match(file_name)
    if not match:
        raise _FileRefused(
            f"file name: {file_name!r} is not <country>-<chart>.json "
            "(2-letter country, lower-case chart slug such as top-free)"
        )
    return match[1].lower(), match[2]


def _label(value: object) -> object:
    """Legacy iTunes fields are {"label": ...} objects; Apple sometimes sends the bare value."""
    return value.get("label") if isinstance(value, dict) else value


def detect_feed(doc: object) -> Feed:
    """Recognise Apple RSS v2 or legacy iTunes RSS JSON; an empty chart is a feed with no entries."""
    feed = doc.get("feed") if isinstance(doc, dict) else None
    if not isinstance(feed, dict):
        raise _FileRefused("feed: no 'feed' object; not an Apple RSS v2 or legacy iTunes RSS response")
    country = feed.get("country")
    country = country.strip().lower() if isinstance(country, str) else None
    # Only a `results` key makes an Apple RSS v2 chart: a string `updated` alone used to, which read a feed
    # whose `results` had been renamed (schema drift) as an empty chart and lost its entries silently.
    if "results" in feed:
        results = feed.get("results")
        entries = results if isinstance(results, list) else [] if results is None else [results]
        updated = feed.get("updated")
        return Feed("apple_rss_v2", entries, updated if isinstance(updated, str) else None, country)
    if "entry" in feed or isinstance(feed.get("updated"), dict):
        entry = feed.get("entry")
        entries = entry if isinstance(entry, list) else [] if entry is None else [entry]
        updated = _label(feed.get("updated"))
        return Feed("itunes_legacy", entries, updated if isinstance(updated, str) else None, country)
    if isinstance(feed.get("updated"), str):  # looks like Apple RSS v2, but the entries are not where they go
        keys = ", ".join(sorted(repr(str(k))[:40] for k in feed)[:20])
        raise _FileRefused(f"feed: no 'results' list (found keys: {keys}); renamed?")
    raise _FileRefused(
        "feed: neither 'results' (Apple RSS v2) nor 'entry' (legacy iTunes RSS); unknown feed format"
    )


def _text(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def entry_fields(feed_format: str, entry: object) -> tuple[dict[str, str | None], str | None]:
    """(app_id, app_name, artist_name) of one entry, or the reason it cannot be used."""
    if not isinstance(entry, dict):
        return {}, f"entry: expected a JSON object, got {type(entry).__name__}"
    if feed_format == "apple_rss_v2":
        app_id, name, artist = (
            _text(entry.get("id")),
            _text(entry.get("name")),
            _text(entry.get("artistName")),
        )
    else:
        id_field = entry.get("id")
        attributes = id_field.get("attributes") if isinstance(id_field, dict) else None
        app_id = _text(attributes.get("im:id")) if isinstance(attributes, dict) else None
        if (
            app_id is None
            and isinstance(url := _label(id_field), str)
            and (m := _LEGACY_ID_IN_URL.search(url))
        ):
            app_id = m[1]
        name, artist = _text(_label(entry.get("im:name"))), _text(_label(entry.get("im:artist")))
    fields = {"app_id": app_id, "app_name": name, "artist_name": artist}
    for key, label in (("app_id", "id"), ("app_name", "name")):
        if fields[key] is None:
            given = entry.get(label) if feed_format == "apple_rss_v2" else None
            if given is not None and not isinstance(given, str):
                return fields, f"{label}: {_preview(given)[:60]} is not text or an integer"
            return fields, f"{label}: missing or empty"
    if not _APP_ID.fullmatch(fields["app_id"]) or int(fields["app_id"]) == 0:
        given = entry.get("id") if feed_format == "apple_rss_v2" else fields["app_id"]
        shown = repr(given) if isinstance(given, str) else _preview(given)
        return fields, f"id: {shown[:60]} is not a positive integer Apple app id"
    for key, value in fields.items():
        if value is not None and not _encodable(value):
            return fields, f"{key}: contains an unpaired unicode surrogate escape"
    return fields, None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_updated(text: str | None) -> dt.datetime | None:
    """Feed update time in UTC: RFC 2822 (RSS v2) or ISO 8601 with offset (legacy); None if neither."""
    if not text:
        return None
    try:
        stamp = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            stamp = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if stamp is None or stamp.tzinfo is None:
        return None
    return stamp.astimezone(dt.UTC)


def load_json(path: Path) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _FileRefused(f"file: unreadable ({exc.strerror or exc}); check permissions") from exc
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _FileRefused(f"file: not UTF-8 text (bad byte at offset {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise _FileRefused(
            f"file: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise _FileRefused(f"file: not valid JSON ({type(exc).__name__})") from exc


def parse_app_days(
    data_dir: Path,
    days: Iterable[str],
    app_to_provider: Mapping[str, str],
    countries: Sequence[str],
) -> RanksParse:
    """Read every chart file of `days` (YYYY-MM-DD).

    `app_to_provider` is config.provider_for_app_id(); `countries` the configured country codes. A file
    is refused whole (one reject, record 0) when its name, JSON or format is wrong, its country is not
    configured or disagrees with feed.country, or another file already gave that country and chart.
    """
    data_dir = Path(data_dir)
    allowed = [c.lower() for c in countries]
    rejects = Rejects(SOURCE)
    rows: list[dict] = []
    files: list[str] = []
    empty: list[str] = []
    rows_in = 0
    for day in days:
        partition_day = parse_day(day)
        charts_seen: dict[tuple[str, str], str] = {}
        for path in day_files(data_dir, day):
            rel = path.relative_to(data_dir.resolve()).as_posix()
            files.append(rel)
            try:
                resolve_inside(data_dir, day, path)  # refuses a symlink out of the data dir before any read
                country, chart = country_and_chart(path.name)
                if country not in allowed:
                    raise _FileRefused(
                        f"country: {country!r} (from the file name) is not a configured country "
                        f"({', '.join(allowed)}); add it to app_store.countries to keep it"
                    )
                if (country, chart) in charts_seen:
                    raise _FileRefused(
                        f"file: a second {country}-{chart} chart for {day} (first: {charts_seen[(country, chart)]})"
                    )
                feed = detect_feed(load_json(path))
                if feed.country is not None and feed.country != country:
                    raise _FileRefused(
                        f"feed.country: {feed.country!r} does not match country {country!r} from the file name"
                    )
            except _FileRefused as exc:
                rows_in += 1
                rejects.add(rel, 0, str(exc), "")
                continue
            charts_seen[(country, chart)] = rel
            if not feed.entries:
                empty.append(rel)
            updated = parse_updated(feed.updated_text)
            ranks_of_app: dict[str, int] = {}
            rows_in += len(feed.entries)
            for position, entry in enumerate(feed.entries):
                rank = position + 1
                fields, reason = entry_fields(feed.feed_format, entry)
                if reason is None and fields["app_id"] in ranks_of_app:
                    reason = (
                        f"id: {fields['app_id']!r} already listed at rank {ranks_of_app[fields['app_id']]}"
                    )
                if reason is not None:
                    rejects.add(rel, rank, reason, _preview(entry))
                    continue
                ranks_of_app[fields["app_id"]] = rank
                rows.append(
                    {
                        "partition_day": partition_day,
                        "day": partition_day,
                        "country": country,
                        "chart": chart,
                        "rank": rank,
                        **fields,
                        "provider": app_to_provider.get(fields["app_id"]),
                        "feed_format": feed.feed_format,
                        "file": rel,
                        "feed_updated": updated,
                        "feed_updated_text": feed.updated_text
                        if _encodable(feed.updated_text or "")
                        else None,
                        "record_no": rank,
                    }
                )
    parsed = RanksParse(pl.DataFrame(rows, schema=STAGING_SCHEMA), rejects.frame(), files, rows_in, empty)
    if parsed.rows_in != parsed.rows_accepted + parsed.rows_quarantined:
        raise RuntimeError(
            f"app rankings: {parsed.rows_in} entries in but {parsed.rows_accepted} accepted "
            f"+ {parsed.rows_quarantined} quarantined; an entry was lost (parser bug)"
        )
    return parsed


def _preview(entry: object) -> str:
    try:
        return json.dumps(entry, ensure_ascii=True)
    except (TypeError, ValueError, RecursionError):
        return repr(entry)
