"""The daily digest's chart of the day, built once as a template and filled per day."""

from __future__ import annotations

import datetime as dt
import json

import altair as alt
import polars as pl

from assets.reports.charts.axes import WIDTH, iso_text, utc_x
from assets.reports.charts.markers import with_markers
from assets.reports.charts.palette import country_color
from assets.reports.charts.series import iso, with_lanes
from assets.reports.charts.timeline import error_ratio_line

_DAILY_TEMPLATES: dict[tuple, str] = {}
_START, _END = "__DAY_START__", "__DAY_END__"


def _ratio_panel(markers, ratio_note: str):
    line = error_ratio_line(alt.Data(name="ratio"), _START, _END)
    return with_markers([line], markers, _START, _END, labels=True, stages=["started"]).properties(
        width=WIDTH, height=140, title=f"Our failed requests per provider ({ratio_note})"
    )


def _crowd_panel(markers):
    line = (
        alt.Chart(alt.Data(name="crowd"))
        .mark_line(strokeWidth=1.5)
        .encode(
            x=utc_x("bin_start", _START, _END, title="UTC"),
            y=alt.Y("reports:Q", title="crowd reports per hour"),
            color=country_color("service", title="service"),
            tooltip=["service:N", "bin_start:T", "reports:Q"],
        )
    )
    return with_markers([line], markers, _START, _END, labels=False, stages=["started"]).properties(
        width=WIDTH, height=120, title="Crowd reports per service (all countries, hourly)"
    )


def _daily_template(has_ratio: bool, has_crowd: bool, has_markers: bool, ratio_note: str) -> str:
    """The daily chart as a Vega-Lite JSON text over NAMED datasets, with the x domain as placeholders.

    Building an Altair chart costs more than rendering it; a year of daily pages reuses one template.
    """
    markers = alt.Data(name="markers") if has_markers else pl.DataFrame()
    panels = []
    if has_ratio:
        panels.append(_ratio_panel(markers, ratio_note))
    if has_crowd:
        panels.append(_crowd_panel(markers))
    chart = alt.vconcat(*panels).resolve_scale(color="independent", x="shared")
    return json.dumps(chart.to_dict())


def daily_chart(
    sli_ratio: pl.DataFrame | None,
    crowd: pl.DataFrame | None,
    markers: pl.DataFrame,
    start: dt.datetime,
    end: dt.datetime,
    ratio_note: str,
) -> dict | None:
    """The day at a glance (Vega-Lite spec): error ratio per provider and crowd reports per service,
    incident starts marked ('started' stage)."""
    has_ratio = sli_ratio is not None and sli_ratio.height > 0
    has_crowd = crowd is not None and crowd.height > 0
    if not (has_ratio or has_crowd):
        return None
    key = (has_ratio, has_crowd, markers.height > 0, ratio_note)
    if key not in _DAILY_TEMPLATES:
        _DAILY_TEMPLATES[key] = _daily_template(*key)
    text = _DAILY_TEMPLATES[key].replace(_START, iso_text(start)).replace(_END, iso_text(end))
    spec = json.loads(text)
    datasets = {}
    if has_ratio:
        datasets["ratio"] = iso(sli_ratio).to_dicts()
    if has_crowd:
        datasets["crowd"] = iso(crowd).to_dicts()
    if markers.height:
        datasets["markers"] = with_lanes(markers).to_dicts()
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec
