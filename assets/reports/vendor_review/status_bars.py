"""The vendor review's status-page-style uptime bars: per provider, one bar per day of the last 90 days of
the window, coloured by the day's worst status (marts.component_daily_uptime), grey where the status page
gave no evidence, with the window's uptime (marts.component_reliability) beside each row."""

from __future__ import annotations

import datetime as dt

import polars as pl

from assets.reports.charts.vendor import status_bars
from assets.reports.formats import fmt_pct
from assets.reports.marts_data import COMPONENT_PROVIDER, has
from assets.reports.scope import Scope
from assets.reports.vendor_review.review import REL_KEY, Review
from pipelines.core import tables

BAR_DAYS = 90
NO_DATA = "no data"
STATUS_LABELS = {
    "major_outage": "major outage",
    "partial_outage": "partial outage",
    "degraded_performance": "degraded performance",
    "under_maintenance": "maintenance",
    "operational": "operational",
}


def shown_days(daily: pl.DataFrame, scope: Scope | None) -> list[dt.date]:
    """The last BAR_DAYS days of the analysed window (of the mart's days without a scope)."""
    first, last = (
        (scope.window.start, scope.window.end) if scope else (daily["day"].min(), daily["day"].max())
    )
    first = max(first, last - dt.timedelta(days=BAR_DAYS - 1))
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def bar_data(daily: pl.DataFrame, days: list[dt.date], labels: dict[str, str]) -> pl.DataFrame:
    """row, day, status, uptime_pct for every provider of `labels` and every shown day; a day the mart
    has no evidence for (or no row) is 'no data'."""
    grid = pl.DataFrame({"provider": list(labels)}).join(pl.DataFrame({"day": days}), how="cross")
    provider_days = daily.filter(pl.col("component") == COMPONENT_PROVIDER).select(
        "provider", pl.col("day").cast(pl.Date), "worst_status", "uptime_pct"
    )
    return grid.join(provider_days, on=["provider", "day"], how="left").select(
        row=pl.col("provider").replace_strict(labels),
        day="day",
        status=pl.col("worst_status").replace_strict(STATUS_LABELS, default=NO_DATA, return_dtype=pl.String),
        uptime_pct="uptime_pct",
    )


def status_bars_section(
    review: Review, daily: pl.DataFrame | None, overall: pl.DataFrame | None, scope: Scope | None
) -> dict | None:
    """The bars chart and, per provider, the window's uptime quoted from marts.component_reliability;
    None without marts.component_daily_uptime."""
    if not has(daily, "provider", "component", "day", "worst_status", "uptime_pct"):
        return None
    windows = {r["provider"]: r for r in overall.to_dicts()} if overall is not None else {}
    present = set(daily["provider"].drop_nulls())
    order = [p for p in review.display if p in present] + sorted(present - set(review.display))
    rows, labels = [], {}
    for provider in order:
        row = windows.get(provider)
        uptime = NO_DATA
        if row is not None and row.get("uptime_pct") is not None:
            uptime = review.figures.quote(tables.COMPONENT_RELIABILITY, row, "uptime_pct", REL_KEY, fmt_pct)
        labels[provider] = f"{review.name(provider)}: {uptime}"
        rows.append({"provider": review.name(provider), "uptime": uptime})
    days = shown_days(daily, scope)
    data = bar_data(daily, days, labels)
    chart = review.page.chart(
        "status-uptime-bars",
        status_bars(data, list(labels.values())),
        caption=f"One bar per UTC day, {days[0]} to {days[-1]} ({len(days)} days), coloured by the worst "
        "status the vendor's page showed that day; grey: no status-page evidence, so no uptime. The "
        "percentage beside each provider is its status-page uptime over the whole analysed window "
        "(major outage minutes count fully, partial 0.3, degraded 0, maintenance excluded).",
    )
    return {"chart": chart, "rows": rows}
