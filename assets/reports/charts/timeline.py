"""A retrospective's chart: crowd reports, error ratio and error classes on one UTC time axis."""

from __future__ import annotations

import datetime as dt

import altair as alt
import polars as pl

from assets.reports.charts.axes import WIDTH, utc_x
from assets.reports.charts.markers import with_markers
from assets.reports.charts.palette import class_color, country_color
from assets.reports.charts.series import iso

ERROR_CLASSES = {"errors_5xx": "5xx", "errors_529": "529 overloaded", "errors_429": "429 (our quota)"}


def crowd_panel(crowd: pl.DataFrame, markers: pl.DataFrame, start: dt.datetime, end: dt.datetime):
    base = alt.Chart(iso(crowd)).encode(x=utc_x("bin_start", start, end, title=None))
    reports = base.mark_line(strokeWidth=1.8).encode(
        y=alt.Y("reports:Q", title="crowd reports"),
        color=country_color(title="country"),
        tooltip=["service:N", "country:N", "bin_start:T", "reports:Q", "expected:Q"],
    )
    expected = base.mark_line(strokeDash=[2, 2], strokeWidth=1, opacity=0.8).encode(
        y="expected:Q", color=country_color(), detail="country:N"
    )
    return with_markers([reports, expected], markers, start, end, labels=True).properties(
        width=WIDTH, height=170, title="Crowd reports per country (solid) vs the usual level (dashed)"
    )


def error_ratio_line(data, start, end) -> alt.Chart:
    """Our failed share of requests per provider (pooled buckets, blank where too few requests), 0-100%."""
    return (
        alt.Chart(data)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=utc_x("minute", start, end, title=None),
            y=alt.Y(
                "error_ratio:Q",
                title="failed requests (%)",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            color=alt.Color("provider:N", title="provider"),
            tooltip=["provider:N", "minute:T", "requests:Q", alt.Tooltip("error_ratio:Q", format=".1%")],
        )
    )


def ratio_panel(
    sli_ratio: pl.DataFrame, markers: pl.DataFrame, start: dt.datetime, end: dt.datetime, ratio_note: str
):
    line = error_ratio_line(iso(sli_ratio), start, end)
    return with_markers([line], markers, start, end, labels=False).properties(
        width=WIDTH, height=150, title=f"Our failed requests per provider ({ratio_note})"
    )


def classes_panel(sli_classes: pl.DataFrame, markers: pl.DataFrame, start: dt.datetime, end: dt.datetime):
    bars = (
        alt.Chart(iso(sli_classes))
        .mark_area(opacity=0.85)
        .encode(
            x=utc_x("minute", start, end, title="UTC"),
            y=alt.Y("errors:Q", stack="zero", title="failed requests (count)"),
            color=class_color(),
            tooltip=["provider:N", "class:N", "minute:T", "errors:Q"],
        )
    )
    providers = sorted(set(sli_classes["provider"].to_list()))
    return with_markers([bars], markers, start, end, labels=False).properties(
        width=WIDTH, height=130, title=f"Errors by class, {', '.join(providers)}"
    )


def incident_timeline(
    crowd: pl.DataFrame | None,
    sli_ratio: pl.DataFrame | None,
    sli_classes: pl.DataFrame | None,
    markers: pl.DataFrame,
    start: dt.datetime,
    end: dt.datetime,
    ratio_note: str,
) -> alt.VConcatChart | None:
    """Shared time axis: crowd reports vs expected, error ratio per provider, error classes of the
    incident's provider; status-page stages as labelled rules across every panel."""
    panels = []
    if crowd is not None and crowd.height:
        panels.append(crowd_panel(crowd, markers, start, end))
    if sli_ratio is not None and sli_ratio.height:
        panels.append(ratio_panel(sli_ratio, markers, start, end, ratio_note))
    if sli_classes is not None and sli_classes.height:
        panels.append(classes_panel(sli_classes, markers, start, end))
    if not panels:
        return None
    return alt.vconcat(*panels).resolve_scale(color="independent", x="shared")
