"""The vendor review's charts: bars per month, uptime per weighting policy, durations, cost ranges."""

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
