"""What the four staging.status_* tables hold: their columns and the vocabularies a page may use.

Shared by the JSON parser, the feed parser and the staging asset's checks.
"""

from __future__ import annotations

from pipelines.core.status_contract import (  # noqa: F401  (the staging tables' columns, defined in core)
    AFFECTED_SCHEMA,
    COMPONENT_SCHEMA,
    INCIDENT_SCHEMA,
    SNAPSHOT_SCHEMA,
    UPDATE_SCHEMA,
)

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

SNAPSHOTS = "status_snapshots"
SCHEMAS = {INCIDENTS: INCIDENT_SCHEMA, UPDATES: UPDATE_SCHEMA, AFFECTED: AFFECTED_SCHEMA, COMPONENTS: COMPONENT_SCHEMA}


class Invalid(ValueError):
    """One record (or one whole file) cannot be accepted; the message is the quarantine reason."""
