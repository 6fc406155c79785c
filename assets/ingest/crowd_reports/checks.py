"""Why a crowd record is refused: one check per field, as Polars expressions over all records of a run.

The checks run in order and a record gets the reason of the first one it fails, so a reason always
names the field ("reports: -3 is negative ...") and the quarantine can be counted by field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from assets.ingest.crowd_reports import timestamps
from assets.ingest.crowd_reports.schema import REQUIRED_COLUMNS
from assets.ingest.crowd_reports.timestamps import Check


def _missing_checks() -> list[Check]:
    return [(pl.col(c).is_null(), pl.lit(f"{c}: missing required field")) for c in REQUIRED_COLUMNS]


def _report_checks() -> list[Check]:
    """`reports` is a whole count >= 0 that fits an Int64 (`reports_int`)."""
    reports = pl.col("reports")
    return [
        (reports.str.contains(r"^-\d"), pl.format("reports: {} is negative (must be a count >= 0)", reports)),
        (
            ~reports.str.contains(r"^\+?\d+(\.0*)?$"),
            pl.format("reports: '{}' is not an integer count", reports),
        ),
        (pl.col("reports_int").is_null(), pl.format("reports: '{}' is too large", reports)),
    ]


def _country_checks(countries: Sequence[str]) -> list[Check]:
    allowed = ", ".join(countries)
    return [
        (
            ~pl.col("country").str.contains(r"^[a-z]{2}$"),
            pl.format("country: '{}' is not a 2-letter country code", pl.col("country")),
        ),
        (
            ~pl.col("country").is_in(list(countries)),
            pl.format(
                "country: '{}' is not a configured country ({}); add it to app_store.countries to keep it",
                pl.col("country"),
                pl.lit(allowed),
            ),
        ),
    ]


def _label_checks() -> list[Check]:
    return [
        (
            pl.col("service").str.contains(r"[\x00-\x1f\x7f]"),
            pl.lit("service: contains control characters"),
        ),
        (
            pl.col("problem_type").str.contains(r"[\x00-\x1f\x7f]").fill_null(False),
            pl.lit("problem_type: contains control characters"),
        ),
    ]


def _baseline_checks() -> list[Check]:
    """`baseline` is optional; when given, a finite number >= 0."""
    baseline_text = pl.col("baseline")
    baseline = baseline_text.cast(pl.Float64, strict=False)
    return [
        (
            baseline_text.is_not_null() & baseline.is_null(),
            pl.format("baseline: '{}' is not a number", baseline_text),
        ),
        (
            baseline.is_not_null() & (baseline.is_nan() | baseline.is_infinite()),
            pl.format("baseline: '{}' is not a finite number", baseline_text),
        ),
        ((baseline < 0).fill_null(False), pl.format("baseline: {} is negative", baseline_text)),
    ]


def first_reason(countries: Sequence[str], now: dt.datetime, first_day: dt.date) -> pl.Expr:
    """The first thing wrong with each record (null = fine); a reading error (`reason`) comes first."""
    checks = (
        _missing_checks()
        + timestamps.format_checks()
        + _report_checks()
        + _country_checks(countries)
        + _label_checks()
        + _baseline_checks()
        + timestamps.window_checks(now, first_day)
    )
    chain = pl.when(checks[0][0]).then(checks[0][1])
    for condition, message in checks[1:]:
        chain = chain.when(condition.fill_null(False)).then(message)
    return pl.coalesce(pl.col("reason"), chain.otherwise(pl.lit(None, dtype=pl.String)))
