"""The staging status tables as the vendor-incident marts read them, and the component -> capability map.

`conform` holds every reader of staging.status_* to one typed contract, so a source that lacks an
optional column still yields the same columns (null) and the same types.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.core.config import ProvidersConfig
from pipelines.core.frames import UTC_TS, to_utc

# Staging contract (pipelines' staging helpers write these; more columns are ignored).
INCIDENT_INPUT = {
    "provider": pl.String,
    "incident_id": pl.String,
    "title": pl.String,
    "status": pl.String,
    "impact": pl.String,
    "created_at": UTC_TS,
    "updated_at": UTC_TS,
    "started_at": UTC_TS,
    "resolved_at": UTC_TS,
    "monitoring_at": UTC_TS,
    "shortlink": pl.String,
    "page_kind": pl.String,
    "snapshot_at": UTC_TS,  # optional: when the archived response holding this version was fetched
}
UPDATE_INPUT = {
    "provider": pl.String,
    "incident_id": pl.String,
    "update_id": pl.String,
    "status": pl.String,
    "body": pl.String,
    "created_at": UTC_TS,
}
AFFECTED_INPUT = {
    "provider": pl.String,
    "incident_id": pl.String,
    "update_id": pl.String,
    "component_name": pl.String,
    "old_status": pl.String,
    "new_status": pl.String,
    "created_at": UTC_TS,
}


def conform(frame: pl.DataFrame | None, schema: Mapping[str, pl.DataType], table: str) -> pl.DataFrame:
    """Select the contract columns of a staging frame, typed; optional ones missing become null.

    provider and incident_id are required; an input without them is a programming error, reported with
    the table name and the columns it does have.
    """
    if frame is None:
        return pl.DataFrame(schema=dict(schema))
    missing_keys = {"provider", "incident_id"} - set(frame.columns)
    if missing_keys:
        raise ValueError(f"{table}: missing required columns {sorted(missing_keys)} (has {frame.columns})")
    frame = to_utc(frame)
    return frame.select(
        [
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t, strict=False).alias(c)
            for c, t in schema.items()
        ]
    )


def capability_map(
    config: ProvidersConfig | Mapping[str, Mapping[str, str]] | None,
) -> dict[str, dict[str, str]]:
    """provider -> {component name -> capability} from a ProvidersConfig or an equivalent plain mapping."""
    if config is None:
        return {}
    if isinstance(config, ProvidersConfig):
        return {key: dict(p.components) for key, p in config.providers.items()}
    return {provider: dict(components) for provider, components in config.items()}
