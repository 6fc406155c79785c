"""A calendar strip: one square per UTC day of a range, bad days marked, each linking to its digest.

Red (bad): a major or critical vendor incident started, or our own evidence (telemetry, crowd reports)
saw an outage episode. Amber (minor): only minor vendor incidents or status-page episodes. Grey: no data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable

import polars as pl

from assets.reports.marts_data import has


def days_with_rows(frames: Iterable[tuple[pl.DataFrame | None, str]]) -> set[dt.date]:
    """UTC days on which any row of the frames starts (incidents, episodes, alerts: column given)."""
    days: set[dt.date] = set()
    for frame, column in frames:
        if has(frame, column):
            if "impact" in frame.columns:
                frame = frame.filter(pl.col("impact").fill_null("") != "maintenance")
            days |= {ts.astimezone(dt.UTC).date() for ts in frame[column].drop_nulls().to_list()}
    return days


SEVERE_IMPACTS = ("major", "critical")
OWN_EVIDENCE = ("telemetry", "crowd")


def marked_days(incidents: pl.DataFrame | None, episodes: pl.DataFrame | None) -> tuple[set, set]:
    """(bad days, minor days) from incident starts and outage-episode starts."""
    severe = []
    if has(incidents, "started_at", "impact"):
        severe.append((incidents.filter(pl.col("impact").is_in(SEVERE_IMPACTS)), "started_at"))
    if has(episodes, "started_at", "source"):
        severe.append((episodes.filter(pl.col("source").is_in(OWN_EVIDENCE)), "started_at"))
    bad = days_with_rows(severe)
    return bad, days_with_rows([(incidents, "started_at"), (episodes, "started_at")]) - bad


STATE_WORDS = {
    "bad": "major incident or an outage our evidence saw",
    "minor": "minor vendor incident only",
    "ok": "nothing detected",
    "nodata": "no data",
}


def calendar_strip(
    days: Iterable[dt.date],
    bad: Collection[dt.date],
    href: Callable[[dt.date], str | None],
    current: dt.date | None = None,
    with_data: Collection[dt.date] | None = None,
    minor: Collection[dt.date] = (),
) -> list[dict]:
    """One cell per day: {day, label, href, state (bad / minor / ok / nodata), current, title}; a cell
    shows the day of the month, or the month's name on its first day and at the start of the strip."""
    ordered = sorted(days)
    cells = []
    for day in ordered:
        state = "bad" if day in bad else "minor" if day in minor else "ok"
        if state == "ok" and with_data is not None and day not in with_data:
            state = "nodata"
        cells.append(
            {
                "day": day.isoformat(),
                "label": f"{day:%b}" if day.day == 1 or day == ordered[0] else f"{day.day}",
                "href": href(day),
                "state": state,
                "current": day == current,
                "title": f"{day:%a %d %b %Y}: {STATE_WORDS[state]}",
            }
        )
    return cells
