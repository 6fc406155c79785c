"""What the four staging.status_* tables hold: their columns and the vocabularies a page may use.

Shared by the JSON parser, the feed parser and the staging asset's checks.
"""

from __future__ import annotations

import polars as pl

from pipelines.core.frames import UTC_TS

SOURCE = "status_pages"  # the `source` of every quarantined row written by this family

IMPACTS = ("none", "minor", "major", "critical", "maintenance")
# Statuspage incident statuses, then the ones scheduled maintenances move through.
INCIDENT_STATUSES = (
    "investigating", "identified", "monitoring", "resolved", "postmortem",
    "scheduled", "in_progress", "verifying", "completed",
)
# An update may also be a plain "Update" (posted without changing the incident's status).
UPDATE_STATUSES = (*INCIDENT_STATUSES, "update")
COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")

# The tables by their names in the staging schema (the staging asset maps them to tables.STATUS_* keys).
INCIDENTS = "status_incidents"
UPDATES = "status_incident_updates"
AFFECTED = "status_affected_components"
COMPONENTS = "status_components"
TABLES = (INCIDENTS, UPDATES, AFFECTED, COMPONENTS)

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
SNAPSHOTS = "status_snapshots"
SNAPSHOT_SCHEMA = {
    "provider": pl.String,
    "file": pl.String,  # relative to the data dir
    "snapshot_at": UTC_TS,
    "time_source": pl.String,  # name (the file's UTC stamp) | content (the document's own time) | mtime
    "page_kind": pl.String,  # the platform read from the content; null when the file was unreadable
    "configured_kind": pl.String,  # the provider's status_page.kind in the config
    "incidents": pl.Int64,  # incidents (and maintenances) the snapshot listed; null when refused whole
}
SCHEMAS = {INCIDENTS: INCIDENT_SCHEMA, UPDATES: UPDATE_SCHEMA, AFFECTED: AFFECTED_SCHEMA, COMPONENTS: COMPONENT_SCHEMA}


class Invalid(ValueError):
    """One record (or one whole file) cannot be accepted; the message is the quarantine reason."""
