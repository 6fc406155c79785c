"""Atlassian Statuspage API v2 (`incidents.json`, `summary.json`) and incident.io's compatible variant.

One archived response in, rows for the four `staging.status_*` tables out, plus the records refused.

The two JSON dialects share one parser. `page_kind="statuspage"` honours Atlassian's format exactly: the
fields every Statuspage response carries (incident id, name, status, impact, created_at, updated_at,
update id/status/created_at) are required. `page_kind="incident_io"` accepts any field missing or null
(incident.io's compatibility layer omits `started_at`, `shortlink`, `affected_components`, ...); only the
incident id is required there. In both dialects a value that is present but unknown (an impact of
"severe", a status of "down") quarantines the record with a reason: nothing is silently mapped.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping

from assets.ingest.status_pages import fields
from assets.ingest.status_pages.incident import complete_incident
from assets.ingest.status_pages.rows import ParsedSnapshot, SnapshotRows
from assets.ingest.status_pages.schema import (
    AFFECTED,
    COMPONENTS,
    IMPACTS,
    INCIDENT_STATUSES,
    INCIDENTS,
    UPDATE_STATUSES,
    UPDATES,
    Invalid,
)
from assets.ingest.status_pages.translated import Source, Translated

ARRAYS = ("incidents", "scheduled_maintenances", "components")


def parse_statuspage_json(
    data: bytes,
    *,
    provider: str,
    file: str,
    snapshot_at: dt.datetime | None = None,
    page_kind: str = "statuspage",
    capabilities: Mapping[str, str] | None = None,
    file_table: str = INCIDENTS,
    now: dt.datetime | None = None,
) -> ParsedSnapshot:
    """Parse one `incidents.json` or `summary.json` response (either dialect).

    Incidents come from `incidents`, plus `scheduled_maintenances` in summary.json; components (the page's
    state at snapshot time) from the top-level `components`. A file that is empty, not UTF-8, not JSON
    (e.g. truncated) or not a Statuspage document is reported as one reject with record_no 0, charged
    to `file_table`. Record numbers are 1-based positions in the array the record came from. Incidents
    created or updated after `now` (default: the current time) plus FUTURE_SKEW are refused.
    """
    if page_kind not in ("statuspage", "incident_io"):
        raise ValueError(f"page_kind must be statuspage or incident_io, not {page_kind!r}")
    out = SnapshotRows(provider, file, snapshot_at, capabilities or {}, now=now)
    try:
        arrays = _arrays(data)
    except Invalid as exc:
        return out.reject_file(file_table, str(exc), data)
    numbered = Translated()
    for key in ("incidents", "scheduled_maintenances"):
        numbered.incidents += [Source(n + 1, f"{key}[{n}]", record) for n, record in enumerate(arrays[key])]
    numbered.components = [Source(n + 1, f"components[{n}]", r) for n, r in enumerate(arrays["components"])]
    add_translated(out, numbered, page_kind)
    return out.finish()


def add_translated(out: SnapshotRows, document: Translated, page_kind: str) -> None:
    """Validate Statuspage-shaped records (from a Statuspage page or translated from another platform) into `out`.

    Record numbers and paths are those of the platform's own document, so a reason names the record the user
    can find in the file; a quarantined record is previewed as the platform sent it.
    """
    for table, record_no, reason, raw in document.refused:
        out.reject(table, record_no, reason, raw)
    for source in document.incidents:
        try:
            _incident(out, source.record, source.record_no, source.path, page_kind)
        except Invalid as exc:
            out.reject(INCIDENTS, source.record_no, str(exc), source.raw if source.raw is not None else source.record)
    for source in document.components:
        try:
            out.add(COMPONENTS, _component(out, source.record, source.path))
        except Invalid as exc:
            out.reject(COMPONENTS, source.record_no, str(exc), source.raw if source.raw is not None else source.record)


def _arrays(data: bytes) -> dict[str, list]:
    """The document's incident, maintenance and component arrays, or Invalid for the whole file."""
    document = fields.load_json(data)
    if not isinstance(document, dict):
        raise Invalid(f"expected a JSON object with 'incidents' or 'components', got a {type(document).__name__}")
    if not any(key in document for key in ARRAYS):
        raise Invalid("neither 'incidents' nor 'components' found: not a Statuspage API v2 incidents.json or "
                      "summary.json (an HTML error page or another API?)")
    arrays = {}
    for key in ARRAYS:
        value = document.get(key)
        if value is not None and not isinstance(value, list):
            raise Invalid(f"'{key}' must be a list, got {type(value).__name__}")
        arrays[key] = value or []
    return arrays


def _incident(out: SnapshotRows, record: object, record_no: int, path: str, page_kind: str) -> None:
    """Validate one incident and add its rows; raise Invalid to quarantine the whole incident.

    A bad affected component is refused on its own (charged to the affected table); the incident stays.
    """
    strict = page_kind == "statuspage"
    incident, where = _incident_row(out, record, path, page_kind, strict)
    incident_id = incident["incident_id"]
    updates, affected, refused = [], [], []
    for position, raw_update in enumerate(fields.listing(record, "incident_updates", where, strict)):
        uwhere = f"{where}incident_updates[{position}]."
        update = _update(out, incident_id, raw_update, uwhere, strict)
        updates.append(update)
        rows, bad = _components(
            fields.listing(raw_update, "affected_components", uwhere, False), f"{uwhere}affected_components",
            lambda component, cwhere: _update_component(out, incident_id, component, cwhere),
        )
        affected += [(update, row) for row in rows]
        refused += bad

    _fill_update_ids(updates, incident_id)
    affected_rows = []
    for update, row in affected:
        row["update_id"], row["created_at"] = update["update_id"], update["created_at"]
        affected_rows.append(row)

    # incident.io (and older Statuspage incidents) may list the affected components only on the incident.
    if not affected_rows:
        affected_rows, refused_on_incident = _components(
            fields.listing(record, "components", where, False), f"{where}components",
            lambda component, cwhere: _incident_component(out, incident, component, cwhere),
        )
        refused += refused_on_incident

    complete_incident(incident, updates, now=out.now)
    for update in updates:
        out.add(UPDATES, update)
    for row in affected_rows:
        out.add(AFFECTED, row)
    for reason, raw in refused:
        out.reject(AFFECTED, record_no, reason, raw)
    out.add(INCIDENTS, incident)


def _incident_row(
    out: SnapshotRows, record: object, path: str, page_kind: str, strict: bool
) -> tuple[dict, str]:
    """The incident's own fields, and the `where` prefix naming it in reasons."""
    if not isinstance(record, dict):
        raise Invalid(f"{path}: expected an incident object, got {type(record).__name__}")
    if record.get("id") is None:
        raise Invalid(f"{path}.id: missing: an incident without an id cannot be followed across snapshots")
    incident_id = fields.identifier(record, "id", f"{path}.", True)
    where = f"{path} (id {incident_id!r}): "
    incident = {
        "provider": out.provider,
        "incident_id": incident_id,
        "title": fields.text(record, "name", where, strict),
        "status": fields.vocabulary(record, "status", INCIDENT_STATUSES, where, strict),
        "impact": fields.vocabulary(record, "impact", IMPACTS, where, strict),
        "created_at": fields.time(record, "created_at", where, strict),
        "updated_at": fields.time(record, "updated_at", where, strict),
        "started_at": fields.time(record, "started_at", where, False),
        "resolved_at": fields.time(record, "resolved_at", where, False),
        "monitoring_at": fields.time(record, "monitoring_at", where, False),
        "shortlink": fields.text(record, "shortlink", where, False),
        "page_kind": page_kind,
        "snapshot_file": out.file,
        "snapshot_at": out.snapshot_at,
    }
    return incident, where


def _update(out: SnapshotRows, incident_id: str, raw_update: object, uwhere: str, strict: bool) -> dict:
    if not isinstance(raw_update, dict):
        raise Invalid(f"{uwhere[:-1]}: expected an update object, got {type(raw_update).__name__}")
    update = {
        "provider": out.provider,
        "incident_id": incident_id,
        "update_id": fields.identifier(raw_update, "id", uwhere, strict),
        "status": fields.vocabulary(raw_update, "status", UPDATE_STATUSES, uwhere, strict),
        "body": fields.text(raw_update, "body", uwhere, False),
        "created_at": fields.time(raw_update, "created_at", uwhere, strict),
        "updated_at": fields.time(raw_update, "updated_at", uwhere, False),
        "display_at": fields.time(raw_update, "display_at", uwhere, False),
        "display_text": None,
        "snapshot_file": out.file,
        "snapshot_at": out.snapshot_at,
    }
    if update["created_at"] is None:
        update["created_at"] = update["display_at"]
    return update


def _components(listed: list, where: str, row: Callable[[dict, str], object]) -> tuple[list, list]:
    """Rows of the component objects in `listed`, and (reason, raw) of those refused one by one."""
    rows, refused = [], []
    for position, component in enumerate(listed):
        cwhere = f"{where}[{position}]"
        try:
            if not isinstance(component, dict):
                raise Invalid(f"{cwhere}: expected a component object, got {type(component).__name__}")
            rows.append(row(component, cwhere))
        except Invalid as exc:
            refused.append((str(exc), component))
    return rows, refused


def _update_component(out: SnapshotRows, incident_id: str, component: dict, cwhere: str) -> dict:
    """An update's affected component; update_id and created_at are set once every update has an id."""
    name = fields.identifier(component, "name", f"{cwhere}.", True)
    return {
        "provider": out.provider,
        "incident_id": incident_id,
        "update_id": None,
        "component_name": name,
        "component_code": fields.identifier(component, "code", f"{cwhere}.", False),
        "old_status": fields.component_status(component.get("old_status"), f"{cwhere}.old_status"),
        "new_status": fields.component_status(component.get("new_status"), f"{cwhere}.new_status"),
        "created_at": None,
        "capability": out.capability(name),
        "origin": "update",
        "snapshot_file": out.file,
    }


def _incident_component(out: SnapshotRows, incident: dict, component: dict, cwhere: str) -> dict:
    name = fields.identifier(component, "name", f"{cwhere}.", True)
    return {
        "provider": out.provider,
        "incident_id": incident["incident_id"],
        "update_id": None,
        "component_name": name,
        "component_code": fields.identifier(component, "id", f"{cwhere}.", False),
        "old_status": None,
        "new_status": fields.component_status(component.get("status"), f"{cwhere}.status"),
        "created_at": incident["created_at"],
        "capability": out.capability(name),
        "origin": "incident",
        "snapshot_file": out.file,
    }


def _fill_update_ids(updates: list[dict], incident_id: str) -> None:
    """incident.io may omit update ids: derive a stable one from status and time (or position from oldest)."""
    seen: Counter = Counter()
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    # Oldest first (Statuspage lists newest first), so positional ids stay put when new updates arrive.
    ordered = sorted(range(len(updates)), key=lambda i: (updates[i]["created_at"] or never, -i))
    for oldest_first, index in enumerate(ordered):
        update = updates[index]
        if update["update_id"] is not None:
            continue
        when = update["created_at"]
        base = (f"{incident_id}:{update['status'] or 'update'}@{when:%Y%m%dT%H%M%SZ}" if when
                else f"{incident_id}:#{oldest_first + 1}")
        seen[base] += 1
        update["update_id"] = base if seen[base] == 1 else f"{base}-{seen[base]}"


def _component(out: SnapshotRows, record: object, path: str) -> dict:
    """One component of summary.json: the page's state of it at snapshot time."""
    if not isinstance(record, dict):
        raise Invalid(f"{path}: expected a component object, got {type(record).__name__}")
    name = fields.text(record, "name", f"{path}.", True)
    component_id = fields.identifier(record, "id", f"{path}.", False) or (name.strip() if name else None)
    if not component_id:
        raise Invalid(f"{path}: neither id nor name is set")
    is_group = record.get("group")
    if is_group is not None and not isinstance(is_group, bool):
        raise Invalid(f"{path}.group: expected true/false, got {is_group!r:.40}")
    return {
        "provider": out.provider,
        "component_id": component_id,
        "name": name,
        "status": fields.component_status(record.get("status"), f"{path}.status"),
        "capability": out.capability(name),
        "updated_at": fields.parse_timestamp(record.get("updated_at"), f"{path}.updated_at"),
        "snapshot_at": out.snapshot_at,
        "group_id": fields.identifier(record, "group_id", f"{path}.", False),
        "is_group": is_group,
        "snapshot_file": out.file,
    }
