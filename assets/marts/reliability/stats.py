"""Incident counts, MTTR, MTBF and resolution shares per component and period."""

import polars as pl

from assets.marts.reliability.components import COMPONENT_PROVIDER, incident_components
from pipelines.core.frames import to_utc


def incident_stats(incidents: pl.DataFrame, period_frame: pl.DataFrame) -> pl.DataFrame:
    """Counts, MTTR, MTBF and resolution shares per (provider, component, period), by incident start."""
    real = to_utc(incidents).filter(
        pl.col("started_at").is_not_null() & (pl.col("impact").fill_null("") != "maintenance")
    )
    per_component = incident_components(real)
    per_provider = real.with_columns(component=pl.lit(COMPONENT_PROVIDER))
    cols = ["provider", "component", "incident_id", "started_at", "resolved_at"]
    rows = (
        pl.concat([per_component.select(cols), per_provider.select(cols)])
        .unique(["provider", "component", "incident_id"])
        .join_where(
            period_frame,
            pl.col("started_at") >= pl.col("period_start"),
            pl.col("started_at") < pl.col("period_end"),
        )
        .with_columns(
            ttr_hours=(pl.col("resolved_at") - pl.col("started_at")).dt.total_hours(fractional=True)
        )
    )
    return rows.group_by("provider", "component", "period").agg(
        incidents=pl.len().cast(pl.Int64),
        resolved_incidents=pl.col("ttr_hours").count().cast(pl.Int64),
        mttr_mean_hours=pl.col("ttr_hours").mean(),
        mttr_median_hours=pl.col("ttr_hours").median(),
        mttr_p90_hours=pl.col("ttr_hours").quantile(0.9, interpolation="linear"),
        mtbf_mean_days=pl.col("started_at").sort().diff().dt.total_days(fractional=True).mean(),
        share_resolved_1h=(pl.col("ttr_hours") <= 1.0).fill_null(False).mean(),
        share_resolved_3h=(pl.col("ttr_hours") <= 3.0).fill_null(False).mean(),
    )
