"""AWS Health Dashboard public events: `https://health.aws.amazon.com/public/currentevents`.

A JSON array of the events shown on the dashboard (empty when all is well): `{date, region_name, status,
service, service_name, summary, event_log: [{summary, message, status, timestamp}], impacted_services:
{<service-region>: {service_name, current, max}}, end_time}`, times in epoch seconds (as numbers or strings);
shape as archived by the stts project from the live endpoint (web.archive.org capture of 2023-03-13).

Mapping (the dashboard's legend: 0 operating normally, 1 informational, 2 degradation, 3 disruption): the
event's impact is its worst event_log status, 1/2/3 -> minor/major/critical; the event is resolved once it has
an `end_time` or status "0"; an event_log entry whose summary starts "[RESOLVED]" is a resolved update.
Impacted services become the incident's components. The id is the event's `arn` when present, else
`<service>@<date>` (what the dashboard itself keys events by).
"""

from __future__ import annotations

from assets.ingest.status_pages.schema import Invalid
from assets.ingest.status_pages.translated import Translated, each_incident, epoch_seconds, iso, mapped

PLATFORM = "AWS Health"
IMPACTS = {"0": "none", "1": "minor", "2": "major", "3": "critical"}


def translate(document: object) -> Translated:
    if not isinstance(document, list):
        raise Invalid(f"expected a JSON array of events (AWS Health currentevents), got a {type(document).__name__}")
    return each_incident(document, "", _event)


def _event(record: object, path: str) -> dict:
    if not isinstance(record, dict):
        raise Invalid(f"{path}: expected an event object, got {type(record).__name__}")
    began = epoch_seconds(record.get("date"), f"{path}.date")
    ended = epoch_seconds(record.get("end_time"), f"{path}.end_time")
    log = record.get("event_log") or []
    if not isinstance(log, list):
        raise Invalid(f"{path}.event_log: expected a list, got {type(log).__name__}")
    updates = [_log_entry(entry, f"{path}.event_log[{n}]") for n, entry in enumerate(log)]
    levels = [level for level in [u.pop("_level") for u in updates] + [_level(record.get("status"), path)] if level]
    service = record.get("service")
    return {
        "id": record.get("arn") or (f"{service}@{record.get('date')}" if service and began else None),
        "name": record.get("summary"),
        "status": "resolved" if ended or str(record.get("status")) == "0" else "investigating",
        "impact": IMPACTS[max(levels)] if levels else None,
        "created_at": iso(began),
        "started_at": iso(began),
        "resolved_at": iso(ended),
        "incident_updates": updates,
        "components": _impacted(record, path),
    }


def _level(value: object, where: str) -> str | None:
    return None if value is None else mapped(str(value), {k: k for k in IMPACTS}, f"{where}.status", PLATFORM)


def _log_entry(entry: object, where: str) -> dict:
    if not isinstance(entry, dict):
        raise Invalid(f"{where}: expected an event_log object, got {type(entry).__name__}")
    summary = entry.get("summary")
    resolved = isinstance(summary, str) and summary.lstrip().upper().startswith("[RESOLVED]")
    return {
        "status": "resolved" if resolved else "update",
        "body": entry.get("message"),
        "created_at": iso(epoch_seconds(entry.get("timestamp"), f"{where}.timestamp")),
        "_level": _level(entry.get("status"), where),
    }


def _impacted(record: dict, path: str) -> list:
    impacted = record.get("impacted_services")
    if impacted is None:
        return [{"name": record.get("service_name"), "id": record.get("service")}] if record.get("service_name") else []
    if not isinstance(impacted, dict):
        raise Invalid(f"{path}.impacted_services: expected an object, got {type(impacted).__name__}")
    return [{"name": value.get("service_name"), "id": key} if isinstance(value, dict) else value
            for key, value in impacted.items()]
