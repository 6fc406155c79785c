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
    worst: Sequence[str] = (),
) -> pl.DataFrame:
    """Coarsen a per-minute series to `bucket`-minute rows for DISPLAY: sums of counts, max of ratios."""
    if bucket <= 1 or frame.height == 0:
        return frame.select(ts_column, *by, *sums, *worst)
    return (
        frame.with_columns(pl.col(ts_column).dt.truncate(f"{bucket}m"))
        .group_by(ts_column, *by)
        .agg(*(pl.col(c).sum() for c in sums), *(pl.col(c).max() for c in worst))
        .sort(ts_column, *by)
    )


def with_lanes(markers: pl.DataFrame) -> pl.DataFrame:
    """Stage markers in time order with a label lane 0-2, so labels of stages close in time alternate."""
    return iso(markers.sort("at").with_columns(lane=pl.int_range(pl.len()) % 3))
