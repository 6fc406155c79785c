"""Better Stack (Better Uptime) status pages: `<page>/index.json`, a JSON:API document.

https://betterstack.com/docs/uptime/status-pages/subscribing-to-status-updates/subscribing-to-api and the
Uptime API's status-report / status-update objects (https://betterstack.com/docs/uptime/api/): `{"data":
{"type": "status_page", "attributes": {..., aggregate_state, updated_at}}, "included": [...]}` where included
objects are `status_page_resource` (attributes public_name, status), `status_report` (title, report_type
manual|automatic|maintenance, starts_at, ends_at, aggregate_state, affected_resources) and `status_update`
(message, published_at, status_report_id, affected_resources: [{status_page_resource_id, status}]).

Mapping: resource status operational/degraded/downtime/maintenance -> operational/degraded_performance/
major_outage/under_maintenance (not_monitored -> null: no evidence); a report is resolved (or, for maintenance,
completed) once its aggregate_state is operational; its impact is the worst state its updates gave a resource
(downtime -> major, degraded -> minor, maintenance -> maintenance, resolved only -> none).
"""

from __future__ import annotations

from assets.ingest.status_pages.schema import COMPONENTS, INCIDENTS, Invalid
from assets.ingest.status_pages.translated import Source, Translated, mapped

PLATFORM = "Better Stack"
RESOURCE_STATUSES = {"operational": "operational", "degraded": "degraded_performance", "downtime": "major_outage",
                     "maintenance": "under_maintenance", "not_monitored": None, "resolved": "operational"}
IMPACT_OF = {"downtime": "major", "degraded": "minor", "maintenance": "maintenance", "resolved": "none",
             "operational": "none", "not_monitored": None}
_WORST_FIRST = ("major", "minor", "maintenance", "none")


def translate(document: object) -> Translated:
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise Invalid("expected a JSON:API document with a 'data' object (Better Stack index.json)")
    included = document.get("included") or []
    if not isinstance(included, list):
        raise Invalid(f"'included' must be a list, got {type(included).__name__}")
    out = Translated()
    typed = [(n, item) for n, item in enumerate(included) if isinstance(item, dict)]
    names = {str(item.get("id")): (item.get("attributes") or {}).get("public_name")
             for _, item in typed if item.get("type") == "status_page_resource"}
    updates = [item for _, item in typed if item.get("type") == "status_update"]
    for n, item in typed:
        path = f"included[{n}]"
        try:
            if item.get("type") == "status_page_resource":
                out.components.append(Source(n + 1, path, _resource(item, path), item))
            elif item.get("type") == "status_report":
                out.incidents.append(Source(n + 1, path, _report(item, path, updates, names), item))
        except Invalid as exc:
            out.refused.append((COMPONENTS if item.get("type") == "status_page_resource" else INCIDENTS,
                                n + 1, str(exc), item))
    return out


def _attributes(item: dict, path: str) -> dict:
    attributes = item.get("attributes")
    if not isinstance(attributes, dict):
        raise Invalid(f"{path}.attributes: expected an object, got {type(attributes).__name__}")
    return attributes


def _resource(item: dict, path: str) -> dict:
    attributes = _attributes(item, path)
    return {"id": item.get("id"), "name": attributes.get("public_name"),
            "status": mapped(attributes.get("status"), RESOURCE_STATUSES, f"{path}.attributes.status", PLATFORM)}


def _report(item: dict, path: str, updates: list[dict], names: dict) -> dict:
    attributes = _attributes(item, path)
    report_id = str(item.get("id"))
    listed = {str(ref.get("id")) for ref in ((item.get("relationships") or {}).get("status_updates") or {})
              .get("data") or [] if isinstance(ref, dict)}
    mine = [u for u in updates if str(u.get("id")) in listed
            or str((u.get("attributes") or {}).get("status_report_id")) == report_id]
    translated = [_update(u, f"{path} update {u.get('id')!r}", names) for u in mine]
    states = [a.get("status") for a in attributes.get("affected_resources") or [] if isinstance(a, dict)]
    states += [state for update in translated for state in update.pop("_states")]
    impacts = {mapped(state, IMPACT_OF, f"{path}: affected resource status", PLATFORM) for state in states}
    maintenance = attributes.get("report_type") == "maintenance"
    done = str(attributes.get("aggregate_state") or "").lower() == "operational"
    ended = attributes.get("ends_at") if done or maintenance else None
    return {
        "id": item.get("id"),
        "name": attributes.get("title"),
        "status": ("completed" if done else "in_progress") if maintenance else ("resolved" if done else "investigating"),
        "impact": "maintenance" if maintenance else next((i for i in _WORST_FIRST if i in impacts), None),
        "created_at": attributes.get("starts_at"),
        "started_at": attributes.get("starts_at"),
        "resolved_at": ended,
        "incident_updates": translated,
    }


def _update(update: dict, where: str, names: dict) -> dict:
    attributes = _attributes(update, where)
    affected = [a for a in attributes.get("affected_resources") or [] if isinstance(a, dict)]
    states = [a.get("status") for a in affected]
    return {
        "id": update.get("id"),
        "status": "resolved" if states and all(s == "resolved" for s in states) else "update",
        "body": attributes.get("message"),
        "created_at": attributes.get("published_at"),
        "affected_components": [{
            "name": names.get(str(a.get("status_page_resource_id"))) or str(a.get("status_page_resource_id")),
            "code": str(a.get("status_page_resource_id")),
            "new_status": mapped(a.get("status"), RESOURCE_STATUSES, f"{where}.affected_resources.status", PLATFORM),
        } for a in affected],
        "_states": states,
    }
