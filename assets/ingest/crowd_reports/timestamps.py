"""Export timestamps: ISO 8601 with an offset in any zone -> UTC, and why a timestamp is refused.

A timestamp without an offset is an ambiguous local time: it is refused, never guessed.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

_TS_WITH_OFFSET = (
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2}(?:[.,]\d{1,9})?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)$"
)
_TS_WITHOUT_OFFSET = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?$"

Check = tuple[pl.Expr, pl.Expr]  # (condition that makes a record bad, the reason text)


def utc_timestamp(text: pl.Expr) -> pl.Expr:
    """`text` parsed as Datetime('us', 'UTC'); null when it is not ISO 8601 with an offset."""
    parts = text.str.extract_groups(_TS_WITH_OFFSET)
    offset = parts.struct.field("4")
    offset_norm = (
        pl.when(offset.str.to_uppercase() == "Z")
        .then(pl.lit("+00:00"))
        .when(offset.str.len_chars() == 3)
        .then(offset + ":00")
        .when(offset.str.len_chars() == 5)
        .then(offset.str.slice(0, 3) + ":" + offset.str.slice(3, 2))
        .otherwise(offset)
    )
    normalised = pl.concat_str(
        parts.struct.field("1"),
        pl.lit("T"),
        parts.struct.field("2"),
        parts.struct.field("3").fill_null(":00").str.replace(",", ".", literal=True),
        offset_norm,
    )
    return normalised.str.to_datetime(
        format="%Y-%m-%dT%H:%M:%S%.f%z", time_zone="UTC", time_unit="us", strict=False
    )


def format_checks() -> list[Check]:
    """`timestamp` (text) must carry an offset and parse (`ts`, see utc_timestamp)."""
    ts_text = pl.col("timestamp")
    return [
        (
            ts_text.str.contains(_TS_WITHOUT_OFFSET),
            pl.format(
                "timestamp: '{}' has no UTC offset; refusing an ambiguous local time (add Z or ±HH:MM)",
                ts_text,
            ),
        ),
        (
            pl.col("ts").is_null(),
            pl.format("timestamp: '{}' is not a valid ISO 8601 timestamp with offset", ts_text),
        ),
    ]


def window_checks(now: dt.datetime, first_day: dt.date) -> list[Check]:
    """`ts` must not be after `now` nor before `first_day`, and must fall inside the record's UTC partition day.

    A record is placed on its own UTC day when a partition covers it (see days.py), so only records that
    could not be placed reach the last check: it keeps the blocking asset check true whatever the caller did.
    """
    ts_text = pl.col("timestamp")
    ts_utc = pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    day_start = pl.col("partition_day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return [
        (
            pl.col("ts") > pl.lit(now),
            # no clock time in the reason: a rerun must quarantine the same text
            pl.format("timestamp: '{}' is {} in UTC, in the future", ts_text, ts_utc),
        ),
        (
            pl.col("ts").dt.date() < pl.lit(first_day),
            pl.format(
                "timestamp: '{}' is {} in UTC, before the first partition day {}",
                ts_text,
                ts_utc,
                pl.lit(first_day.isoformat()),
            ),
        ),
        (
            (pl.col("ts") < day_start) | (pl.col("ts") >= day_start + pl.duration(days=1)),
            pl.format(
                "timestamp: '{}' is {} in UTC, outside partition day {}",
                ts_text,
                ts_utc,
                pl.col("partition_day").cast(pl.String),
            ),
        ),
    ]
