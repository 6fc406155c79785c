"""The periods marts.component_reliability (months) and marts.component_daily_uptime (days) report."""

import datetime as dt

import polars as pl

from pipelines.core.frames import UTC_TS

PERIOD_ALL = "all"
PERIOD_SCHEMA = {"period": pl.String, "period_start": UTC_TS, "period_end": UTC_TS}


def periods(window_start: dt.datetime, window_end: dt.datetime) -> pl.DataFrame:
    """The 'all' period plus each calendar month overlapping the window, clipped to it."""
    rows = [(PERIOD_ALL, window_start, window_end)]
    month = window_start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month < window_end:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        rows.append((month.strftime("%Y-%m"), max(month, window_start), min(following, window_end)))
        month = following
    return pl.DataFrame(rows, schema=PERIOD_SCHEMA, orient="row")


def days(window_start: dt.datetime, window_end: dt.datetime) -> pl.DataFrame:
    """Each UTC day overlapping the window as a period 'YYYY-MM-DD', clipped to the window."""
    rows = []
    day = window_start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < window_end:
        following = day + dt.timedelta(days=1)
        rows.append((day.strftime("%Y-%m-%d"), max(day, window_start), min(following, window_end)))
        day = following
    return pl.DataFrame(rows, schema=PERIOD_SCHEMA, orient="row")
