"""The vendor review's charts: bars per month, uptime per weighting policy, durations, cost ranges."""

from __future__ import annotations

import math

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
            color=alt.Color(f"{color}:N"),
            tooltip=[f"{x}:N", f"{color}:N", f"{y}:Q"],
        )
        .properties(width=WIDTH, height=height, title=title)
    )


def uptime_policy_chart(data: pl.DataFrame) -> alt.Chart:
    """Provider uptime (%) under each partial-outage weighting policy (long: provider, policy, uptime_pct).

    Uptimes sit within a fraction of a percent of 100, so the axis starts just below the lowest one
    (bars from zero would all look full)."""
    values = [v for v in data["uptime_pct"].to_list() if v is not None]
    low = (math.floor(min(values) * 10) / 10 - 0.1) if values else 0.0
    return (
        alt.Chart(iso(data))
        .mark_bar(clip=True)
        .encode(
            x=alt.X(
                "policy:N",
                title="partial-outage weight",
                axis=alt.Axis(labelAngle=0),
                sort=list(data["policy"].unique(maintain_order=True)),
            ),
            xOffset="provider:N",
            y=alt.Y(
                "uptime_pct:Q", title="uptime %", scale=alt.Scale(domain=[max(low, 0.0), 100.0], zero=False)
            ),
            color=alt.Color("provider:N"),
            tooltip=["provider:N", "policy:N", alt.Tooltip("uptime_pct:Q", format=".3f")],
        )
        .properties(width=WIDTH, height=220, title="Uptime under each weighting policy")
    )


def duration_distribution(incidents: pl.DataFrame) -> alt.Chart:
    """Time to resolve of every incident (minutes, log scale) per provider: box plot."""
    data = iso(incidents.select("provider", "title", "duration_minutes"))
    return (
        alt.Chart(data)
        .mark_boxplot(extent="min-max", size=40)
        .encode(
            x=alt.X("provider:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("duration_minutes:Q", scale=alt.Scale(type="log"), title="minutes to resolve (log)"),
            color=alt.Color("provider:N", legend=None),
        )
        .properties(width=WIDTH, height=220, title="Incident durations (MTTR distribution)")
    )


def cost_per_month(data: pl.DataFrame, summed_in_chart: bool) -> alt.LayerChart:
    """Downtime cost per provider and month: base bars with a low-high range (wide: low, base, high)."""
    title = "Downtime cost per month (base, with low-high range)"
    if summed_in_chart:
        title += ": incident costs stacked per month"
    base = alt.Chart(iso(data)).encode(
        x=alt.X("month:N", title=None, axis=alt.Axis(labelAngle=0)), xOffset="provider:N"
    )
    bars = base.mark_bar().encode(
        y=alt.Y("sum(base):Q", title="USD", axis=alt.Axis(format="$,.0f")),
        color=alt.Color("provider:N"),
        tooltip=["provider:N", "month:N", alt.Tooltip("sum(base):Q", format="$,.0f", title="base")],
    )
    ranges = base.mark_rule(color="#111827").encode(y="sum(low):Q", y2="sum(high):Q")
    return alt.layer(bars, ranges).properties(width=WIDTH, height=220, title=title)
