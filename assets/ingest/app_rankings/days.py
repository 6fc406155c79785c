"""The App Store chart run: the chart feeds and rank histories with rows for the run's days -> ranked rows,
refusals quarantined. A feed belongs to its folder's day; a history row to the day in its `date` column."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest import day_folders
from assets.ingest.app_rankings.entries import entry_fields, preview
from assets.ingest.app_rankings.feeds import Feed, detect_feed, load_json
from assets.ingest.app_rankings.history_csv import HistoryRecord, history_row, read_history
from assets.ingest.app_rankings.schema import HISTORY_FORMAT, SOURCE, STAGING_SCHEMA
from assets.ingest.app_rankings.updated import parse_updated
from assets.ingest.day_folders import FileRefused, parse_day
from assets.ingest.day_sources import (
    CHARGED_SCHEMA,
    DayParse,
    ListedFile,
    encodable,
    files_for_days,
    placed_day,
)
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


def is_feed(file_name: str) -> bool:
    """JSON chart feeds are named <country>-<chart>.json; any other file is read as a rank-history CSV."""
    return file_name.lower().endswith((".json", ".json.gz"))


def _open_chart(
    listed: ListedFile, allowed: Sequence[str], charts_seen: Mapping[tuple[str, str, str], str]
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
    if (listed.day, country, chart) in charts_seen:
        first = charts_seen[(listed.day, country, chart)]
        raise FileRefused(f"file: a second {country}-{chart} chart for {listed.day} (first: {first})")
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
                "partition_day": listed.home_day,
                "day": listed.home_day,
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


def _history_rows(
    listed: ListedFile,
    placed: Sequence[tuple[HistoryRecord, dt.date]],
    allowed: Sequence[str],
    app_names: Mapping[str, str],
    app_to_provider: Mapping[str, str],
    rejects: Rejects,
) -> list[dict]:
    """One staging row per usable history row (placed on the run's days); the others go to `rejects`."""
    rows = []
    for record, day in placed:
        fields, reason = history_row(record, day, allowed, app_names)
        if reason is not None:
            rejects.add(listed.rel, record.record_no, reason, record.raw)
            continue
        rows.append(
            {
                "partition_day": day,
                "day": day,
                **fields,
                "provider": app_to_provider.get(fields["app_id"] or ""),
                "feed_format": HISTORY_FORMAT,
                "file": listed.rel,
                "feed_updated": None,
                "feed_updated_text": None,
                "record_no": record.record_no,
            }
        )
    return rows


def _claim_charts(rows: list[dict], rejects: Rejects) -> list[dict]:
    """One source per chart and day: the first file (folder, then name order) that has it; in it, one app
    per rank and one rank per app. The other rows go to `rejects`."""
    owner: dict[tuple, str] = {}
    taken: dict[tuple, int] = {}
    kept = []
    for row in rows:
        chart = (row["partition_day"], row["country"], row["chart"])
        app = row["app_id"] or row["app_name"].lower()
        first = owner.setdefault(chart, row["file"])
        on = f"{row['country']} {row['chart']} on {row['partition_day']}"
        if first != row["file"]:
            reason = f"chart: {on} already comes from {first}"
        elif (*chart, "rank", row["rank"]) in taken:
            reason = f"rank: {row['rank']} of {on} is already taken (record {taken[(*chart, 'rank', row['rank'])]})"
        elif (*chart, "app", app) in taken:
            reason = f"app_id: {app!r} already listed at rank {taken[(*chart, 'app', app)]}"
        else:
            taken[(*chart, "rank", row["rank"])] = row["record_no"]
            taken[(*chart, "app", app)] = row["rank"]
            kept.append(row)
            continue
        rejects.add(row["file"], row["record_no"], reason, "")
    return kept


@dataclass
class _Collected:
    """What the run has read so far: rows, rejects, records in, the records placed on its days, empty feeds."""

    rejects: Rejects = field(default_factory=lambda: Rejects(SOURCE))
    rows: list[dict] = field(default_factory=list)
    rows_in: int = 0
    charged: list[tuple[str, int]] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)

    def refuse(self, listed: ListedFile, reason: str) -> None:
        self.rows_in += 1
        self.charged.append((listed.rel, 0))
        self.rejects.add(listed.rel, 0, reason, "")


def parse_app_days(
    data_dir: Path,
    days: Iterable[str],
    app_to_provider: Mapping[str, str],
    countries: Sequence[str],
    app_names: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    first_day: dt.date = dt.date.min,
) -> RanksParse:
    """Read every chart feed and rank-history row of `days` (YYYY-MM-DD).

    `app_to_provider` is config.provider_for_app_id(); `countries` the configured country codes; `app_names`
    configured app name -> Apple id (names a history without ids); `now` and `first_day` bound the days a
    history row can be placed on. A feed file is refused whole (one reject, record 0) when its name, JSON or
    format is wrong, its country is not configured or disagrees with feed.country, or another file already
    gave that country and chart for its day; a history that has no rank-history header is refused whole too.
    """
    allowed, app_names = [c.lower() for c in countries], app_names or {}
    today, wanted = (now or dt.datetime.now(dt.UTC)).date(), {parse_day(d) for d in days}
    histories: dict[str, list[HistoryRecord] | FileRefused] = {}

    def read(listed: ListedFile) -> list[HistoryRecord] | FileRefused:
        if listed.rel not in histories:
            try:
                listed.ensure_inside()  # refuses a symlink out of the data dir before any read
                histories[listed.rel] = read_history(listed.path)
            except FileRefused as exc:
                histories[listed.rel] = exc
        return histories[listed.rel]

    def row_days(listed: ListedFile) -> set[str | None]:
        records = None if is_feed(listed.path.name) else read(listed)
        return {r.own_day for r in records} if isinstance(records, list) else {None}

    run = files_for_days(data_dir, SOURCE, days, row_days, first_day, today)
    got = _Collected()
    charts_seen: dict[tuple[str, str, str], str] = {}
    for listed in run.files:
        if not is_feed(listed.path.name):
            records = read(listed)
            if isinstance(records, FileRefused):
                got.refuse(listed, str(records))
                continue
            placed = [(r, placed_day(r.own_day, listed.home_day, first_day, today)) for r in records]
            mine = [(r, d) for r, d in placed if d in wanted]
            got.rows_in += len(mine)
            got.charged += [(listed.rel, r.record_no) for r, _ in mine]
            got.rows += _history_rows(listed, mine, allowed, app_names, app_to_provider, got.rejects)
            continue
        try:
            country, chart, feed = _open_chart(listed, allowed, charts_seen)
        except FileRefused as exc:
            got.refuse(listed, str(exc))
            continue
        charts_seen[(listed.day, country, chart)] = listed.rel
        got.empty += [] if feed.entries else [listed.rel]
        got.rows_in += len(feed.entries)
        got.charged += [(listed.rel, n) for n in range(len(feed.entries) + 1)]
        got.rows += _chart_rows(listed, country, chart, feed, app_to_provider, got.rejects)
    accepted = pl.DataFrame(_claim_charts(got.rows, got.rejects), schema=STAGING_SCHEMA)
    charged = pl.DataFrame(got.charged, schema=CHARGED_SCHEMA, orient="row")
    parsed = RanksParse(
        accepted, got.rejects.frame(), [f.rel for f in run.files], got.rows_in, charged, run.outdated, run.index, got.empty
    )
    parsed.ensure_balanced("app rankings", "entries", "an entry")
    return parsed
