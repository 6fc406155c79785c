"""How much impact each incident group had by our own measures: impact minutes and peak error ratio."""

import polars as pl

from assets.marts.reconciliation.schema import ReconciliationParams
from pipelines.core.frames import UTC_TS, to_utc

PEAK_SCHEMA = {
    "provider": pl.String,
    "group_no": pl.UInt32,
    "peak_error_ratio": pl.Float64,
    "peak_error_ratio_at": UTC_TS,
}


def _minute_sets(members: pl.DataFrame, sources: tuple[str, ...]) -> pl.DataFrame:
    """Distinct UTC minutes covered by the members of `sources`, per (provider, group_no)."""
    return (
        members.filter(pl.col("source").is_in(sources))
        .select(
            "provider",
            "group_no",
            minute=pl.datetime_ranges(
                pl.col("started_at").dt.truncate("1m"),
                pl.col("match_end"),
                "1m",
                closed="left",
                time_unit="us",
            ),
        )
        .explode("minute")
        .drop_nulls("minute")
        .unique()
    )


def impact_minutes(members: pl.DataFrame) -> pl.DataFrame:
    """Per group: minutes crowd or telemetry saw impact, and of those the minutes no vendor incident covers."""
    observed = _minute_sets(members, ("crowd", "telemetry"))
    vendor = _minute_sets(members, ("status",))
    keys = ["provider", "group_no"]
    observed_count = observed.group_by(keys).agg(observed_impact_minutes=pl.len().cast(pl.Int64))
    uncovered = (
        observed.join(vendor, on=[*keys, "minute"], how="anti")
        .group_by(keys)
        .agg(under_reporting_minutes=pl.len().cast(pl.Int64))
    )
    return observed_count.join(uncovered, on=keys, how="left").with_columns(
        pl.col("under_reporting_minutes").fill_null(0)
    )


def peak_error_ratio(
    groups: pl.DataFrame, minute_sli: pl.DataFrame, params: ReconciliationParams
) -> pl.DataFrame:
    """Highest per-minute error ratio of the provider inside each group's span (and when it happened)."""
    empty = pl.DataFrame(schema=PEAK_SCHEMA)
    needed = {"provider", "minute", "error_ratio"}
    if minute_sli.height == 0 or not needed <= set(minute_sli.columns):
        return empty
    sli = to_utc(minute_sli)
    if "requests" in sli.columns:
        sli = sli.filter(pl.col("requests") >= params.min_requests_per_minute)
    sli = sli.select(
        pl.col("provider").cast(pl.String), "minute", pl.col("error_ratio").cast(pl.Float64)
    ).filter(pl.col("error_ratio").is_not_null())
    spans = groups.select(
        "provider",
        "group_no",
        window_start=pl.col("started_at").dt.truncate("1m"),
        window_end=pl.col("ended_at"),
    ).sort("window_start")
    # Groups of one provider never overlap, so each minute belongs to at most the last group starting
    # at or before it: an as-of join instead of a range join. Both sides are sorted by their key (so
    # within every provider too), which Polars cannot verify when `by` is given.
    return (
        sli.sort("minute")
        .join_asof(spans, left_on="minute", right_on="window_start", by="provider", strategy="backward",
                   check_sortedness=False)
        .filter(pl.col("group_no").is_not_null() & (pl.col("minute") < pl.col("window_end")))
        .group_by("provider", "group_no")
        .agg(
            peak_error_ratio=pl.col("error_ratio").max(),
            peak_error_ratio_at=pl.col("minute").sort_by("error_ratio", descending=True).first(),
        )
        .select(list(empty.columns))
        .cast(empty.schema)
    )
