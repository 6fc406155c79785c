"""The App Store chart run: every chart file of the partition days -> ranked rows, refusals quarantined."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest import day_folders
from assets.ingest.app_rankings.entries import entry_fields, preview
from assets.ingest.app_rankings.feeds import Feed, detect_feed, load_json
from assets.ingest.app_rankings.schema import SOURCE, STAGING_SCHEMA
from assets.ingest.app_rankings.updated import parse_updated
from assets.ingest.day_folders import FileRefused
from assets.ingest.day_sources import DayParse, ListedFile, encodable, listed_files
from pipelines.core.quarantine import Rejects

_FILE_NAME = re.compile(r"^([A-Za-z]{2})-([a-z0-9]+(?:[-_][a-z0-9]+)*)\.json$")


@dataclass
class RanksParse(DayParse):
    """What one run read: accepted rows (STAGING_SCHEMA), quarantined entries, files seen, empty feeds."""

    empty_feeds: list[str] = field(default_factory=list)


def day_files(data_dir: Path, day: str) -> list[Path]:
    return day_folders.day_files(data_dir, day, SOURCE)


def country_and_chart(file_name: str) -> tuple[str, str]:
    """`us-top-free.json` -> ("us", "top-free"); raises FileRefused naming what is wrong."""
    match = _FILE_NAME.match(file_name)
    if not match:
        raise FileRefused(
            f"file name: {file_name!r} is not <country>-<chart>.json "
            "(2-letter country, lower-case chart slug such as top-free)"
        )
    return match[1].lower(), match[2]


def _open_chart(
    listed: ListedFile, allowed: Sequence[str], charts_seen: Mapping[tuple[str, str], str]
) -> tuple[str, str, Feed]:
    """(country, chart, feed) of one file, or FileRefused: bad name, unconfigured country, second copy of
    a chart, JSON or format we cannot read, feed.country disagreeing with the name."""
    listed.ensure_inside()  # refuses a symlink out of the data dir before any read
    country, chart = country_and_chart(listed.path.name)
    if country not in allowed:
        raise FileRefused(
            f"country: {country!r} (from the file name) is not a configured country "
            f"({', '.join(allowed)}); add it to app_store.countries to keep it"
        )
    if (country, chart) in charts_seen:
        raise FileRefused(
            f"file: a second {country}-{chart} chart for {listed.day} (first: {charts_seen[(country, chart)]})"
        )
    feed = detect_feed(load_json(listed.path))
    if feed.country is not None and feed.country != country:
        raise FileRefused(
            f"feed.country: {feed.country!r} does not match country {country!r} from the file name"
        )
    return country, chart, feed


def _chart_rows(
    listed: ListedFile, country: str, chart: str, feed: Feed, app_to_provider: Mapping[str, str], rejects: Rejects
) -> list[dict]:
    """One staging row per usable entry (rank = 1-based position); the others go to `rejects`."""
    updated = parse_updated(feed.updated_text)
    updated_text = feed.updated_text if encodable(feed.updated_text or "") else None
    ranks_of_app: dict[str, int] = {}
    rows: list[dict] = []
    for position, entry in enumerate(feed.entries):
        rank = position + 1
        fields, reason = entry_fields(feed.feed_format, entry)
        if reason is None and fields["app_id"] in ranks_of_app:
            reason = f"id: {fields['app_id']!r} already listed at rank {ranks_of_app[fields['app_id']]}"
        if reason is not None:
            rejects.add(listed.rel, rank, reason, preview(entry))
            continue
        ranks_of_app[fields["app_id"]] = rank
        rows.append(
            {
                "partition_day": listed.partition_day,
                "day": listed.partition_day,
                "country": country,
                "chart": chart,
                "rank": rank,
                **fields,
                "provider": app_to_provider.get(fields["app_id"]),
                "feed_format": feed.feed_format,
                "file": listed.rel,
                "feed_updated": updated,
                "feed_updated_text": updated_text,
                "record_no": rank,
            }
        )
    return rows


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
    allowed = [c.lower() for c in countries]
    rejects = Rejects(SOURCE)
    rows: list[dict] = []
    files: list[str] = []
    empty: list[str] = []
    rows_in = 0
    for day in days:
        charts_seen: dict[tuple[str, str], str] = {}
        for listed in listed_files(data_dir, day, SOURCE):
            files.append(listed.rel)
            try:
                country, chart, feed = _open_chart(listed, allowed, charts_seen)
            except FileRefused as exc:
                rows_in += 1
                rejects.add(listed.rel, 0, str(exc), "")
                continue
            charts_seen[(country, chart)] = listed.rel
            if not feed.entries:
                empty.append(listed.rel)
            rows_in += len(feed.entries)
            rows.extend(_chart_rows(listed, country, chart, feed, app_to_provider, rejects))
    parsed = RanksParse(pl.DataFrame(rows, schema=STAGING_SCHEMA), rejects.frame(), files, rows_in, empty)
    parsed.ensure_balanced("app rankings", "entries", "an entry")
    return parsed
