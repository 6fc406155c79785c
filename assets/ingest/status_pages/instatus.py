"""Instatus public status data: `<page>/summary.json` (https://instatus.com/help/api/public-data).

`{"page": {name, url, status}, "activeIncidents": [{id, name, started, status, impact, url}],
"activeMaintenances": [{id, name, start, status, duration, url}]}`. Times are JavaScript date strings
("Sat Jun 11 2022 18:55:50 GMT+0000 (Coordinated Universal Time)") or ISO 8601. The page lists only what is
active now, so an incident's history is what the archived snapshots saw of it; an incident that vanished
from the page is known open until its `last_seen_at` and never marked resolved by us.
"""

from __future__ import annotations

import datetime as dt
import re

from assets.ingest.status_pages.fields import parse_timestamp
from assets.ingest.status_pages.schema import Invalid
from assets.ingest.status_pages.translated import (
    Translated,
    each_incident,
    iso,
    last_path_segment,
    mapped,
    record_list,
)

PLATFORM = "Instatus"
STATUSES = {"INVESTIGATING": "investigating", "IDENTIFIED": "identified", "MONITORING": "monitoring",
            "RESOLVED": "resolved"}
MAINTENANCE_STATUSES = {"NOTSTARTEDYET": "scheduled", "INPROGRESS": "in_progress", "COMPLETED": "completed"}
# Instatus names the worst component state; Statuspage's impact for the same state (its own auto-impact rule).
IMPACTS = {"OPERATIONAL": "none", "UNDERMAINTENANCE": "maintenance", "DEGRADEDPERFORMANCE": "minor",
           "PARTIALOUTAGE": "major", "MINOROUTAGE": "major", "MAJOROUTAGE": "critical"}
_JS_DATE = re.compile(r"^[A-Z][a-z]{2} ([A-Z][a-z]{2} \d{1,2} \d{4} \d{2}:\d{2}:\d{2}) GMT([+-]\d{4})")


def instatus_time(value: object, where: str) -> dt.datetime | None:
    """A JavaScript Date string with its GMT offset, or ISO 8601 with an offset; None when missing."""
    if isinstance(value, str) and (match := _JS_DATE.match(value.strip())):
        try:
            return dt.datetime.strptime(f"{match[1]} {match[2]}", "%b %d %Y %H:%M:%S %z").astimezone(dt.UTC)
        except ValueError as exc:
            raise Invalid(f"{where}: {value!r:.80} is not a real date/time") from exc
    return parse_timestamp(value, where)


def translate(document: object) -> Translated:
    incidents = each_incident(record_list(document, "activeIncidents", PLATFORM), "activeIncidents",
                              lambda record, path: _incident(record, path, STATUSES, "started"))
    return each_incident(record_list(document, "activeMaintenances", PLATFORM), "activeMaintenances",
                         lambda record, path: _incident(record, path, MAINTENANCE_STATUSES, "start"), into=incidents)


def _incident(record: object, path: str, statuses: dict, time_key: str) -> dict:
    if not isinstance(record, dict):
        raise Invalid(f"{path}: expected an incident object, got {type(record).__name__}")
    incident_id = record.get("id") or last_path_segment(record.get("url"))
    started = instatus_time(record.get(time_key), f"{path}.{time_key}")
    maintenance = statuses is MAINTENANCE_STATUSES
    return {
        "id": incident_id,
        "name": record.get("name"),
        "status": mapped(record.get("status"), statuses, f"{path}.status", PLATFORM),
        "impact": "maintenance" if maintenance else mapped(record.get("impact"), IMPACTS, f"{path}.impact", PLATFORM),
        "created_at": iso(started),
        "started_at": iso(started),
        "updated_at": iso(instatus_time(record.get("updatedAt"), f"{path}.updatedAt")),
        "shortlink": record.get("url"),
    }
