"""marts.component_reliability as a pure function over marts.incidents and the status transitions."""

import datetime as dt
from collections.abc import Mapping

import polars as pl

from assets.marts.reliability.columns import RELIABILITY_COLUMNS
from assets.marts.reliability.components import COMPONENT_PROVIDER, component_universe
from assets.marts.reliability.evidence import (
    evidence_minutes,
    evidence_state,
    status_evidence,
    uptime_missing_reason,
)
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
from pipelines.core.frames import UTC_TS, to_utc
from pipelines.core.status_contract import capability_map

MINUTES_PER_30_DAYS = 30 * 24 * 60.0
MINUTE_COLUMNS = ["maintenance_minutes", "degraded_minutes", "partial_outage_minutes", "major_outage_minutes"]


def with_uptime(frame: pl.DataFrame, policy: UptimePolicy) -> pl.DataFrame:
    """Evidence covered, incident rate, counted and weighted down minutes, uptime under the policy and its
    variants; a period without status-page evidence keeps its counts, minutes and uptime null."""
    covered = pl.col("evidence_minutes") > 0
    return (
        frame.with_columns(
            pl.col("incidents", "resolved_incidents").fill_null(0),
            *(pl.col(c).fill_null(0.0) for c in MINUTE_COLUMNS),
            evidence_minutes=evidence_minutes(),
        )
        .with_columns(
            incidents_per_30d=pl.col("incidents") / pl.col("evidence_minutes") * MINUTES_PER_30_DAYS,
            counted_minutes=pl.col("evidence_minutes")
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
            evidence_state=evidence_state(),
            uptime_missing_reason=uptime_missing_reason(),
        )
        .with_columns(
            pl.when(covered).then(pl.col(c))
            for c in (
                "incidents",
                "resolved_incidents",
                "incidents_per_30d",
                "weighted_down_minutes",
                *MINUTE_COLUMNS,
            )
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
    snapshots: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Build marts.component_reliability (columns of RELIABILITY_COLUMNS, in that order).

    incidents: marts.incidents (output of `incidents_mart`); affected: staging.status_affected_components
    or None; [window_start, window_end): the analysed window (UTC); config: ProvidersConfig or
    {provider: {component: capability}} for the reported components and their capability; snapshots:
    provider, snapshot_at of the archived status-page snapshots (the evidence window, see `evidence`).
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
        .join(status_evidence(incidents, snapshots), on="provider", how="left")
        .with_columns(
            window_start=pl.lit(window_start, dtype=UTC_TS), window_end=pl.lit(window_end, dtype=UTC_TS)
        )
    )
    frame = _with_ranking_changes(with_uptime(frame, policy))
    return frame.sort(["provider", "component", pl.col("period") != PERIOD_ALL, "period_start"]).select(
        list(RELIABILITY_COLUMNS)
    )
