"""The columns of marts.downtime_cost and the groups of them the cost terms sum."""

import polars as pl

from pipelines.core.cost_model import CATEGORIES
from pipelines.core.frames import UTC_TS

LEVELS = ("incident", "month", "provider")
IMPACT_BASES = ("telemetry", "crowd", "no_evidence")
TERMS_SOURCES = ("provider", "default")

DOWNTIME_COST_SCHEMA = {
    "level": pl.String,
    "scenario": pl.String,
    "provider": pl.String,
    "month": pl.Date,
    "group_id": pl.String,
    "incident_id": pl.String,
    "incident_ids": pl.List(pl.String),
    "classification": pl.String,
    "window_start": UTC_TS,
    "window_end": UTC_TS,
    "impacted_minutes": pl.Float64,
    "capabilities": pl.List(pl.String),
    "window_requests": pl.Int64,
    "failed_requests": pl.Int64,
    "observed_error_ratio": pl.Float64,
    "crowd_minutes": pl.Float64,
    "crowd_outage_share": pl.Float64,
    "telemetry_outage_minutes": pl.Float64,
    "crowd_outage_minutes": pl.Float64,
    "outage_equivalent_minutes": pl.Float64,
    "impact_basis": pl.String,
    "incidents_priced": pl.Int64,
    "incidents_without_evidence": pl.Int64,
    "value_per_failed_request_usd": pl.Float64,
    "cost_terms_source": pl.String,
    "assumptions": pl.String,
    "failed_request_value_usd": pl.Float64,
    "retry_tokens": pl.Float64,
    "retry_token_cost_usd": pl.Float64,
    **{f"impacted_minutes_{c}": pl.Float64 for c in CATEGORIES},
    **{f"productivity_loss_{c}_usd": pl.Float64 for c in CATEGORIES},
    "productivity_loss_usd": pl.Float64,
    "total_cost_usd": pl.Float64,
    "requests": pl.Int64,
    "provider_errors": pl.Int64,
    "availability_pct": pl.Float64,
    "sla_credit_pct": pl.Float64,
    "monthly_spend_usd": pl.Float64,
    "sla_credit_usd": pl.Float64,
    "net_cost_usd": pl.Float64,
}

# the incident terms that month and provider rows add up
SUMMED = [
    "impacted_minutes",
    "outage_equivalent_minutes",
    "incidents_priced",
    "incidents_without_evidence",
    "failed_requests",
    "failed_request_value_usd",
    "retry_tokens",
    "retry_token_cost_usd",
    *[f"impacted_minutes_{c}" for c in CATEGORIES],
    *[f"productivity_loss_{c}_usd" for c in CATEGORIES],
    "productivity_loss_usd",
    "total_cost_usd",
]

# incident_windows' columns (the empty frame when there is no reconciliation yet)
WINDOW_SCHEMA = {
    c: DOWNTIME_COST_SCHEMA[c]
    for c in (
        "group_id",
        "provider",
        "incident_id",
        "incident_ids",
        "classification",
        "window_start",
        "window_end",
        "impacted_minutes",
        "crowd_minutes",
        "capabilities",
    )
}
