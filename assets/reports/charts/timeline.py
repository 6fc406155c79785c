"""Altair chart builders for the reports. Every builder takes mart rows (Polars) and returns a chart.

Charts only display mart values. Where a time series would exceed Altair's 5,000-row limit (and make the
page heavy), `resample` coarsens it for display: counts are summed per bucket and ratios show the WORST
minute of the bucket (the chart says so); no figure quoted in the text comes from a resampled series.
Time axes are UTC (`scale type utc`), so the browser's time zone never shifts a chart.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence

import altair as alt
import polars as pl

WIDTH = 760
# Points per chart panel: well under Altair's MaxRowsError limit (5,000), and light enough that a page
# draws fast; a 9-hour window of 3 providers (1,620 minutes) is shown in 5-minute buckets.
MAX_ROWS = 1500
BUCKETS_MINUTES = (1, 5, 15, 60, 180, 1440)
STAGE_COLORS = {
    "started": "#6b7280",
    "acknowledged": "#d97706",
    "identified": "#7c3aed",
    "monitoring": "#2563eb",
    "resolved": "#059669",
    "postmortem": "#374151",
}
ERROR_CLASSES = {"errors_5xx": "5xx", "errors_529": "529 overloaded", "errors_429": "429 (our quota)"}


def iso(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetimes as ISO-8601 UTC strings ('...Z'), dates as 'YYYY-MM-DD': what Vega parses the same way
    in every browser and in vl-convert."""
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            col = pl.col(name)
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone("UTC")
            fixes.append(col.dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(name))
        elif dtype == pl.Date:
            fixes.append(pl.col(name).dt.strftime("%Y-%m-%d").alias(name))
        elif isinstance(dtype, pl.List):
            fixes.append(pl.col(name).cast(pl.List(pl.String)).list.join(", ").alias(name))
    return frame.with_columns(fixes) if fixes else frame


def bucket_minutes(rows_per_minute: float, span_minutes: float, max_rows: int = MAX_ROWS) -> int:
    """The finest bucket (1, 5, 15, 60, 180 or 1440 minutes) that keeps the series under `max_rows`."""
    for bucket in BUCKETS_MINUTES:
        if rows_per_minute * span_minutes / bucket <= max_rows:
            return bucket
    return BUCKETS_MINUTES[-1]


def resample(
    frame: pl.DataFrame,
    ts_column: str,
    by: Sequence[str],
    bucket: int,
    sums: Sequence[str] = (),
    worst: Sequence[str] = (),
) -> pl.DataFrame:
    """Coarsen a per-minute series to `bucket`-minute rows for DISPLAY: sums of counts, max of ratios."""
    if bucket <= 1 or frame.height == 0:
        return frame.select(ts_column, *by, *sums, *worst)
    return (
        frame.with_columns(pl.col(ts_column).dt.truncate(f"{bucket}m"))
        .group_by(ts_column, *by)
        .agg(*(pl.col(c).sum() for c in sums), *(pl.col(c).max() for c in worst))
        .sort(ts_column, *by)
    )


def _iso_text(value: dt.datetime | str) -> str:
    return value if isinstance(value, str) else value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_x(
    field: str,
    start: dt.datetime | str | None = None,
    end: dt.datetime | str | None = None,
    title: str | None = "UTC",
):
    domain = None
    if start is not None and end is not None:
        domain = [_iso_text(start), _iso_text(end)]
    scale = alt.Scale(type="utc", domain=domain) if domain else alt.Scale(type="utc")
    return alt.X(f"{field}:T", scale=scale, axis=alt.Axis(format="%d %b %H:%M", labelAngle=0), title=title)


def marker_layers(
    markers: pl.DataFrame | alt.Data, start, end, labels: bool, stages: Sequence[str] | None = None
) -> list:
    """Vertical rules at status-page stage times (columns at, stage, label, lane), labels on top.

    `markers` is a frame, or named data (alt.Data) for a template whose rows come later; then `stages`
    fixes the colour domain."""
    if isinstance(markers, pl.DataFrame):
        if markers.height == 0:
            return []
        data = iso(markers.sort("at").with_columns(lane=pl.int_range(pl.len()) % 3))
        present = set(markers["stage"].to_list())
        stages = [s for s in STAGE_COLORS if s in present] + sorted(present - set(STAGE_COLORS))
    else:
        data = markers
        stages = list(stages or STAGE_COLORS)
    # Own stroke/fill scales, so the stage colours never share the colour scale of the data lines.
    stage_scale = alt.Scale(domain=stages, range=[STAGE_COLORS.get(s, "#6b7280") for s in stages])
    base = alt.Chart(data).encode(x=utc_x("at", start, end))
    layers = [
        base.mark_rule(strokeDash=[4, 3], strokeWidth=1.5).encode(
            stroke=alt.Stroke(
                "stage:N", scale=stage_scale, legend=alt.Legend(title="status page") if labels else None
            ),
            tooltip=["label:N"],
        )
    ]
    if labels:
        layers.append(
            base.mark_text(align="left", baseline="top", dx=3, fontSize=10).encode(
                text="stage:N",
                fill=alt.Fill("stage:N", scale=stage_scale, legend=None),
                # Labels of stages close in time go to alternate lanes so they do not overprint.
                y=alt.Y("lane:Q", axis=None, scale=alt.Scale(domain=[0, 10], reverse=True)),
            )
        )
    return layers


def with_markers(
    data_layers: Sequence,
    markers: pl.DataFrame | alt.Data,
    start,
    end,
    labels: bool,
    stages: Sequence[str] | None = None,
) -> alt.LayerChart:
    """The data layers plus stage rules; labels sit in their own y scale (lanes), so they are layered
    outside the data layers and never stretch the data's y axis."""
    parts = marker_layers(markers, start, end, labels, stages)
    rules, texts = parts[:1], parts[1:]
    inner = alt.layer(*data_layers, *rules)
    return alt.layer(inner, *texts).resolve_scale(y="independent") if texts else inner


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
        data = iso(crowd)
        base = alt.Chart(data).encode(x=utc_x("bin_start", start, end, title=None))
        reports = base.mark_line(strokeWidth=1.8).encode(
            y=alt.Y("reports:Q", title="crowd reports"),
            color=alt.Color("country:N", title="country"),
            tooltip=["service:N", "country:N", "bin_start:T", "reports:Q", "expected:Q"],
        )
        expected = base.mark_line(strokeDash=[2, 2], strokeWidth=1, opacity=0.8).encode(
            y="expected:Q", color=alt.Color("country:N"), detail="country:N"
        )
        panels.append(
            with_markers([reports, expected], markers, start, end, labels=True).properties(
                width=WIDTH, height=170, title="Crowd reports (solid) vs expected baseline (dashed)"
            )
        )
    if sli_ratio is not None and sli_ratio.height:
        data = iso(sli_ratio)
        line = (
            alt.Chart(data)
            .mark_line(strokeWidth=1.5)
            .encode(
                x=utc_x("minute", start, end, title=None),
                y=alt.Y("error_ratio:Q", title="error ratio", axis=alt.Axis(format="%")),
                color=alt.Color("provider:N", title="provider"),
                tooltip=["provider:N", "minute:T", alt.Tooltip("error_ratio:Q", format=".1%")],
            )
        )
        panels.append(
            with_markers([line], markers, start, end, labels=False).properties(
                width=WIDTH, height=150, title=f"Provider error ratio of our requests ({ratio_note})"
            )
        )
    if sli_classes is not None and sli_classes.height:
        data = iso(sli_classes)
        bars = (
            alt.Chart(data)
            .mark_area(opacity=0.85)
            .encode(
                x=utc_x("minute", start, end, title="UTC"),
                y=alt.Y("errors:Q", stack="zero", title="failed requests"),
                color=alt.Color("class:N", title="error class"),
                tooltip=["provider:N", "class:N", "minute:T", "errors:Q"],
            )
        )
        providers = sorted(set(sli_classes["provider"].to_list()))
        panels.append(
            with_markers([bars], markers, start, end, labels=False).properties(
                width=WIDTH, height=130, title=f"Errors by class, {', '.join(providers)}"
            )
        )
    if not panels:
        return None
    return alt.vconcat(*panels).resolve_scale(color="independent", x="shared")


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
            y=alt.Y("best_rank:Q", scale=alt.Scale(reverse=True, zero=False), title="best App Store rank"),
            color=alt.Color("provider:N"),
            strokeDash=alt.StrokeDash("country:N"),
            tooltip=["provider:N", "country:N", "period_start:T", "best_rank:Q"],
        )
    )
    layers = [line]
    if day is not None:
        rule = pl.DataFrame({"at": [day]}).with_columns(pl.col("at").dt.convert_time_zone("UTC"))
        layers.append(
            alt.Chart(iso(rule))
            .mark_rule(color="#b91c1c", strokeDash=[4, 3])
            .encode(x=alt.X("at:T", scale=alt.Scale(type="utc")))
        )
    return alt.layer(*layers).properties(width=WIDTH, height=200, title="App-store rank context")


IMPACT_COLORS = {
    "critical": "#b91c1c",
    "major": "#ea580c",
    "minor": "#eab308",
    "none": "#9ca3af",
    "maintenance": "#60a5fa",
    "not stated": "#6b7280",
}


def incidents_strip(incidents: pl.DataFrame) -> alt.LayerChart:
    """Each status-page incident as a bar from started_at to resolved_at per provider, with a tick at its
    start so that short incidents stay visible over a months-long axis."""
    data = iso(
        incidents.select(
            "provider", "incident_id", "title", "impact", "started_at", "resolved_at"
        ).with_columns(pl.col("impact").fill_null("not stated"))
    )
    impact = alt.Color(
        "impact:N", scale=alt.Scale(domain=list(IMPACT_COLORS), range=list(IMPACT_COLORS.values()))
    )
    base = alt.Chart(data).encode(
        x=alt.X("started_at:T", scale=alt.Scale(type="utc"), axis=alt.Axis(format="%d %b"), title="UTC"),
        y=alt.Y("provider:N", title=None),
        color=impact,
        tooltip=["provider:N", "title:N", "impact:N", "started_at:T", "resolved_at:T"],
    )
    return alt.layer(
        base.mark_bar(height=12).encode(x2="resolved_at:T"),
        base.mark_tick(thickness=2, size=18),
    ).properties(width=WIDTH, height=150, title="Status-page incidents over the analysed period")


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


_DAILY_TEMPLATES: dict[tuple, str] = {}
_START, _END = "__DAY_START__", "__DAY_END__"


def _daily_template(has_ratio: bool, has_crowd: bool, has_markers: bool, ratio_note: str) -> str:
    """The daily chart as a Vega-Lite JSON text over NAMED datasets, with the x domain as placeholders.

    Building an Altair chart costs more than rendering it; a year of daily pages reuses one template.
    """
    markers = alt.Data(name="markers") if has_markers else pl.DataFrame()
    panels = []
    if has_ratio:
        line = (
            alt.Chart(alt.Data(name="ratio"))
            .mark_line(strokeWidth=1.5)
            .encode(
                x=utc_x("minute", _START, _END, title=None),
                y=alt.Y("error_ratio:Q", title="error ratio", axis=alt.Axis(format="%")),
                color=alt.Color("provider:N"),
                tooltip=["provider:N", "minute:T", alt.Tooltip("error_ratio:Q", format=".1%")],
            )
        )
        panels.append(
            with_markers([line], markers, _START, _END, labels=True, stages=["started"]).properties(
                width=WIDTH, height=140, title=f"Provider error ratio of our requests ({ratio_note})"
            )
        )
    if has_crowd:
        line = (
            alt.Chart(alt.Data(name="crowd"))
            .mark_line(strokeWidth=1.5)
            .encode(
                x=utc_x("bin_start", _START, _END, title="UTC"),
                y=alt.Y("reports:Q", title="crowd reports"),
                color=alt.Color("service:N"),
                tooltip=["service:N", "bin_start:T", "reports:Q"],
            )
        )
        panels.append(
            with_markers([line], markers, _START, _END, labels=False, stages=["started"]).properties(
                width=WIDTH, height=120, title="Crowd reports per service (all countries, hourly)"
            )
        )
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
    text = _DAILY_TEMPLATES[key].replace(_START, _iso_text(start)).replace(_END, _iso_text(end))
    spec = json.loads(text)
    datasets = {}
    if has_ratio:
        datasets["ratio"] = iso(sli_ratio).to_dicts()
    if has_crowd:
        datasets["crowd"] = iso(crowd).to_dicts()
    if markers.height:
        datasets["markers"] = iso(markers.sort("at").with_columns(lane=pl.int_range(pl.len()) % 3)).to_dicts()
    spec["datasets"] = {**spec.get("datasets", {}), **datasets}
    return spec
