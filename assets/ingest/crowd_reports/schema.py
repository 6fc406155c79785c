"""The crowd-report contract: the columns an export must and may have, the staging table, schema drift."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

SOURCE = "crowd_reports"
REQUIRED_COLUMNS = ("timestamp", "service", "country", "reports")
OPTIONAL_COLUMNS = ("problem_type", "baseline")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
SUFFIXES = (".csv", ".jsonl", ".csv.gz", ".jsonl.gz")

# staging.crowd_reports (contract columns first; record_no points back into `file`)
STAGING_SCHEMA = {
    "partition_day": pl.Date,
    "ts": pl.Datetime("us", "UTC"),
    "ts_text": pl.String,
    "service": pl.String,
    "provider": pl.String,
    "country": pl.String,
    "reports": pl.Int64,
    "problem_type": pl.String,
    "baseline": pl.Float64,
    "file": pl.String,
    "record_no": pl.Int64,
}

# One row per input record before validation; every field still text, `reason` set when reading failed.
RECORD_SCHEMA = {
    "partition_day": pl.Date,
    "file": pl.String,
    "record_no": pl.Int64,
    "raw": pl.String,
    "reason": pl.String,
    **{c: pl.String for c in COLUMNS},
}


def note_drift(drift: dict[str, list[str]], names: Sequence[str], missing: Sequence[str]) -> None:
    """Record how a file's columns (`names`) differ from the contract; `missing` = required ones absent."""
    extra = [n for n in names if n not in COLUMNS]
    if extra:
        drift["extra_columns"] = extra
    absent = [c for c in OPTIONAL_COLUMNS if c not in names]
    if absent:
        drift["missing_optional_columns"] = absent
    if missing:
        drift["missing_required_columns"] = list(missing)
