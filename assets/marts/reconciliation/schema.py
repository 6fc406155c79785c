"""The columns of marts.incident_reconciliation, its classes and the matching parameters."""

from dataclasses import dataclass

import polars as pl

from pipelines.core.frames import UTC_TS

CLASSIFICATIONS = ("matched", "unreported_impact", "vendor_only", "severity_understated")
IMPACT_BY_RANK = {1: "none", 2: "minor", 3: "major", 4: "critical"}

RECONCILIATION_SCHEMA = {
    "group_id": pl.String,
    "provider": pl.String,
    "classification": pl.String,
    "started_at": UTC_TS,
    "ended_at": UTC_TS,
    "sources": pl.List(pl.String),
    "episode_ids": pl.List(pl.String),
    "vendor_incident_ids": pl.List(pl.String),
    "titles": pl.List(pl.String),
    "vendor_impact": pl.String,
    "crowd_countries": pl.List(pl.String),
    "triangulated_start": UTC_TS,
    "observed_started_at": UTC_TS,
    "crowd_started_at": UTC_TS,
    "telemetry_started_at": UTC_TS,
    "vendor_started_at": UTC_TS,
    "vendor_stated_start": UTC_TS,
    "clock_difference_minutes": pl.Float64,
    "vendor_first_post_at": UTC_TS,
    "crowd_lead_minutes": pl.Float64,
    "telemetry_lead_minutes": pl.Float64,
    "acknowledgement_lag_minutes": pl.Float64,
    "vendor_resolved_at": UTC_TS,
    "telemetry_recovered_at": UTC_TS,
    "crowd_recovered_at": UTC_TS,
    "resolution_lag_minutes": pl.Float64,
    "observed_impact_minutes": pl.Int64,
    "under_reporting_minutes": pl.Int64,
    "peak_error_ratio": pl.Float64,
    "peak_error_ratio_at": UTC_TS,
    "peak_crowd_reports": pl.Float64,
    "posted_after_the_fact": pl.Boolean,
    "window_start": UTC_TS,
    "window_end": UTC_TS,
}


@dataclass(frozen=True)
class ReconciliationParams:
    tolerance_minutes: int = 30
    severe_error_ratio: float = 0.20
    understated_max_impact_rank: int = 2  # none (1) or minor (2)
    min_requests_per_minute: int = 5  # minutes with fewer requests are too noisy for a peak ratio
    open_incident_max_hours: int = 24


DEFAULT_PARAMS = ReconciliationParams()
