"""marts.acknowledgement_lag: per provider, how late the vendor's status page spoke after users saw impact.

An observed impact is an incident group of marts.incident_reconciliation that crowd reports or our
telemetry saw (observed_started_at set). Its lag runs from that start to the vendor's first post about the
group (vendor_first_post_at); a vendor that posted before users saw anything has a lag of 0, as
StatusGator counts it. An observed impact with no post at all is never posted and has no lag; the grading
figure counts it as `NEVER_POSTED_MINUTES` (240, StatusGator's rule). A provider without observed impacts in
the window has null figures: nothing was there to acknowledge, which is not a good grade either.
"""

import datetime as dt
from collections.abc import Iterable

import polars as pl

from pipelines.core.frames import UTC_TS, to_utc

NEVER_POSTED_MINUTES = 240.0

ACK_LAG_COLUMNS: dict[str, tuple[str, str]] = {
    "provider": ("string", "provider key from providers.yaml"),
    "observed_impacts": ("bigint", "incident groups of the window that crowd reports or our telemetry saw"),
    "posted_impacts": ("bigint", "of those, groups the vendor posted about on its status page"),
    "never_posted_impacts": ("bigint", "of those, groups the vendor never posted about"),
    "posted_first_impacts": ("bigint", "posted groups whose first post came before users saw impact (lag 0)"),
    "ack_lag_median_minutes": (
        "double",
        "median minutes from the observed start (crowd or telemetry) to the first post; null if none posted",
    ),
    "ack_lag_mean_minutes": ("double", "mean of the same lags (posted impacts only); null if none posted"),
    "ack_lag_graded_mean_minutes": (
        "double",
        "mean lag over all observed impacts, a never-posted one counting 240 min (StatusGator); null if none",
    ),
    "window_start": ("timestamptz", "first instant of the analysed window this run used (UTC)"),
    "window_end": ("timestamptz", "end of the analysed window this run used, exclusive (UTC)"),
}
ACK_LAG_SCHEMA = {"provider": pl.String, "observed_started_at": UTC_TS, "vendor_first_post_at": UTC_TS}


def acknowledgement_lag(
    reconciliation: pl.DataFrame,
    providers: Iterable[str],
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
) -> pl.DataFrame:
    """One row per provider (those configured and those the reconciliation names) with the lag figures of
    ACK_LAG_COLUMNS over the reconciliation's groups (already the analysed window's)."""
    groups = to_utc(reconciliation) if reconciliation.height else pl.DataFrame(schema=ACK_LAG_SCHEMA)
    observed = groups.filter(pl.col("observed_started_at").is_not_null()).select(
        "provider",
        posted=pl.col("vendor_first_post_at").is_not_null(),
        lag=pl.max_horizontal(
            (pl.col("vendor_first_post_at") - pl.col("observed_started_at")).dt.total_seconds(fractional=True)
            / 60.0,
            pl.lit(0.0),
        ),
        posted_first=pl.col("vendor_first_post_at") <= pl.col("observed_started_at"),
    )
    posted_lag = pl.col("lag").filter(pl.col("posted"))
    figures = observed.group_by("provider").agg(
        observed_impacts=pl.len().cast(pl.Int64),
        posted_impacts=pl.col("posted").sum().cast(pl.Int64),
        never_posted_impacts=(~pl.col("posted")).sum().cast(pl.Int64),
        posted_first_impacts=pl.col("posted_first").fill_null(False).sum().cast(pl.Int64),
        ack_lag_median_minutes=posted_lag.median(),
        ack_lag_mean_minutes=posted_lag.mean(),
        ack_lag_graded_mean_minutes=pl.when(pl.col("posted"))
        .then("lag")
        .otherwise(NEVER_POSTED_MINUTES)
        .mean(),
    )
    names = sorted(set(providers) | set(groups["provider"].drop_nulls().to_list()))
    counts = ["observed_impacts", "posted_impacts", "never_posted_impacts", "posted_first_impacts"]
    return (
        pl.DataFrame({"provider": names}, schema={"provider": pl.String})
        .join(figures, on="provider", how="left")
        .with_columns(
            pl.col(counts).fill_null(0),
            window_start=pl.lit(window_start, dtype=UTC_TS),
            window_end=pl.lit(window_end, dtype=UTC_TS),
        )
        .select(list(ACK_LAG_COLUMNS))
    )
