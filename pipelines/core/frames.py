"""The one UTC rule for frames.

Every warehouse connection sets `TimeZone = 'UTC'` (warehouse.connect), so DuckDB hands TIMESTAMPTZ back
in UTC; frames built elsewhere (parsers, tests, naive timestamps from `timezone('UTC', ..)`) go through
`to_utc` once, so every datetime a mart computes with is `Datetime('us', 'UTC')`.
"""

from __future__ import annotations

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")


def to_utc(frame: pl.DataFrame) -> pl.DataFrame:
    """Every datetime column as microsecond UTC (naive values are taken as UTC wall-clock time)."""
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            column = pl.col(name)
            column = (
                column.dt.replace_time_zone("UTC") if dtype.time_zone is None
                else column.dt.convert_time_zone("UTC")
            )
            fixes.append(column.dt.cast_time_unit("us"))
    return frame.with_columns(fixes) if fixes else frame
