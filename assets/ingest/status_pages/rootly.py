"""Rootly status pages: `<page>/api/v1/incidents.json` (https://docs.rootly.com/configuration/status-page-public-api).

`{"page": {name, url, time_zone, updated_at}, "incidents": [{name, status, impact, started_at, resolved_at, url,
incident_updates: [{body, status, created_at}]}]}`; `impact` is none/minor/major/critical (mapped by Rootly
from severity). The incident `status` is Rootly's lifecycle word (started, mitigated, resolved); updates
carry Statuspage's words. Incidents without an `id` are followed by the last segment of their `url`. Only
active incidents are listed, so history accumulates from the archived snapshots.
"""

from __future__ import annotations

from assets.ingest.status_pages.schema import Invalid
from assets.ingest.status_pages.translated import (
    Translated,
    each_incident,
    last_path_segment,
    mapped,
    record_list,
)

PLATFORM = "Rootly"
# Rootly's lifecycle words, and Statuspage's own words, which Rootly's updates use.
STATUSES = {"in_triage": "investigating", "started": "investigating", "mitigated": "monitoring",
            "resolved": "resolved", "closed": "resolved", "investigating": "investigating",
            "identified": "identified", "monitoring": "monitoring"}


def translate(document: object) -> Translated:
    return each_incident(record_list(document, "incidents", PLATFORM), "incidents", _incident)


def _incident(record: object, path: str) -> dict:
    if not isinstance(record, dict):
        raise Invalid(f"{path}: expected an incident object, got {type(record).__name__}")
    updates = record.get("incident_updates")
    if updates is not None and not isinstance(updates, list):
        raise Invalid(f"{path}.incident_updates: expected a list, got {type(updates).__name__}")
    translated_updates = []
    for position, update in enumerate(updates or []):
        where = f"{path}.incident_updates[{position}]"
        if not isinstance(update, dict):
            raise Invalid(f"{where}: expected an update object, got {type(update).__name__}")
        translated_updates.append({**update, "status": mapped(update.get("status"), STATUSES, f"{where}.status",
                                                              PLATFORM)})
    return {
        **{key: record.get(key) for key in ("name", "impact", "started_at", "resolved_at", "updated_at")},
        "id": record.get("id") or last_path_segment(record.get("url")),
        "status": mapped(record.get("status"), STATUSES, f"{path}.status", PLATFORM),
        "created_at": record.get("created_at") or record.get("started_at"),
        "shortlink": record.get("url"),
        "incident_updates": translated_updates,
    }
