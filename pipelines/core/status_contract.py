"""The staging status tables as the vendor-incident marts read them, and the component -> capability map.

`conform` holds every reader of staging.status_* to one typed contract, so a source that lacks an
optional column still yields the same columns (null) and the same types.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.core.config import ProvidersConfig
from pipelines.core.frames import UTC_TS, to_utc

# The staging tables' columns: written by the status-page parsers (assets/ingest/status_pages), read here.
INCIDENT_SCHEMA = {
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
    "snapshot_file": pl.String,
    "snapshot_at": UTC_TS,
}
UPDATE_SCHEMA = {
    "provider": pl.String,
    "incident_id": pl.String,
    "update_id": pl.String,
    "status": pl.String,
    "body": pl.String,
    "created_at": UTC_TS,
    "updated_at": UTC_TS,
    "display_at": UTC_TS,
    "display_text": pl.String,
    "snapshot_file": pl.String,
    "snapshot_at": UTC_TS,
}
AFFECTED_SCHEMA = {
    "provider": pl.String,
    "incident_id": pl.String,
    "update_id": pl.String,  # null when the list came from the incident itself, not from one update
    "component_name": pl.String,
    "component_code": pl.String,
    "old_status": pl.String,
    "new_status": pl.String,
    "created_at": UTC_TS,
    "capability": pl.String,
    "origin": pl.String,  # update (affected_components) | incident (incident.components) | feed (text)
    "snapshot_file": pl.String,
}
COMPONENT_SCHEMA = {
    "provider": pl.String,
    "component_id": pl.String,
    "name": pl.String,
    "status": pl.String,
    "capability": pl.String,
    "updated_at": UTC_TS,
    "snapshot_at": UTC_TS,
    "group_id": pl.String,
    "is_group": pl.Boolean,
    "snapshot_file": pl.String,
}
# One row per archived snapshot read: the evidence that a page was looked at, even when it listed nothing.
SNAPSHOT_SCHEMA = {
    "provider": pl.String,
    "file": pl.String,  # relative to the data dir
    "snapshot_at": UTC_TS,
    "time_source": pl.String,  # name (the file's UTC stamp) | content (the document's own time) | mtime
    "page_kind": pl.String,  # the platform read from the content; null when the file was unreadable
    "configured_kind": pl.String,  # the provider's status_page.kind in the config
    "incidents": pl.Int64,  # incidents (and maintenances) the snapshot listed; null when refused whole
}


def _pick(schema: Mapping[str, pl.DataType], *columns: str) -> dict[str, pl.DataType]:
    return {column: schema[column] for column in columns}


# What the marts read of them (more columns are ignored); snapshot_at is optional.
INCIDENT_INPUT = {column: dtype for column, dtype in INCIDENT_SCHEMA.items() if column != "snapshot_file"}
UPDATE_INPUT = _pick(UPDATE_SCHEMA, "provider", "incident_id", "update_id", "status", "body", "created_at")
AFFECTED_INPUT = _pick(AFFECTED_SCHEMA, "provider", "incident_id", "update_id", "component_name", "old_status",
                       "new_status", "created_at")


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
