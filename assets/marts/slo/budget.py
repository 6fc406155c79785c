"""Error budget spent per provider and calendar month (UTC) and over the window (`marts.slo_budget`)."""

import datetime as dt
from collections.abc import Mapping

import polars as pl

from assets.marts.slo.targets import targets_frame
from pipelines.core.frames import UTC_TS
from pipelines.core.minute_sli import PROVIDER_ERROR_COLUMNS, ratio


def compute_slo_budget(minute_sli: pl.DataFrame, targets: Mapping[str, float]) -> pl.DataFrame:
    """Error budget per provider and calendar month (UTC), plus one row for the whole window.

    `minute_sli` holds the minute SLI's counts per provider and minute, or the same counts already summed
    per provider and UTC day (`read_daily_counts`): only sums, the first and the last day are taken.
    """
    minutes = (
        minute_sli.with_columns(pl.col("minute").cast(UTC_TS))
        .join(targets_frame(targets), on="provider", how="inner")
        .with_columns(
            bad_requests=pl.sum_horizontal(PROVIDER_ERROR_COLUMNS),
            _month=pl.col("minute").dt.truncate("1mo"),
            _day=pl.col("minute").dt.date(),
        )
    )
    totals = [
        pl.col("requests").sum().cast(pl.Int64),
        pl.col("bad_requests").sum().cast(pl.Int64),
        *[
            pl.col(c).sum().cast(pl.Int64)
            for c in ("errors_5xx", "errors_529", "timeouts", "errors_429", "errors_4xx_other")
        ],
        pl.col("availability_target").first(),
        pl.col("error_budget").first(),
    ]
    monthly = (
        minutes.group_by("provider", "_month")
        .agg(*totals)
        .with_columns(
            period_kind=pl.lit("month"),
            period=pl.col("_month").dt.strftime("%Y-%m"),
            period_start=pl.col("_month").dt.date(),
            period_end=pl.col("_month").dt.offset_by("1mo").dt.date() - dt.timedelta(days=1),
        )
    )
    window = (
        minutes.group_by("provider")
        .agg(*totals, period_start=pl.col("_day").min(), period_end=pl.col("_day").max())
        .with_columns(period_kind=pl.lit("window"), period=pl.lit("window"))
    )
    columns = [
        "provider",
        "period_kind",
        "period",
        "period_start",
        "period_end",
        "requests",
        "bad_requests",
        "errors_5xx",
        "errors_529",
        "timeouts",
        "errors_429",
        "errors_4xx_other",
        "availability_target",
        "error_budget",
    ]
    budget = pl.concat([monthly.select(columns), window.select(columns)])
    return (
        budget.with_columns(
            good_requests=pl.col("requests") - pl.col("bad_requests"),
            availability=ratio(pl.col("requests") - pl.col("bad_requests"), pl.col("requests")),
            budget_requests=pl.col("error_budget") * pl.col("requests"),
        )
        .with_columns(
            budget_used_pct=ratio(pl.col("bad_requests"), pl.col("budget_requests")) * 100.0,
            budget_remaining_requests=pl.col("budget_requests") - pl.col("bad_requests"),
            slo_met=pl.col("availability") >= pl.col("availability_target"),
        )
        .select(
            "provider",
            "period_kind",
            "period",
            "period_start",
            "period_end",
            "requests",
            "good_requests",
            "bad_requests",
            "errors_5xx",
            "errors_529",
            "timeouts",
            "errors_429",
            "errors_4xx_other",
            "availability",
            "availability_target",
            "error_budget",
            "budget_requests",
            "budget_used_pct",
            "budget_remaining_requests",
            "slo_met",
        )
        .sort("provider", "period_kind", "period_start")
    )
