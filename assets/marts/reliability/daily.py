"""marts.component_daily_uptime: one uptime figure per component and UTC day, for status-page-style bars.

Not a second definition of uptime: the same worst-status timeline (`timeline.status_timeline`), evidence
window (`evidence`) and weighting policy (`mart.with_uptime`) as marts.component_reliability, cut by day
instead of by month. A day outside the provider's status-page evidence has null uptime and worst status
('no_evidence'), never 100%; summing weighted_down_minutes over the days gives the window's figure.
"""

import datetime as dt
from collections.abc import Mapping

import polars as pl

from assets.marts.reliability.columns import DAILY_UPTIME_COLUMNS
from assets.marts.reliability.components import component_universe
from assets.marts.reliability.evidence import status_evidence
from assets.marts.reliability.mart import with_uptime
from assets.marts.reliability.stats import incident_stats
from assets.marts.reliability.timeline import status_minutes, status_timeline
from assets.marts.reliability.uptime import DEFAULT_POLICY, UptimePolicy
from assets.marts.reliability.window import days
from pipelines.core.config import ProvidersConfig
from pipelines.core.frames import UTC_TS, to_utc
from pipelines.core.status_contract import capability_map

# The worst status a day's minutes show, worst first; a covered day with none of them was operational.
WORST_FIRST = (
    ("major_outage_minutes", "major_outage"),
    ("partial_outage_minutes", "partial_outage"),
    ("degraded_minutes", "degraded_performance"),
    ("maintenance_minutes", "under_maintenance"),
)


def worst_status() -> pl.Expr:
    """The day's worst status from its minutes per status; null when the day has no evidence."""
    expr = pl.when(pl.col("evidence_minutes") <= 0).then(pl.lit(None, dtype=pl.String))
    for column, status in WORST_FIRST:
        expr = expr.when(pl.col(column) > 0).then(pl.lit(status))
    return expr.otherwise(pl.lit("operational"))


def daily_uptime_mart(
    incidents: pl.DataFrame,
    affected: pl.DataFrame | None,
    window_start: dt.datetime,
    window_end: dt.datetime,
    config: ProvidersConfig | Mapping[str, Mapping[str, str]] | None = None,
    policy: UptimePolicy = DEFAULT_POLICY,
    snapshots: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Build marts.component_daily_uptime (columns of DAILY_UPTIME_COLUMNS); the arguments are those of
    `reliability_mart`: marts.incidents, the staged status transitions, the analysed window [start, end)
    in UTC, the component map and the snapshot times."""
    incidents = to_utc(incidents)
    day_frame = days(window_start, window_end)
    in_window = incidents.filter(pl.col("started_at").is_between(window_start, window_end, closed="left"))
    timeline = status_timeline(incidents, affected, window_start, window_end, provider_level=True)
    keys = ["provider", "component", "period"]
    frame = (
        component_universe(incidents, capability_map(config))
        .join(day_frame, how="cross")
        .join(
            incident_stats(in_window, day_frame).select(*keys, "incidents", "resolved_incidents"),
            on=keys,
            how="left",
        )
        .join(status_minutes(timeline, day_frame), on=keys, how="left")
        .join(status_evidence(incidents, snapshots), on="provider", how="left")
    )
    return (
        with_uptime(frame, policy)
        .with_columns(
            day=pl.col("period_start").dt.date(),
            worst_status=worst_status(),
            window_start=pl.lit(window_start, dtype=UTC_TS),
            window_end=pl.lit(window_end, dtype=UTC_TS),
        )
        .sort("provider", "component", "day")
        .select(list(DAILY_UPTIME_COLUMNS))
    )
