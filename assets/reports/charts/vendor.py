"""The vendor review's charts: bars per month, uptime per weighting policy, durations, cost ranges, and
status-page-style daily uptime bars."""

from __future__ import annotations

import altair as alt
import polars as pl

from assets.reports.charts.axes import WIDTH
from assets.reports.charts.series import iso


def grouped_bars(
    data: pl.DataFrame,
    x: str,
    y: str,
    color: str,
    title: str,
    y_title: str,
    y_format: str | None = None,
    height: int = 200,
) -> alt.Chart:
    """Bars of `y` per `x`, side by side per `color` (xOffset)."""
    axis = alt.Axis(format=y_format) if y_format else alt.Axis()
    return (
        alt.Chart(iso(data))
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:N", title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=f"{color}:N",
            y=alt.Y(f"{y}:Q", title=y_title, axis=axis),
            color=alt.Color(f"{color}:N", title=color),
            tooltip=[f"{x}:N", f"{color}:N", f"{y}:Q"],
        )
        .properties(width=WIDTH, height=height, title=title)
    )


def uptime_policy_chart(data: pl.DataFrame) -> alt.Chart:
    """Status-page downtime (100 - uptime, %) per provider under each partial-outage weighting policy
    (long: provider, policy, uptime_pct). Bars start at zero: a truncated uptime axis exaggerates."""
    downtime = data.with_columns(downtime_pct=100.0 - pl.col("uptime_pct"))
    return (
        alt.Chart(iso(downtime))
        .mark_bar()
        .encode(
            x=alt.X(
                "policy:N",
                title="weight of a partial-outage minute",
                axis=alt.Axis(labelAngle=0),
                sort=list(data["policy"].unique(maintain_order=True)),
            ),
            xOffset="provider:N",
            y=alt.Y("downtime_pct:Q", title="downtime (% of the window)", scale=alt.Scale(zero=True)),
            color=alt.Color("provider:N", title="provider"),
            tooltip=[
                "provider:N",
                "policy:N",
                alt.Tooltip("uptime_pct:Q", format=".3f", title="uptime %"),
                alt.Tooltip("downtime_pct:Q", format=".3f", title="downtime %"),
            ],
        )
        .properties(
            width=WIDTH,
            height=220,
            title="Status-page downtime under each weighting policy (lower is better)",
        )
    )


def duration_distribution(incidents: pl.DataFrame) -> alt.Chart:
    """Time to resolve of every incident (hours, linear axis from zero) per provider: box plot."""
    data = iso(
        incidents.select("provider", "title", (pl.col("duration_minutes") / 60.0).alias("duration_hours"))
    )
    return (
        alt.Chart(data)
        .mark_boxplot(extent="min-max", size=40)
        .encode(
            x=alt.X("provider:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("duration_hours:Q", scale=alt.Scale(zero=True), title="hours to resolve"),
            color=alt.Color("provider:N", legend=None),
        )
        .properties(width=WIDTH, height=220, title="Time to resolve each incident (MTTR distribution)")
    )


def cost_per_month(data: pl.DataFrame, summed_in_chart: bool) -> alt.LayerChart:
    """Downtime cost per provider and month: base bars with a low-high range (wide: low, base, high)."""
    title = "Downtime cost per month in the window (base bar, low-high rule)"
    if summed_in_chart:
        title += ": incident costs stacked per month"
    base = alt.Chart(iso(data)).encode(
        x=alt.X("month:N", title=None, axis=alt.Axis(labelAngle=0)), xOffset="provider:N"
    )
    bars = base.mark_bar().encode(
        y=alt.Y("sum(base):Q", title="downtime cost (USD)", axis=alt.Axis(format="$,.0f")),
        color=alt.Color("provider:N", title="provider"),
        tooltip=["provider:N", "month:N", alt.Tooltip("sum(base):Q", format="$,.0f", title="base")],
    )
    ranges = base.mark_rule(color="#111827").encode(y="sum(low):Q", y2="sum(high):Q")
    return alt.layer(bars, ranges).properties(width=WIDTH, height=220, title=title)


# Status-page colours (as Atlassian Statuspage draws its uptime bars): their own palette, never a provider's.
STATUS_COLORS = {
    "major outage": "#dc2626",
    "partial outage": "#f97316",
    "degraded performance": "#facc15",
    "maintenance": "#60a5fa",
    "operational": "#16a34a",
    "no data": "#cbd5e1",
}


def status_bars(data: pl.DataFrame, rows: list[str]) -> alt.Chart:
    """One small bar per day and row (long: row, day, status, uptime_pct), coloured by the day's worst
    status, grey where the status page gave no evidence; `rows` in order, each label carrying its uptime."""
    data = iso(data)
    ends = [data["day"].min(), data["day"].max()] if data.height else []
    return (
        alt.Chart(data)
        .mark_bar(width={"band": 0.8}, cornerRadius=1)
        .encode(
            x=alt.X(
                "day:O",
                title="UTC day (first and last shown)",
                axis=alt.Axis(values=ends, labelAngle=0, ticks=False, domain=False, labelOverlap=False),
            ),
            y=alt.Y("row:N", sort=rows, title=None, axis=alt.Axis(labelLimit=320, labelFontSize=12)),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
                title="worst status of the day",
                legend=alt.Legend(orient="bottom", columns=6),
            ),
            tooltip=[
                alt.Tooltip("row:N", title="provider"),
                alt.Tooltip("day:N", title="day (UTC)"),
                alt.Tooltip("status:N", title="worst status"),
                alt.Tooltip("uptime_pct:Q", format=".3f", title="uptime %"),
            ],
        )
        .properties(width=WIDTH, height=34 * max(len(rows), 1), title="Status-page uptime, one bar per day")
    )
