"""Episodes of every source matched into incident groups by time (overlap within a tolerance)."""

import polars as pl

from assets.marts.reconciliation.schema import DEFAULT_PARAMS, ReconciliationParams
from pipelines.core.frames import UTC_TS, to_utc


def group_episodes(episodes: pl.DataFrame, params: ReconciliationParams = DEFAULT_PARAMS) -> pl.DataFrame:
    """Assign each episode with a provider to an incident group (`group_no` per provider).

    Adds `match_end` (ended_at; open status incidents capped, see the package docstring) and `group_no`.
    Episodes sorted by start join the running group while they start at most `tolerance_minutes` after
    the latest end seen so far in it: exactly the connected components of "overlap within tolerance".
    """
    frame = to_utc(episodes).filter(pl.col("provider").is_not_null() & pl.col("started_at").is_not_null())
    if frame.height == 0:
        return frame.with_columns(match_end=pl.col("started_at"), group_no=pl.lit(0, pl.UInt32))
    data_end = frame.select(pl.max_horizontal(pl.col("ended_at").max(), pl.col("started_at").max())).item()
    open_cap = pl.col("started_at") + pl.duration(hours=params.open_incident_max_hours)
    match_end = (
        pl.when(pl.col("ended_at").is_not_null())
        .then(pl.col("ended_at"))
        .when(pl.col("source") == "status")
        .then(pl.min_horizontal(pl.lit(data_end).cast(UTC_TS), open_cap))
        .otherwise(pl.col("peak_at"))
    )
    tolerance = pl.duration(minutes=params.tolerance_minutes)
    return (
        frame.with_columns(
            match_end=pl.max_horizontal(pl.col("started_at"), pl.coalesce(match_end, "started_at"))
        )
        .sort("provider", "started_at", "source", "episode_id")
        .with_columns(reach=pl.col("match_end").cum_max().shift(1).over("provider"))
        .with_columns(new_group=(pl.col("started_at") > pl.col("reach") + tolerance).fill_null(True))
        .with_columns(group_no=pl.col("new_group").cum_sum().over("provider"))
        .drop("reach", "new_group")
    )
