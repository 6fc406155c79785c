"""What the vendor claimed about each incident, as reconciliation reads it from marts.incidents."""

import polars as pl

from pipelines.core.frames import UTC_TS, to_utc

CLAIMS_SCHEMA = {
    "provider": pl.String,
    "source_ref": pl.String,
    "title": pl.String,
    "impact": pl.String,
    "acknowledged_at": UTC_TS,
    "stated_start": UTC_TS,
    "resolution_posted_at": UTC_TS,
    "posted_after_the_fact": pl.Boolean,
}


def incident_claims(incidents: pl.DataFrame) -> pl.DataFrame:
    """The vendor columns reconciliation needs from marts.incidents (optional ones fall back)."""
    if incidents.height == 0 or "incident_id" not in incidents.columns:
        return pl.DataFrame(schema=CLAIMS_SCHEMA)
    frame = to_utc(incidents)
    optional = frame.columns

    def pick(name: str, fallback: str, dtype) -> pl.Expr:
        if name in optional:
            return pl.col(name) if fallback not in optional else pl.coalesce(name, fallback)
        return pl.col(fallback) if fallback in optional else pl.lit(None, dtype)

    return frame.select(
        pl.col("provider").cast(pl.String),
        source_ref=pl.col("incident_id").cast(pl.String),
        title=pl.col("title").cast(pl.String) if "title" in optional else pl.lit(None, pl.String),
        impact=pl.col("impact").cast(pl.String).str.to_lowercase()
        if "impact" in optional
        else pl.lit(None, pl.String),
        acknowledged_at=pick("acknowledged_at", "started_at", UTC_TS).cast(UTC_TS),
        stated_start=pick("vendor_started_at", "started_at", UTC_TS).cast(UTC_TS),
        resolution_posted_at=pick("vendor_resolved_at", "resolved_at", UTC_TS).cast(UTC_TS),
        posted_after_the_fact=(
            pl.col("posted_after_the_fact").cast(pl.Boolean)
            if "posted_after_the_fact" in optional
            else pl.lit(None, pl.Boolean)
        ),
    ).unique(subset=["provider", "source_ref"], keep="first")
