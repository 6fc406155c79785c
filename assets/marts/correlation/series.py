"""The hourly series migration_correlation pairs up: migration signals and error ratios per provider.

- signals (from marts.migration_signals, hour grain, warm-up hours dropped): traffic_growth (growth_pct),
  new_clients, rank_improvement (mean rank_change_1d over the provider's countries and charts that day,
  held for each hour of the day), crowd_share;
- error series (from marts.provider_minute_sli summed per hour): error_5xx_ratio, error_529_ratio,
  error_429_ratio, timeout_ratio = that class / requests in the hour.
"""

import polars as pl

from pipelines.core.frames import to_utc

SIGNALS = {
    "traffic_growth": "traffic growth",
    "new_clients": "new client ids",
    "rank_improvement": "App Store rank improvement",
    "crowd_share": "crowd-report share",
}
ERROR_SERIES = {
    "error_5xx_ratio": ("errors_5xx", "5xx ratio"),
    "error_529_ratio": ("errors_529", "529 ratio"),
    "error_429_ratio": ("errors_429", "429 ratio"),
    "timeout_ratio": ("timeouts", "timeout ratio"),
}


def hourly_error_series(minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Per provider and UTC hour: requests and each error class's ratio (null when no requests)."""
    counts = [c for c, _ in ERROR_SERIES.values()]
    hourly = (
        to_utc(minute_sli)
        .with_columns(hour=pl.col("minute").dt.truncate("1h"))
        .group_by("provider", "hour")
        .agg(pl.col("requests", *counts).sum())
    )
    return hourly.with_columns(
        [
            pl.when(pl.col("requests") > 0).then(pl.col(count) / pl.col("requests")).alias(name)
            for name, (count, _) in ERROR_SERIES.items()
        ]
    )


def hourly_signal_series(signals: pl.DataFrame) -> pl.DataFrame:
    """Per provider and UTC hour: the four migration signals (warm-up hours dropped to null)."""
    signals = to_utc(signals)
    hourly = signals.filter((pl.col("grain") == "hour") & pl.col("country").is_null()).select(
        "provider",
        pl.col("period_start").alias("hour"),
        pl.when(~pl.col("warm_up")).then(pl.col("growth_pct")).alias("traffic_growth"),
        pl.when(~pl.col("warm_up")).then(pl.col("new_clients").cast(pl.Float64)).alias("new_clients"),
        pl.col("crowd_share"),
    )
    rank = (
        signals.filter((pl.col("grain") == "day") & pl.col("country").is_not_null())
        .group_by("provider", "period_start")
        .agg(pl.col("rank_change_1d").cast(pl.Float64).mean().alias("rank_improvement"))
        .rename({"period_start": "day"})
    )
    return (
        hourly.with_columns(day=pl.col("hour").dt.truncate("1d"))
        .join(rank, on=["provider", "day"], how="left")
        .drop("day")
    )


def provider_hours(signals: pl.DataFrame, errors: pl.DataFrame) -> pl.DataFrame:
    """One provider's signals and error series on a complete hourly grid over both their ranges."""
    start = min(signals["hour"].min(), errors["hour"].min())
    end = max(signals["hour"].max(), errors["hour"].max())
    grid = pl.DataFrame(
        {"hour": pl.datetime_range(start, end, "1h", time_zone="UTC", eager=True).dt.cast_time_unit("us")}
    )
    return grid.join(signals, on="hour", how="left").join(errors, on="hour", how="left").sort("hour")
