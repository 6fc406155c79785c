"""Crowd reports per time bin, completed with zero bins, and their expected counts (`crowd` steps 1-2)."""

import polars as pl

from assets.marts.episodes.crowd_params import (
    BASELINE_FALLBACK,
    BASELINE_TRAILING,
    DEFAULT_PARAMS,
    SERIES,
    CrowdDetectionParams,
)
from pipelines.core.frames import to_utc


def infer_bin_minutes(reports: pl.DataFrame, minimum: int = 5) -> int:
    """Bin width to use: `minimum`, or the export's own step when coarser.

    Binning a 15-minute export into 5-minute bins would leave two bins in three empty, so the bin is
    never finer than the data. The export's step is read off the distinct minutes-of-the-hour its
    timestamps use (4 distinct minutes = a 15-minute step), rounded up to a divisor of 60.
    """
    if reports.height == 0:
        return minimum
    distinct_minutes = max(reports.select(pl.col("ts").dt.minute().n_unique()).item(), 1)
    native = 60 // distinct_minutes
    for width in (5, 10, 15, 20, 30, 60):
        if width >= max(native, minimum):
            return width
    return 60


def bin_reports(reports: pl.DataFrame, bin_minutes: int) -> pl.DataFrame:
    """Sum reports per (service, country, bin) and complete every exported day with zero bins.

    Input columns: ts (UTC), service, country, reports, optional provider and baseline.
    Output: provider, service, country, bin_start, bin_minutes, reports, export_baseline, sorted by
    series and time. A missing country is keyed as "" (joins never match nulls).
    """
    every = f"{bin_minutes}m"
    frame = to_utc(reports)
    if "provider" not in frame.columns:
        frame = frame.with_columns(provider=pl.lit(None, pl.String))
    if "baseline" not in frame.columns:
        frame = frame.with_columns(baseline=pl.lit(None, pl.Float64))
    frame = frame.filter(
        pl.col("ts").is_not_null() & pl.col("service").is_not_null() & pl.col("reports").is_not_null()
    )
    frame = frame.with_columns(country=pl.col("country").fill_null(""))
    counts = frame.group_by(*SERIES, bin_start=pl.col("ts").dt.truncate(every)).agg(
        reports=pl.col("reports").cast(pl.Int64).sum(),
        # Several problem types may share a bin: their baselines add up like their counts.
        export_baseline=pl.when(pl.col("baseline").is_not_null().any()).then(
            pl.col("baseline").cast(pl.Float64).sum()
        ),
    )
    providers = frame.group_by("service").agg(provider=pl.col("provider").drop_nulls().first())
    per_day = 24 * 60 // bin_minutes
    offsets = pl.DataFrame(
        {"offset_min": pl.Series(range(0, per_day * bin_minutes, bin_minutes), dtype=pl.Int64)}
    )
    days = counts.select(*SERIES, day=pl.col("bin_start").dt.truncate("1d")).unique()
    grid = days.join(offsets, how="cross").select(
        *SERIES, bin_start=pl.col("day") + pl.duration(minutes=pl.col("offset_min"))
    )
    return (
        grid.join(counts, on=[*SERIES, "bin_start"], how="left")
        .with_columns(reports=pl.col("reports").fill_null(0))
        .join(providers, on="service", how="left")
        .select(
            "provider",
            *SERIES,
            "bin_start",
            pl.lit(bin_minutes, pl.Int32).alias("bin_minutes"),
            "reports",
            "export_baseline",
        )
        .sort(*SERIES, "bin_start")
    )


def add_expected(bins: pl.DataFrame, params: CrowdDetectionParams = DEFAULT_PARAMS) -> pl.DataFrame:
    """Add `expected`, `baseline_weeks` and `baseline_kind` (hour-of-week baseline over trailing weeks).

    `bins` needs service, country, bin_start, bin_minutes and reports, one row per bin.
    """
    hour = pl.duration(hours=1)
    keyed = bins.with_columns(hour_start=pl.col("bin_start").dt.truncate("1h"))
    observed = (
        keyed.group_by(*SERIES, "hour_start")
        .agg(hour_median=pl.col("reports").median())
        .with_columns(
            week_start=pl.col("hour_start").dt.truncate("1w"),
            hour_of_week=((pl.col("hour_start").dt.weekday() - 1) * 24 + pl.col("hour_start").dt.hour()).cast(
                pl.Int32
            ),
            hour_of_day=pl.col("hour_start").dt.hour(),
        )
    )
    # Each week's hourly median is copied forward to the next `trailing_weeks` weeks, then the copies
    # landing on a week are reduced: the current week never sees itself. Median of 3-4 weeks; with two
    # weeks the lower one (outages only ever add reports), with one week that week.
    lagged = pl.concat(
        [
            observed.select(
                *SERIES, pl.col("week_start") + pl.duration(weeks=lag), "hour_of_week", "hour_median"
            )
            for lag in range(1, params.trailing_weeks + 1)
        ]
    )
    trailing = lagged.group_by(*SERIES, "week_start", "hour_of_week").agg(
        trailing_expected=pl.when(pl.len() == 2)
        .then(pl.col("hour_median").min())
        .otherwise(pl.col("hour_median").median()),
        baseline_weeks=pl.len().cast(pl.Int32),
    )
    first_hour = observed.group_by(*SERIES).agg(first_hour=pl.col("hour_start").min())
    fallback = (
        observed.join(first_hour, on=SERIES)
        .filter(pl.col("hour_start") < pl.col("first_hour") + pl.duration(days=params.fallback_days))
        .group_by(*SERIES, "hour_of_day")
        .agg(fallback_expected=pl.col("hour_median").median())
    )
    same_series_next = (pl.col("hour_start").shift(-1) - pl.col("hour_start")) == hour
    same_series_prev = (pl.col("hour_start") - pl.col("hour_start").shift(1)) == hour
    hourly = (
        observed.join(trailing, on=[*SERIES, "week_start", "hour_of_week"], how="left")
        .join(fallback, on=[*SERIES, "hour_of_day"], how="left")
        .select(
            *SERIES,
            "hour_start",
            hour_expected=pl.coalesce("trailing_expected", "fallback_expected").cast(pl.Float64),
            baseline_weeks=pl.col("baseline_weeks").fill_null(0),
            baseline_kind=pl.when(pl.col("trailing_expected").is_not_null())
            .then(pl.lit(BASELINE_TRAILING))
            .otherwise(pl.lit(BASELINE_FALLBACK)),
        )
        .sort(*SERIES, "hour_start")
        .with_columns(
            prev_expected=pl.when(same_series_prev).then(pl.col("hour_expected").shift(1)).over(SERIES),
            next_expected=pl.when(same_series_next).then(pl.col("hour_expected").shift(-1)).over(SERIES),
        )
    )
    # An hourly value describes the hour's middle; a bin is interpolated linearly towards the
    # neighbouring hour it is closer to, so steep daily ramps do not leave a step at every full hour.
    middle = (pl.col("bin_start") - pl.col("hour_start")).dt.total_seconds(fractional=True) / 60.0 + pl.col(
        "bin_minutes"
    ) / 2.0
    toward_prev = ((30.0 - middle) / 60.0).clip(0.0, 0.5)
    toward_next = ((middle - 30.0) / 60.0).clip(0.0, 0.5)
    own = pl.col("hour_expected")
    return (
        keyed.join(hourly, on=[*SERIES, "hour_start"], how="left")
        .with_columns(
            expected=own * (1.0 - toward_prev - toward_next)
            + pl.coalesce("prev_expected", own) * toward_prev
            + pl.coalesce("next_expected", own) * toward_next
        )
        .drop("hour_start", "hour_expected", "prev_expected", "next_expected")
        .sort(*SERIES, "bin_start")
    )
