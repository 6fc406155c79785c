"""Crowd detection's thresholds, levels and output columns (the method is described in `crowd`)."""

from dataclasses import dataclass

import polars as pl

from pipelines.core.episodes import EPISODE_COLUMNS
from pipelines.core.frames import UTC_TS

SERIES = ["service", "country"]

LEVEL_NO_PROBLEM = "no_problem"
LEVEL_POSSIBLE = "possible_problem"
LEVEL_PROBLEM = "problem"
LEVELS = (LEVEL_NO_PROBLEM, LEVEL_POSSIBLE, LEVEL_PROBLEM)

BASELINE_TRAILING = "trailing_weeks"
BASELINE_FALLBACK = "hour_of_day_fallback"

CROWD_BASELINE_SCHEMA = {
    "provider": pl.String,
    "service": pl.String,
    "country": pl.String,
    "bin_start": UTC_TS,
    "bin_minutes": pl.Int32,
    "reports": pl.Int64,
    "expected": pl.Float64,
    "baseline_weeks": pl.Int32,
    "baseline_kind": pl.String,
    "dispersion": pl.Float64,
    "p_value": pl.Float64,
    "anomalous": pl.Boolean,
    "flagged": pl.Boolean,
    "level": pl.String,
    "export_baseline": pl.Float64,
}

CROWD_EPISODE_SCHEMA = {
    **EPISODE_COLUMNS,
    "level": pl.String,
    "flagged_bins": pl.Int64,
    "excess_reports": pl.Float64,
    "min_p_value": pl.Float64,
    "confidence": pl.Float64,
}


@dataclass(frozen=True)
class CrowdDetectionParams:
    """Thresholds of the detector (the defaults are the ones documented in `crowd`)."""

    bin_minutes: int = 5  # smallest bin; a coarser export step (e.g. 15 min) is used as is
    trailing_weeks: int = 4
    fallback_days: int = 28
    min_expected: float = 1.0
    min_dispersion: float = 0.01
    max_dispersion: float = 5.0
    dispersion_trim_quantile: float = 0.995
    dispersion_refits: int = 2
    p_threshold: float = 1e-4
    possible_p_threshold: float = 1e-3
    min_reports: int = 10
    persistence_k: int = 2
    persistence_m: int = 3
    episode_gap_minutes: int = 30


DEFAULT_PARAMS = CrowdDetectionParams()
