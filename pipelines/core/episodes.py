"""The column block every outage episode shares, whichever evidence source saw it.

Crowd detection, telemetry detection and `marts.outage_episodes` (their union with vendor incidents)
each add their own columns around this block; defining it once keeps the three shapes aligned.
"""

from __future__ import annotations

import polars as pl

from pipelines.core.frames import UTC_TS

EPISODE_COLUMNS = {
    "provider": pl.String,
    "service": pl.String,
    "country": pl.String,
    "started_at": UTC_TS,
    "peak_at": UTC_TS,
    "ended_at": UTC_TS,
    "peak_value": pl.Float64,
    "baseline_value": pl.Float64,
}
