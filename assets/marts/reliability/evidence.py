"""What status-page evidence each provider has, and which part of each period it covers.

No data is not good news: a period we have no status-page evidence for gets no uptime (null, with the
reason), never 100%. A provider's evidence window runs from the earliest of its first snapshot and its
earliest incident start (a page lists its recent history, so the oldest incident it shows is as far back
as it speaks for) to its latest snapshot (after that we know nothing). Without snapshot times (plain
frames in tests, files without a stamp) the incidents' last_seen_at, else resolved_at or started_at,
stand in for the latest snapshot.
"""

import polars as pl

from pipelines.core.frames import UTC_TS, to_utc

EVIDENCE_SCHEMA = {"provider": pl.String, "evidence_first_at": UTC_TS, "evidence_last_at": UTC_TS}
SNAPSHOT_SCHEMA = {"provider": pl.String, "snapshot_at": UTC_TS}

NO_EVIDENCE = "no_evidence"  # no snapshot or incident covers the period: uptime unknown
NO_INCIDENTS = "no_incidents"  # evidence covers the period and shows nothing wrong: genuinely 100%
INCIDENTS = "incidents"  # evidence covers the period and shows incidents or non-operational time
EVIDENCE_STATES = (NO_EVIDENCE, NO_INCIDENTS, INCIDENTS)


def _optional(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype=UTC_TS)


def status_evidence(incidents: pl.DataFrame, snapshots: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per provider: evidence_first_at and evidence_last_at (UTC) of its status-page evidence.

    incidents: marts.incidents (started_at, optional vendor_started_at, resolved_at, last_seen_at);
    snapshots: provider, snapshot_at of every archived snapshot we know of, or None.
    """
    inc = to_utc(incidents)
    from_incidents = inc.select(
        pl.col("provider").cast(pl.String),
        first_at=pl.min_horizontal("started_at", _optional(inc, "vendor_started_at")).cast(UTC_TS),
        last_at=pl.coalesce(
            _optional(inc, "last_seen_at"), pl.max_horizontal("resolved_at", "started_at")
        ).cast(UTC_TS),
    )
    snaps = pl.DataFrame(schema=SNAPSHOT_SCHEMA) if snapshots is None else to_utc(snapshots)
    from_snapshots = snaps.select(
        pl.col("provider").cast(pl.String),
        first_at=pl.col("snapshot_at").cast(UTC_TS),
        last_at=pl.col("snapshot_at").cast(UTC_TS),
    )
    return (
        pl.concat([from_incidents, from_snapshots])
        .filter(pl.col("provider").is_not_null())
        .group_by("provider")
        .agg(evidence_first_at=pl.col("first_at").min(), evidence_last_at=pl.col("last_at").max())
        .filter(pl.col("evidence_first_at").is_not_null() & pl.col("evidence_last_at").is_not_null())
        .select(list(EVIDENCE_SCHEMA))
        .cast(EVIDENCE_SCHEMA)
        .sort("provider")
    )


def evidence_minutes() -> pl.Expr:
    """Minutes of [period_start, period_end) inside [evidence_first_at, evidence_last_at]; 0 without any."""
    # min/max_horizontal skip nulls, so a provider without evidence must be caught before them
    overlap = (
        pl.min_horizontal("period_end", "evidence_last_at")
        - pl.max_horizontal("period_start", "evidence_first_at")
    ).dt.total_minutes(fractional=True)
    has_evidence = pl.col("evidence_first_at").is_not_null() & pl.col("evidence_last_at").is_not_null()
    return pl.when(has_evidence).then(pl.max_horizontal(overlap, pl.lit(0.0))).otherwise(pl.lit(0.0))


def evidence_state() -> pl.Expr:
    """no_evidence / no_incidents / incidents (see the constants) from evidence_minutes and the counts."""
    troubled = (pl.col("incidents") > 0) | (
        pl.sum_horizontal(
            "maintenance_minutes", "degraded_minutes", "partial_outage_minutes", "major_outage_minutes"
        )
        > 0
    )
    return (
        pl.when(pl.col("evidence_minutes") <= 0)
        .then(pl.lit(NO_EVIDENCE))
        .when(troubled)
        .then(pl.lit(INCIDENTS))
        .otherwise(pl.lit(NO_INCIDENTS))
    )


def uptime_missing_reason() -> pl.Expr:
    """Why uptime_pct is null: no evidence at all, evidence outside the period, or all maintenance."""
    covers = pl.format(
        "status-page evidence of this provider covers {} to {} UTC only, not this period",
        pl.col("evidence_first_at").dt.strftime("%Y-%m-%d %H:%M"),
        pl.col("evidence_last_at").dt.strftime("%Y-%m-%d %H:%M"),
    )
    return (
        pl.when(pl.col("evidence_first_at").is_null())
        .then(pl.lit("no status-page snapshot or incident of this provider was loaded"))
        .when(pl.col("evidence_minutes") <= 0)
        .then(covers)
        .when(pl.col("counted_minutes") <= 0)
        .then(pl.lit("every evidenced minute of the period was maintenance"))
    )


def snapshot_times(*staged: pl.DataFrame | None) -> pl.DataFrame:
    """provider, snapshot_at of every snapshot time the staging status tables record (snapshot_at and,
    on incidents, last_seen_at); tables or columns that are missing are skipped."""
    frames = [
        to_utc(frame).select(
            pl.col("provider").cast(pl.String), pl.col(column).cast(UTC_TS).alias("snapshot_at")
        )
        for frame in staged
        if frame is not None and "provider" in frame.columns
        for column in ("snapshot_at", "last_seen_at")
        if column in frame.columns
    ]
    return pl.concat([pl.DataFrame(schema=SNAPSHOT_SCHEMA), *frames]).drop_nulls().unique()
