"""The columns of marts.migration_signals, their types and their one-line meanings."""

import polars as pl

from pipelines.core.frames import UTC_TS

GRAINS = ("hour", "day")

MIGRATION_SCHEMA = {
    "grain": pl.String,
    "provider": pl.String,
    "period_start": UTC_TS,
    "country": pl.String,
    "chart": pl.String,
    "requests": pl.Int64,
    "traffic_share": pl.Float64,
    "requests_baseline_7d": pl.Float64,
    "growth_pct": pl.Float64,
    "requests_week_ago": pl.Int64,
    "growth_48h_pct": pl.Float64,
    "new_clients": pl.Int64,
    "crowd_reports": pl.Float64,
    "crowd_share": pl.Float64,
    "best_rank": pl.Int64,
    "rank_change_1d": pl.Int64,
    "rank_change_7d": pl.Int64,
    "days_at_1": pl.Int64,
    "first_day_at_1": pl.Date,
    "warm_up": pl.Boolean,
}

COLUMN_DOCS = {
    "grain": "'hour' or 'day'",
    "provider": "provider key from providers.yaml",
    "period_start": "UTC start of the hour or day",
    "country": "App Store country (rank rows only, else null)",
    "chart": "App Store chart (rank rows only, else null)",
    "requests": "our requests to the provider in the period (staging.request_logs)",
    "traffic_share": "requests / all providers' requests in the period",
    "requests_baseline_7d": "mean requests of the same hour (day) over the previous 7 days",
    "growth_pct": "100 * (requests / requests_baseline_7d - 1)",
    "requests_week_ago": "requests in the same period one week earlier",
    "growth_48h_pct": "growth over the 48 h ending here, net of daily/weekly cycle (see module doc)",
    "new_clients": "client ids first seen in the period",
    "crowd_reports": "crowd reports for the provider's services in the period",
    "crowd_share": "crowd_reports / all providers' crowd reports in the period",
    "best_rank": "best App Store rank of the provider's apps (rank rows)",
    "rank_change_1d": "rank a day earlier - rank today (positive = moved up)",
    "rank_change_7d": "rank 7 days earlier - rank today (positive = moved up)",
    "days_at_1": "days at #1 so far in this country and chart",
    "first_day_at_1": "first day at #1 so far (null before it happened)",
    "warm_up": "within the first 7 days of the provider's data: baselines incomplete, clients all 'new'",
}

# the empty inputs build_migration_signals starts from when a source table does not exist yet
EMPTY_INPUTS = {
    "traffic": {"provider": pl.String, "period_start": UTC_TS, "requests": pl.Int64},
    "first_seen": {"provider": pl.String, "period_start": UTC_TS, "new_clients": pl.Int64},
    "crowd": {"provider": pl.String, "period_start": UTC_TS, "crowd_reports": pl.Float64},
    "ranks": {
        "provider": pl.String,
        "day": pl.Date,
        "country": pl.String,
        "chart": pl.String,
        "best_rank": pl.Int64,
    },
}
