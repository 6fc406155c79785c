"""The columns of marts.downtime_cost and the groups of them the cost terms sum."""

import polars as pl

from pipelines.core.cost_model import CATEGORIES
from pipelines.core.frames import UTC_TS

LEVELS = ("incident", "month", "provider")

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
    "failed_requests": pl.Int64,
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
        "capabilities",
    )
}
