"""One version of each incident, update and component state across every archived snapshot."""

from __future__ import annotations

import polars as pl

from assets.ingest.status_pages.schema import AFFECTED, COMPONENTS, INCIDENTS, UPDATES

NEWEST_FIRST = {"descending": True, "nulls_last": True}


def dedup_snapshots(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """One row per incident (newest updated_at, then newest snapshot), per update, per component state.

    Incidents gain `last_seen_at`, the newest snapshot that listed them (incidents.json drops old ones).

    Updates are the union over snapshots (an update missing from a later snapshot is kept), each in its
    newest version; affected components come with the winning version of their update (or, for lists
    attached to the incident itself, of their incident); components keep one row per snapshot (history).
    """
    incidents = _incidents(frames[INCIDENTS])
    updates = _updates(frames[UPDATES], frames[INCIDENTS])
    return {
        INCIDENTS: incidents,
        UPDATES: updates,
        AFFECTED: _affected(frames[AFFECTED], incidents, updates),
        COMPONENTS: (
            frames[COMPONENTS]
            .sort(["snapshot_at", "snapshot_file"], **NEWEST_FIRST)
            .unique(["provider", "component_id", "snapshot_at"], keep="first", maintain_order=True)
            .sort(["provider", "snapshot_at", "component_id"], nulls_last=True)
        ),
    }


def _incidents(incidents: pl.DataFrame) -> pl.DataFrame:
    return (
        incidents
        .sort(["updated_at", "snapshot_at", "snapshot_file"], **NEWEST_FIRST)
        .unique(["provider", "incident_id"], keep="first", maintain_order=True)
        # the newest snapshot showing the incident at all: an open incident is known open until then
        .join(
            incidents.group_by("provider", "incident_id").agg(last_seen_at=pl.col("snapshot_at").max()),
            on=["provider", "incident_id"], how="left",
        )
        .sort(["provider", "created_at", "incident_id"], nulls_last=True)
    )


def _updates(updates: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    # An update unchanged by its own updated_at is taken from the file holding the newest version of its
    # incident (summary.json and incidents.json of one fetch may disagree while an incident moves).
    version = incidents.select(
        "provider", "incident_id", "snapshot_file", pl.col("updated_at").alias("_incident_updated_at")
    ).unique(["provider", "incident_id", "snapshot_file"], keep="first")
    return (
        updates
        .join(version, on=["provider", "incident_id", "snapshot_file"], how="left")
        .sort(["updated_at", "_incident_updated_at", "snapshot_at", "snapshot_file"], **NEWEST_FIRST)
        .drop("_incident_updated_at")
        .unique(["provider", "incident_id", "update_id"], keep="first", maintain_order=True)
        .sort(["provider", "incident_id", "created_at", "update_id"], nulls_last=True)
    )


def _affected(affected: pl.DataFrame, incidents: pl.DataFrame, updates: pl.DataFrame) -> pl.DataFrame:
    """Affected components from the winning version of their update, or of their incident."""
    by_update = affected.filter(pl.col("update_id").is_not_null()).join(
        updates.select("provider", "incident_id", "update_id", "snapshot_file"),
        on=["provider", "incident_id", "update_id", "snapshot_file"], how="semi",
    )
    by_incident = affected.filter(pl.col("update_id").is_null()).join(
        incidents.select("provider", "incident_id", "snapshot_file"),
        on=["provider", "incident_id", "snapshot_file"], how="semi",
    )
    return (
        pl.concat([by_update, by_incident], how="vertical")
        .unique(["provider", "incident_id", "update_id", "component_name", "origin"], keep="first", maintain_order=True)
        .sort(["provider", "incident_id", "created_at", "component_name"], nulls_last=True)
    )
