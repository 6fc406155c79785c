"""Status-page stage times as labelled vertical rules over a time-series chart."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from assets.reports.charts.axes import utc_x
from assets.reports.charts.series import with_lanes

# Dark hues none of the provider or country palettes use (charts/palette.py), so a stage rule is never
# mistaken for a provider's line.
STAGE_COLORS = {
    "started": "#111827",
    "acknowledged": "#b45309",
    "identified": "#6d28d9",
    "monitoring": "#be185d",
    "resolved": "#065f46",
    "postmortem": "#4b5563",
}


def marker_layers(
    markers: pl.DataFrame | alt.Data, start, end, labels: bool, stages: Sequence[str] | None = None
) -> list:
    """Vertical rules at status-page stage times (columns at, stage, label, lane), labels on top.

    `markers` is a frame, or named data (alt.Data) for a template whose rows come later; then `stages`
    fixes the colour domain."""
    if isinstance(markers, pl.DataFrame):
        if markers.height == 0:
            return []
        data = with_lanes(markers)
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
