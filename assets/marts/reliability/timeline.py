"""Worst-status timeline per component: overlapping intervals cut at every boundary, never summed."""

import datetime as dt

import polars as pl

from assets.marts.reliability.components import COMPONENT_PROVIDER
from assets.marts.reliability.intervals import STATUS_OF_SEVERITY, component_intervals
from pipelines.core.frames import UTC_TS

TIMELINE_SCHEMA = {
    "provider": pl.String,
    "component": pl.String,
    "slice_start": UTC_TS,
    "slice_end": UTC_TS,
    "status": pl.String,
    "minutes": pl.Float64,
}
GROUP = ["provider", "component"]


def _worst_slices(intervals: pl.DataFrame) -> pl.DataFrame:
    """The intervals cut at every boundary of their (provider, component); each slice's worst severity."""
    bounds = (
        pl.concat([intervals.select(*GROUP, at=pl.col("start")), intervals.select(*GROUP, at=pl.col("end"))])
        .unique()
        .sort([*GROUP, "at"])
        .with_columns(slice_end=pl.col("at").shift(-1).over(GROUP))
        .rename({"at": "slice_start"})
        .drop_nulls("slice_end")
    )
    return (
        bounds.join(intervals, on=GROUP, how="inner")
        .filter((pl.col("start") <= pl.col("slice_start")) & (pl.col("slice_start") < pl.col("end")))
        .group_by([*GROUP, "slice_start", "slice_end"])
        .agg(severity=pl.col("severity").max())
        .sort([*GROUP, "slice_start"])
    )


def merge_worst_status(intervals: pl.DataFrame) -> pl.DataFrame:
    """Cut overlapping intervals of each (provider, component) at every boundary; each slice gets the worst
    severity covering it (never a sum). Adjacent slices of equal status are joined. Returns TIMELINE_SCHEMA
    rows for non-operational time only."""
    intervals = intervals.filter((pl.col("end") > pl.col("start")) & (pl.col("severity") > 0))
    if intervals.is_empty():
        return pl.DataFrame(schema=TIMELINE_SCHEMA)
    runs = _worst_slices(intervals).with_columns(
        run=(
            (pl.col("slice_start") != pl.col("slice_end").shift(1).over(GROUP))
            | (pl.col("severity") != pl.col("severity").shift(1).over(GROUP))
        )
        .fill_null(True)
        .cum_sum()
        .over(GROUP)
    )
    merged = runs.group_by([*GROUP, "run"]).agg(
        slice_start=pl.col("slice_start").min(),
        slice_end=pl.col("slice_end").max(),
        severity=pl.col("severity").first(),
    )
    return (
        merged.with_columns(
            status=pl.col("severity").replace_strict(STATUS_OF_SEVERITY, return_dtype=pl.String),
            minutes=(pl.col("slice_end") - pl.col("slice_start")).dt.total_minutes(fractional=True),
        )
        .select(list(TIMELINE_SCHEMA))
        .sort([*GROUP, "slice_start"])
    )


def status_timeline(
    incidents: pl.DataFrame,
    affected: pl.DataFrame | None,
    window_start: dt.datetime,
    window_end: dt.datetime,
    *,
    provider_level: bool = False,
) -> pl.DataFrame:
    """Per-component status timeline inside [window_start, window_end).

    incidents: marts.incidents rows (provider, incident_id, impact, started_at, resolved_at, components,
      optional last_seen_at), e.g. the output of `incidents_mart`.
    affected: staging.status_affected_components (provider, incident_id, update_id, component_name,
      old_status, new_status, created_at), or None when the source publishes no transitions.
    provider_level: add the union timeline per provider as component '(provider)' (worst of any component).
    Returns provider, component, slice_start, slice_end, status, minutes: non-overlapping slices of
    non-operational status (degraded_performance, partial_outage, major_outage, under_maintenance);
    any time not covered is operational.
    """
    raw = component_intervals(incidents, affected, window_end).with_columns(
        start=pl.max_horizontal("start", pl.lit(window_start, dtype=UTC_TS)),
        end=pl.min_horizontal("end", pl.lit(window_end, dtype=UTC_TS)),
    )
    if provider_level:
        raw = pl.concat([raw, raw.with_columns(component=pl.lit(COMPONENT_PROVIDER))])
    return merge_worst_status(raw)


def status_minutes(timeline: pl.DataFrame, period_frame: pl.DataFrame) -> pl.DataFrame:
    """Minutes per status of each (provider, component) timeline within each period."""
    # a range join: a slice meets only the periods it overlaps (a long window has thousands of days)
    overlapping = timeline.join_where(
        period_frame,
        pl.col("slice_start") < pl.col("period_end"),
        pl.col("slice_end") > pl.col("period_start"),
    )
    clipped = overlapping.with_columns(
        minutes=(
            pl.min_horizontal("slice_end", "period_end") - pl.max_horizontal("slice_start", "period_start")
        ).dt.total_minutes(fractional=True)
    )
    clipped = clipped.filter(pl.col("minutes") > 0)

    def total(status: str) -> pl.Expr:
        return pl.col("minutes").filter(pl.col("status") == status).sum()

    return clipped.group_by("provider", "component", "period").agg(
        maintenance_minutes=total("under_maintenance"),
        degraded_minutes=total("degraded_performance"),
        partial_outage_minutes=total("partial_outage"),
        major_outage_minutes=total("major_outage"),
    )
