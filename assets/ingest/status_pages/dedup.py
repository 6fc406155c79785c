"""One version of each incident, update and component state across every archived snapshot.

Dedup is a fold: `fold(fold(prepared(A)) + prepared(B)) == fold(prepared(A + B))` for the rows of two sets of
files A and B, so a year of snapshots folded once (parse_cache.py keeps it) takes one new day's files
without going through the year again. `prepared` adds what a row needs to compete outside its own file
(its incident's version in that file, the snapshot it was seen in); `finished` drops those helpers.
"""

from __future__ import annotations

import polars as pl

from assets.ingest.status_pages.schema import AFFECTED, COMPONENTS, INCIDENTS, TABLES, UPDATES

NEWEST_FIRST = {"descending": True, "nulls_last": True}
INCIDENT_VERSION = "_incident_updated_at"  # an update's incident's updated_at in the update's own file
SEEN = "last_seen_at"


def dedup_snapshots(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """One row per incident (newest updated_at, then newest snapshot), per update, per component state.

    Incidents gain `last_seen_at`, the newest snapshot that listed them (incidents.json drops old ones).

    Updates are the union over snapshots (an update missing from a later snapshot is kept), each in its
    newest version; affected components come with the winning version of their update (or, for lists
    attached to the incident itself, of their incident); components keep one row per snapshot (history).
    """
    return finished(fold(prepared(frames)))


def prepared(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Files' rows ready to fold: incidents seen at their snapshot, updates with their incident's version.

    An update unchanged by its own updated_at is taken from the file holding the newest version of its
    incident (summary.json and incidents.json of one fetch may disagree while an incident moves).
    """
    incidents = frames[INCIDENTS]
    version = incidents.select(
        "provider", "incident_id", "snapshot_file", pl.col("updated_at").alias(INCIDENT_VERSION)
    ).unique(["provider", "incident_id", "snapshot_file"], keep="first")
    return {
        **frames,
        INCIDENTS: incidents.with_columns(pl.col("snapshot_at").alias(SEEN)),
        UPDATES: frames[UPDATES].join(version, on=["provider", "incident_id", "snapshot_file"], how="left"),
    }


def fold(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The winning rows of prepared (or already folded) rows, still with the helper columns."""
    incidents = _incidents(frames[INCIDENTS])
    updates = _updates(frames[UPDATES])
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


def folded_together(folded: dict[str, pl.DataFrame], frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Folded rows with more files' rows folded in."""
    more = prepared(frames)
    return fold({table: pl.concat([folded[table], more[table]], how="vertical") for table in TABLES})


def finished(folded: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {**folded, UPDATES: folded[UPDATES].drop(INCIDENT_VERSION)}


def _incidents(incidents: pl.DataFrame) -> pl.DataFrame:
    return (
        # the newest snapshot showing the incident at all: an open incident is known open until then
        incidents.with_columns(pl.col(SEEN).max().over("provider", "incident_id"))
        .sort(["updated_at", "snapshot_at", "snapshot_file"], **NEWEST_FIRST)
        .unique(["provider", "incident_id"], keep="first", maintain_order=True)
        .sort(["provider", "created_at", "incident_id"], nulls_last=True)
    )


def _updates(updates: pl.DataFrame) -> pl.DataFrame:
    return (
        updates
        .sort(["updated_at", INCIDENT_VERSION, "snapshot_at", "snapshot_file"], **NEWEST_FIRST)
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
        .sort(["provider", "incident_id", "created_at", "component_name", "update_id", "origin"], nulls_last=True)
    )
