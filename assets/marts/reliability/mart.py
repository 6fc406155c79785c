"""marts.component_reliability as a pure function over marts.incidents and the status transitions."""

import datetime as dt
from collections.abc import Mapping

import polars as pl

from assets.marts.reliability.columns import RELIABILITY_COLUMNS
from assets.marts.reliability.components import COMPONENT_PROVIDER, component_universe
from assets.marts.reliability.stats import incident_stats
from assets.marts.reliability.timeline import status_minutes, status_timeline
from assets.marts.reliability.uptime import (
    DEFAULT_POLICY,
    PARTIAL_WEIGHT_VARIANTS,
    UptimePolicy,
    ranking_changes,
    uptime_pct,
)
from assets.marts.reliability.window import PERIOD_ALL, periods
from pipelines.core.config import ProvidersConfig
from pipelines.core.frames import to_utc
from pipelines.core.status_contract import capability_map

MINUTE_COLUMNS = ["maintenance_minutes", "degraded_minutes", "partial_outage_minutes", "major_outage_minutes"]


def _with_uptime(frame: pl.DataFrame, policy: UptimePolicy) -> pl.DataFrame:
    """Incident rate, counted and weighted down minutes, uptime under the policy and its variants."""
    return (
        frame.with_columns(
            pl.col("incidents", "resolved_incidents").fill_null(0),
            *(pl.col(c).fill_null(0.0) for c in MINUTE_COLUMNS),
            period_days=(pl.col("period_end") - pl.col("period_start")).dt.total_days(fractional=True),
        )
        .with_columns(
            incidents_per_30d=pl.col("incidents") / pl.col("period_days") * 30.0,
            counted_minutes=(pl.col("period_end") - pl.col("period_start")).dt.total_minutes(fractional=True)
            - (pl.col("maintenance_minutes") if policy.maintenance_excluded else pl.lit(0.0)),
            weighted_down_minutes=pl.col("major_outage_minutes") * policy.weight_major
            + pl.col("partial_outage_minutes") * policy.weight_partial
            + pl.col("degraded_minutes") * policy.weight_degraded,
        )
        .with_columns(
            uptime_pct=uptime_pct(policy, policy.weight_partial),
            **{name: uptime_pct(policy, weight) for name, weight in PARTIAL_WEIGHT_VARIANTS.items()},
            weight_major=pl.lit(policy.weight_major, dtype=pl.Float64),
            weight_partial=pl.lit(policy.weight_partial, dtype=pl.Float64),
            weight_degraded=pl.lit(policy.weight_degraded, dtype=pl.Float64),
            maintenance_excluded=pl.lit(policy.maintenance_excluded),
        )
    )


def _with_ranking_changes(frame: pl.DataFrame) -> pl.DataFrame:
    """Per period: whether the '(provider)' rows swap order across the partial-weight variants."""
    changed = {
        period: ranking_changes(
            {
                row["provider"]: [row[name] for name in PARTIAL_WEIGHT_VARIANTS]
                for row in rows.iter_rows(named=True)
            }
        )
        for (period,), rows in frame.filter(pl.col("component") == COMPONENT_PROVIDER).group_by("period")
    }
    return frame.with_columns(
        ranking_changes_with_policy=pl.col("period").replace_strict(
            changed, default=False, return_dtype=pl.Boolean
        )
    )


def reliability_mart(
    incidents: pl.DataFrame,
    affected: pl.DataFrame | None,
    window_start: dt.datetime,
    window_end: dt.datetime,
    config: ProvidersConfig | Mapping[str, Mapping[str, str]] | None = None,
    policy: UptimePolicy = DEFAULT_POLICY,
) -> pl.DataFrame:
    """Build marts.component_reliability (columns of RELIABILITY_COLUMNS, in that order).

    incidents: marts.incidents (output of `incidents_mart`); affected: staging.status_affected_components
    or None; [window_start, window_end): the analysed window (UTC); config: ProvidersConfig or
    {provider: {component: capability}} for the reported components and their capability.
    """
    incidents = to_utc(incidents)
    period_frame = periods(window_start, window_end)
    timeline = status_timeline(incidents, affected, window_start, window_end, provider_level=True)
    keys = ["provider", "component", "period"]
    frame = (
        component_universe(incidents, capability_map(config))
        .join(period_frame, how="cross")
        .join(incident_stats(incidents, period_frame), on=keys, how="left")
        .join(status_minutes(timeline, period_frame), on=keys, how="left")
    )
    frame = _with_ranking_changes(_with_uptime(frame, policy))
    return frame.sort(["provider", "component", pl.col("period") != PERIOD_ALL, "period_start"]).select(
        list(RELIABILITY_COLUMNS)
    )
