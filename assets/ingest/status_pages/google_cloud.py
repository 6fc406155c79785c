"""Google Cloud Service Health: `https://status.cloud.google.com/incidents.json` (also Google Workspace's).

A JSON array of incidents: `{id, number, begin, created, end, modified, external_desc, updates: [{created,
modified, when, text, status, affected_locations}], most_recent_update, status_impact, severity, service_key,
service_name, affected_products: [{title, id}], uri, currently_affected_locations, previously_affected_locations}`
(times ISO 8601 with offsets; `end` missing or null while the incident is open).

Mapping: `status_impact` SERVICE_INFORMATION/DISRUPTION/OUTAGE -> impact minor/major/critical; an update's
status AVAILABLE -> resolved, any other (the impact at that moment) -> a plain update; the incident is resolved
once it has an `end`. Affected products become the incident's components.
"""

from __future__ import annotations

from assets.ingest.status_pages.schema import Invalid
from assets.ingest.status_pages.translated import Translated, each_incident, mapped

PLATFORM = "Google Cloud"
SITE = "https://status.cloud.google.com/"
IMPACTS = {"SERVICE_INFORMATION": "minor", "SERVICE_DISRUPTION": "major", "SERVICE_OUTAGE": "critical"}
UPDATE_STATUSES = {"AVAILABLE": "resolved", "SERVICE_INFORMATION": "update", "SERVICE_DISRUPTION": "update",
                   "SERVICE_OUTAGE": "update"}


def translate(document: object) -> Translated:
    if not isinstance(document, list):
        raise Invalid(f"expected a JSON array of incidents (Google Cloud incidents.json), got a {type(document).__name__}")
    return each_incident(document, "", _incident)


def _incident(record: object, path: str) -> dict:
    if not isinstance(record, dict):
        raise Invalid(f"{path}: expected an incident object, got {type(record).__name__}")
    updates = _listing(record, "updates", path)
    products = _listing(record, "affected_products", path)
    uri = record.get("uri")
    return {
        "id": record.get("id"),
        "name": record.get("external_desc"),
        "status": "resolved" if record.get("end") else "investigating",
        "impact": mapped(record.get("status_impact"), IMPACTS, f"{path}.status_impact", PLATFORM),
        "created_at": record.get("created") or record.get("begin"),
        "started_at": record.get("begin"),
        "updated_at": record.get("modified"),
        "resolved_at": record.get("end") or None,
        "shortlink": SITE + uri if isinstance(uri, str) and uri else None,
        "incident_updates": [_update(update, f"{path}.updates[{n}]") for n, update in enumerate(updates)],
        "components": [{"name": p.get("title"), "id": p.get("id")} if isinstance(p, dict) else p for p in products],
    }


def _update(update: object, where: str) -> dict:
    if not isinstance(update, dict):
        raise Invalid(f"{where}: expected an update object, got {type(update).__name__}")
    return {
        "status": mapped(update.get("status"), UPDATE_STATUSES, f"{where}.status", PLATFORM),
        "body": update.get("text"),
        "created_at": update.get("when") or update.get("created"),
        "updated_at": update.get("modified"),
    }


def _listing(record: dict, key: str, path: str) -> list:
    value = record.get(key)
    if value is not None and not isinstance(value, list):
        raise Invalid(f"{path}.{key}: expected a list, got {type(value).__name__}")
    return value or []
