"""Frames as Vega reads them, and coarser time series for display."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

# Points per chart panel: well under Altair's MaxRowsError limit (5,000), and light enough that a page
# draws fast; a 9-hour window of 3 providers (1,620 minutes) is shown in 5-minute buckets.
MAX_ROWS = 1500
BUCKETS_MINUTES = (1, 5, 15, 60, 180, 1440)


def iso(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetimes as ISO-8601 UTC strings ('...Z'), dates as 'YYYY-MM-DD': what Vega parses the same way
    in every browser and in vl-convert."""
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            col = pl.col(name)
            if dtype.time_zone is not None:
                col = col.dt.convert_time_zone("UTC")
            fixes.append(col.dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(name))
        elif dtype == pl.Date:
            fixes.append(pl.col(name).dt.strftime("%Y-%m-%d").alias(name))
        elif isinstance(dtype, pl.List):
            fixes.append(pl.col(name).cast(pl.List(pl.String)).list.join(", ").alias(name))
    return frame.with_columns(fixes) if fixes else frame


def bucket_minutes(rows_per_minute: float, span_minutes: float, max_rows: int = MAX_ROWS) -> int:
    """The finest bucket (1, 5, 15, 60, 180 or 1440 minutes) that keeps the series under `max_rows`."""
    for bucket in BUCKETS_MINUTES:
        if rows_per_minute * span_minutes / bucket <= max_rows:
            return bucket
    return BUCKETS_MINUTES[-1]


def resample(
    frame: pl.DataFrame,
    ts_column: str,
    by: Sequence[str],
    bucket: int,
    sums: Sequence[str] = (),
) -> pl.DataFrame:
    """Coarsen a per-minute series of counts to `bucket`-minute rows for DISPLAY (sums per bucket)."""
    if bucket <= 1 or frame.height == 0:
        return frame.select(ts_column, *by, *sums)
    return (
        frame.with_columns(pl.col(ts_column).dt.truncate(f"{bucket}m"))
        .group_by(ts_column, *by)
        .agg(*(pl.col(c).sum() for c in sums))
        .sort(ts_column, *by)
    )


MIN_REQUESTS = 20  # a bucket's error ratio is drawn only with at least this many requests behind it


def pooled_error_ratio(
    sli: pl.DataFrame, span_minutes: float, min_requests: int = MIN_REQUESTS, max_rows: int = MAX_ROWS
) -> tuple[pl.DataFrame, int]:
    """Request-weighted error ratio per provider and bucket, for DISPLAY: failed / requests summed over
    the bucket (never the worst minute), null where the bucket holds fewer than `min_requests` requests,
    so one failed request out of one is a gap, not a 100% spike. The bucket is the finest (of
    BUCKETS_MINUTES) whose typical (median) busy bucket holds `min_requests`, within `max_rows`; at low
    traffic minutes are pooled into longer buckets instead of being shown as noise.
    Returns (frame: minute, provider, requests, error_ratio; bucket minutes)."""
    per_minute = sli.select(
        "minute", "provider", "requests", failed=pl.col("error_ratio") * pl.col("requests")
    )
    providers = max(1, per_minute["provider"].n_unique())
    for bucket in BUCKETS_MINUTES:
        if providers * span_minutes / bucket > max_rows:
            continue
        pooled = _pool(per_minute, bucket)
        busy = pooled.filter(pl.col("requests") > 0)["requests"]
        if busy.len() == 0 or (busy.median() or 0) >= min_requests or bucket == BUCKETS_MINUTES[-1]:
            break
    ratio = pl.when(pl.col("requests") >= min_requests).then(pl.col("failed") / pl.col("requests"))
    return pooled.select("minute", "provider", "requests", ratio.alias("error_ratio")), bucket


def _pool(per_minute: pl.DataFrame, bucket: int) -> pl.DataFrame:
    return (
        per_minute.with_columns(pl.col("minute").dt.truncate(f"{bucket}m"))
        .group_by("minute", "provider")
        .agg(pl.col("requests").sum(), pl.col("failed").sum())
        .sort("minute", "provider")
    )


def ratio_note(bucket: int, min_requests: int = MIN_REQUESTS) -> str:
    """How the ratio chart was pooled, in words for its title."""
    size = "per minute" if bucket == 1 else f"per {bucket} min" if bucket < 60 else f"per {bucket // 60} h"
    return f"failed / all requests {size}; blank under {min_requests} requests"


def with_lanes(markers: pl.DataFrame) -> pl.DataFrame:
    """Stage markers in time order with a label lane 0-2, so labels of stages close in time alternate."""
    return iso(markers.sort("at").with_columns(lane=pl.int_range(pl.len()) % 3))
