"""marts.incidents as a pure function: lifecycle times and stage durations of every incident.

Time rules, in the order they apply:
- vendor_started_at = the incident's own `started_at`, else its first update's `created_at`, else the
  incident's `created_at` (incident.io pages have no `started_at`).
- acknowledged_at = first update; identified/monitoring/resolved/postmortem_at = first update of that
  status (scheduled maintenance: `verifying` counts as monitoring, `completed` as resolved).
  monitoring_at/resolved_at fall back to the incident's own fields when no such update exists.
- When an update body states the impact window in UTC ("from 19:52-20:35 UTC", "between 19:52 and 20:35
  UTC", also across midnight), that window wins for started_at/resolved_at: vendors often post late and
  then say when the impact really was. The latest update that states a window is used. The vendor's own
  times stay in vendor_started_at/vendor_resolved_at.
- An incident whose status is still open (investigating, identified, monitoring, ...) has resolved_at null.

Components and impact: as the source lists/publishes them; where it gives none, read from the incident's
title and update bodies (`inference`) and marked `components_inferred` / `impact_inferred`.
"""

from collections.abc import Mapping

import polars as pl

from assets.marts.incidents.columns import INCIDENT_COLUMNS
from assets.marts.incidents.inference import with_components_and_impact
from assets.marts.incidents.stated_window import stated_windows
from pipelines.core import tables
from pipelines.core.config import ProvidersConfig
from pipelines.core.frames import UTC_TS
from pipelines.core.status_contract import (
    AFFECTED_INPUT,
    INCIDENT_INPUT,
    UPDATE_INPUT,
    capability_map,
    conform,
)
from pipelines.core.tables import sql_name

OPEN_STATUSES = ("investigating", "identified", "monitoring", "scheduled", "in_progress", "verifying")
RESOLVED_STATUSES = ("resolved", "completed")
FINAL_STATUSES = ("resolved", "completed", "postmortem")
KEYS = ["provider", "incident_id"]


def _minutes(later: str, earlier: str) -> pl.Expr:
    return (pl.col(later) - pl.col(earlier)).dt.total_minutes(fractional=True)


def _first_of(*statuses: str) -> pl.Expr:
    return pl.col("created_at").filter(pl.col("status").is_in(statuses)).min()


def _update_times(updates: pl.DataFrame) -> pl.DataFrame:
    """Per incident: first update, first update of each stage, update count and newest update."""
    return (
        updates.filter(pl.col("created_at").is_not_null())
        .group_by(KEYS)
        .agg(
            acknowledged_at=pl.col("created_at").min(),
            first_update_status=pl.col("status").sort_by("created_at").first(),
            investigating_at=_first_of("investigating", "in_progress"),
            identified_at=_first_of("identified"),
            monitoring_update_at=_first_of("monitoring", "verifying"),
            resolved_update_at=_first_of(*RESOLVED_STATUSES),
            postmortem_at=_first_of("postmortem"),
            update_count=pl.len().cast(pl.Int64),
            last_update_at=pl.col("created_at").max(),
        )
    )


def _stage_durations(frame: pl.DataFrame) -> pl.DataFrame:
    """Duration, time to each stage and whether the vendor only posted after the fact."""
    return frame.with_columns(
        duration_minutes=_minutes("resolved_at", "started_at"),
        time_to_acknowledge=_minutes("acknowledged_at", "started_at"),
        time_to_identify=(
            pl.col("identified_at") - pl.coalesce("investigating_at", "acknowledged_at")
        ).dt.total_minutes(fractional=True),
        time_to_repair=_minutes("monitoring_at", "identified_at"),
        time_to_verify=_minutes("vendor_resolved_at", "monitoring_at"),
        time_to_postmortem=_minutes("postmortem_at", "vendor_resolved_at"),
        posted_after_the_fact=(
            pl.col("first_update_status").is_in(FINAL_STATUSES).fill_null(False)
            | (pl.coalesce("acknowledged_at", "created_at") >= pl.col("resolved_at")).fill_null(False)
        ),
    )


def incidents_mart(
    incidents: pl.DataFrame,
    updates: pl.DataFrame | None,
    affected: pl.DataFrame | None,
    config: ProvidersConfig | Mapping[str, Mapping[str, str]] | None = None,
) -> pl.DataFrame:
    """Build marts.incidents from the three staging status tables.

    incidents: staging.status_incidents (provider, incident_id, title, status, impact, created_at,
      updated_at, started_at, resolved_at, monitoring_at, shortlink, page_kind); one row per incident
      (duplicates are reduced to the newest updated_at).
    updates: staging.status_incident_updates (provider, incident_id, update_id, status, body, created_at),
      or None.
    affected: staging.status_affected_components (provider, incident_id, update_id, component_name,
      old_status, new_status, created_at), or None.
    config: ProvidersConfig or {provider: {component: capability}} for the `capabilities` column.
    Returns one row per (provider, incident_id) with the columns of INCIDENT_COLUMNS, in that order.
    """
    inc = conform(incidents, INCIDENT_INPUT, sql_name(tables.STATUS_INCIDENTS))
    inc = inc.sort("updated_at", nulls_last=False).unique(KEYS, keep="last")
    upd = conform(updates, UPDATE_INPUT, sql_name(tables.STATUS_UPDATES)).with_columns(
        pl.col("status").str.to_lowercase()
    )
    aff = conform(affected, AFFECTED_INPUT, sql_name(tables.STATUS_AFFECTED))
    frame = (
        with_components_and_impact(inc, upd, aff, capability_map(config))
        .join(_update_times(upd), on=KEYS, how="left")
        .with_columns(
            pl.col("update_count").fill_null(0),
            last_seen_at=pl.max_horizontal("snapshot_at", "updated_at", "last_update_at", "created_at"),
            vendor_started_at=pl.coalesce("started_at", "acknowledged_at", "created_at"),
            monitoring_at=pl.coalesce("monitoring_update_at", "monitoring_at"),
            vendor_resolved_at=pl.when(
                pl.col("status").str.to_lowercase().is_in(OPEN_STATUSES).fill_null(False)
            )
            .then(pl.lit(None, dtype=UTC_TS))
            .otherwise(pl.coalesce("resolved_update_at", "resolved_at")),
        )
    )
    windows = stated_windows(upd, frame.select(*KEYS, "vendor_started_at"))
    frame = (
        frame.join(windows, on=KEYS, how="left")
        .with_columns(stated_window=pl.col("stated_start").is_not_null())
        .with_columns(
            started_at=pl.coalesce("stated_start", "vendor_started_at"),
            resolved_at=pl.when(pl.col("vendor_resolved_at").is_null())
            .then(pl.lit(None, dtype=UTC_TS))
            .otherwise(pl.coalesce("stated_end", "vendor_resolved_at")),
        )
    )
    return (
        _stage_durations(frame).select(list(INCIDENT_COLUMNS)).sort(["provider", "started_at", "incident_id"])
    )
