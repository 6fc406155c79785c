"""Context charts: every status-page incident over the period, and app-store ranks around an incident."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from assets.reports.charts.axes import WIDTH, iso_text
from assets.reports.charts.series import iso

IMPACT_COLORS = {
    "critical": "#b91c1c",
    "major": "#ea580c",
    "minor": "#eab308",
    "none": "#9ca3af",
    "maintenance": "#60a5fa",
    "not stated": "#6b7280",
}


def window_scale(scope) -> alt.Scale:
    """A UTC time scale over [start, end) of the analysed window (the data's extent without a scope)."""
    if scope is None:
        return alt.Scale(type="utc")
    return alt.Scale(type="utc", domain=[iso_text(scope.window.start_ts), iso_text(scope.window.end_ts)])


def rank_chart(ranks: pl.DataFrame, day: dt.datetime | None = None) -> alt.LayerChart:
    """Best App Store rank per provider and day (rank 1 on top), with the incident day marked."""
    data = iso(ranks)
    line = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "period_start:T", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%d %b"), title="day"
            ),
            y=alt.Y(
                "best_rank:Q",
                scale=alt.Scale(reverse=True, zero=False),
                title="best App Store rank (1 = top)",
            ),
            color=alt.Color("provider:N", title="provider"),
            strokeDash=alt.StrokeDash("country:N"),
            tooltip=["provider:N", "country:N", "period_start:T", "best_rank:Q"],
        )
    )
    layers = [line]
    if day is not None:
        rule = pl.DataFrame({"at": [day]}).with_columns(pl.col("at").dt.convert_time_zone("UTC"))
        layers.append(
            alt.Chart(iso(rule))
            .mark_rule(color="#111827", strokeDash=[4, 3])
            .encode(x=alt.X("at:T", scale=alt.Scale(type="utc")))
        )
    return alt.layer(*layers).properties(width=WIDTH, height=200, title="App-store rank context")


def incidents_strip(incidents: pl.DataFrame, scope=None) -> alt.LayerChart:
    """Each status-page incident as a bar from started_at to resolved_at per provider, with a tick at its
    start so that short incidents stay visible over a months-long axis; the axis spans the analysed
    window when a scope is given."""
    data = iso(
        incidents.select(
            "provider", "incident_id", "title", "impact", "started_at", "resolved_at"
        ).with_columns(pl.col("impact").fill_null("not stated"))
    )
    impact = alt.Color(
        "impact:N", scale=alt.Scale(domain=list(IMPACT_COLORS), range=list(IMPACT_COLORS.values()))
    )
    base = alt.Chart(data).encode(
        x=alt.X(
            "started_at:T",
            scale=window_scale(scope),
            axis=alt.Axis(format="%d %b"),
            title="start (UTC)",
        ),
        y=alt.Y("provider:N", title=None),
        color=impact,
        tooltip=["provider:N", "title:N", "impact:N", "started_at:T", "resolved_at:T"],
    )
    return alt.layer(
        base.mark_bar(height=12).encode(x2="resolved_at:T"),
        base.mark_tick(thickness=2, size=18),
    ).properties(width=WIDTH, height=150, title="Status-page incidents in the analysed window")
