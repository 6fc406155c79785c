"""marts.outage_episodes: every outage episode each evidence source saw, in one shape.

Three sources, each keeping its own claim (reconciliation compares them later):
- `crowd`: episodes detected in crowd reports (module `crowd`): one per service and country;
  peak_value = reports in the peak bin, baseline_value = expected reports in that bin,
  level = Downdetector-like level (always `problem`: only confirmed detections become episodes).
- `telemetry`: error-ratio episodes of our own requests, copied from `marts.telemetry_episodes`.
- `status`: every vendor incident of `marts.incidents`: started_at = the incident's impact start,
  ended_at = resolved_at (null while open), peak_at = identified_at when it falls inside the incident
  (else started_at), peak_value = impact rank (none or maintenance 1, minor 2, major 3, critical 4;
  null when the page gives no impact), service = first affected component, source_ref = incident id.

confidence: 1 - the episode's p-value (crowd: 1 - its smallest bin p-value; telemetry: 1 - the binomial
p-value of its errors against the provider's baseline); null for status episodes (the vendor's word).

episode_id is a stable hash of source, provider, service, country, started_at (and source_ref, so two
vendor incidents opened at the same second on the same component stay distinct).
"""

import hashlib

import polars as pl

from pipelines.core.episodes import EPISODE_COLUMNS
from pipelines.core.frames import UTC_TS, to_utc

SOURCES = ("crowd", "telemetry", "status")
IMPACT_RANK = {"none": 1, "maintenance": 1, "minor": 2, "major": 3, "critical": 4}

OUTAGE_EPISODE_SCHEMA = {
    "episode_id": pl.String,
    "source": pl.String,
    **EPISODE_COLUMNS,
    "level": pl.String,
    "source_ref": pl.String,
    "confidence": pl.Float64,
}


def _conform(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Select the episode columns (missing ones as null), timestamps as UTC, and tag the source."""
    frame = to_utc(frame)
    columns = []
    for name, dtype in OUTAGE_EPISODE_SCHEMA.items():
        if name == "source":
            columns.append(pl.lit(source, pl.String).alias(name))
        elif name not in frame.columns or name == "episode_id":
            columns.append(pl.lit(None, dtype).alias(name))
        else:
            columns.append(pl.col(name).cast(dtype).alias(name))
    return frame.select(columns)


def episode_id(source: str, provider, service, country, started_at, source_ref=None) -> str:
    """Stable id: first 16 hex digits of SHA-1 over the identifying fields (UTC ISO timestamp)."""
    start_text = started_at.isoformat() if started_at is not None else ""
    key = "|".join(
        str(v) if v is not None else "" for v in (source, provider, service, country, start_text, source_ref)
    )
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def with_episode_ids(episodes: pl.DataFrame) -> pl.DataFrame:
    ids = [
        episode_id(r["source"], r["provider"], r["service"], r["country"], r["started_at"], r["source_ref"])
        for r in episodes.select(
            "source", "provider", "service", "country", "started_at", "source_ref"
        ).iter_rows(named=True)
    ]
    return episodes.with_columns(episode_id=pl.Series(ids, dtype=pl.String))


def status_episodes(incidents: pl.DataFrame) -> pl.DataFrame:
    """One `status` episode per vendor incident of marts.incidents."""
    if incidents.height == 0:
        return pl.DataFrame(schema=OUTAGE_EPISODE_SCHEMA)
    frame = _conform(
        incidents.with_columns(
            ended_at=pl.col("resolved_at"),
            source_ref=pl.col("incident_id").cast(pl.String),
            service=pl.col("components").list.first()
            if "components" in incidents.columns
            else pl.lit(None, pl.String),
        ),
        "status",
    )
    identified = (
        _conform(incidents.select(started_at=pl.col("identified_at")), "status")["started_at"]
        if "identified_at" in incidents.columns
        else pl.Series("started_at", [None] * incidents.height, dtype=UTC_TS)
    )
    impact = incidents["impact"].cast(pl.String).str.to_lowercase() if "impact" in incidents.columns else None
    inside = (
        identified.is_not_null()
        & (identified >= frame["started_at"]).fill_null(False)
        & ((identified <= frame["ended_at"]) | frame["ended_at"].is_null()).fill_null(False)
    )
    return frame.with_columns(
        peak_at=pl.when(inside).then(identified).otherwise(pl.col("started_at")),
        peak_value=(
            impact.replace_strict(IMPACT_RANK, default=None, return_dtype=pl.Float64)
            if impact is not None
            else pl.lit(None, pl.Float64)
        ),
    )


def build_outage_episodes(
    crowd: pl.DataFrame, telemetry: pl.DataFrame, incidents: pl.DataFrame
) -> pl.DataFrame:
    """Union of crowd episodes, telemetry episodes and vendor incidents, with stable episode ids.

    `crowd` is the output of `crowd_episodes`, `telemetry` the rows of marts.telemetry_episodes and
    `incidents` the rows of marts.incidents. Episodes without a start time are dropped (nothing to match).
    """
    parts = [
        _conform(crowd, "crowd") if crowd.height else pl.DataFrame(schema=OUTAGE_EPISODE_SCHEMA),
        _conform(telemetry, "telemetry").with_columns(level=pl.lit(None, pl.String))
        if telemetry.height
        else pl.DataFrame(schema=OUTAGE_EPISODE_SCHEMA),
        status_episodes(incidents),
    ]
    episodes = pl.concat([p.select(list(OUTAGE_EPISODE_SCHEMA)) for p in parts], how="vertical")
    episodes = episodes.filter(pl.col("started_at").is_not_null())
    return with_episode_ids(episodes).sort("provider", "started_at", "source", nulls_last=True)
