"""Atlassian Statuspage API v2 (`incidents.json`, `summary.json`) and incident.io's compatible variant.

One archived response in, rows for the four `staging.status_*` tables out, plus the records refused.
Pure functions: no Dagster, no warehouse. The history-feed parser (`status_feeds.py`) reuses the row
builder, the schemas and the vocabularies defined here.

The two JSON dialects share one parser. `page_kind="statuspage"` honours Atlassian's format exactly: the
fields every Statuspage response carries (incident id, name, status, impact, created_at, updated_at,
update id/status/created_at) are required. `page_kind="incident_io"` accepts any field missing or null
(incident.io's compatibility layer omits `started_at`, `shortlink`, `affected_components`, ...); only the
incident id is required there. In both dialects a value that is present but unknown (an impact of
"severe", a status of "down") quarantines the record with a reason: nothing is silently mapped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from pipelines.core.quarantine import Rejects

SOURCE = "status_pages"  # the `source` of every quarantined row written by this family

UTC_TS = pl.Datetime("us", "UTC")

IMPACTS = ("none", "minor", "major", "critical", "maintenance")
# Statuspage incident statuses, then the ones scheduled maintenances move through.
INCIDENT_STATUSES = (
    "investigating", "identified", "monitoring", "resolved", "postmortem",
    "scheduled", "in_progress", "verifying", "completed",
)
# An update may also be a plain "Update" (posted without changing the incident's status).
UPDATE_STATUSES = (*INCIDENT_STATUSES, "update")
COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance")
PAGE_KINDS = ("statuspage", "incident_io", "atom", "rss")

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
SCHEMAS = {INCIDENTS: INCIDENT_SCHEMA, UPDATES: UPDATE_SCHEMA, AFFECTED: AFFECTED_SCHEMA, COMPONENTS: COMPONENT_SCHEMA}

MAX_JSON_DEPTH_ERRORS = (RecursionError, MemoryError)

# An incident created or updated in the future is refused. "The future" is the parse time plus an hour of
# clock skew between the page's clock and ours. (Not the snapshot's stamp: the archives in tests/fixtures
# carry stamps that predate their contents, and the staging tests depend on those stamps.)
FUTURE_SKEW = dt.timedelta(hours=1)
FUTURE_CHECKED = ("created_at", "updated_at")


class Invalid(ValueError):
    """One record (or one whole file) cannot be accepted; the message is the quarantine reason."""


@dataclass
class ParsedSnapshot:
    """Rows of one archived file for each staging table, the refused records, and per-table counts.

    `quarantined[table]` counts the reject rows charged to that table, so for every table
    rows in = accepted (the frame's height) + quarantined.
    """

    incidents: pl.DataFrame
    updates: pl.DataFrame
    affected: pl.DataFrame
    components: pl.DataFrame
    rejects: Rejects
    quarantined: Counter = field(default_factory=Counter)

    def frame(self, table: str) -> pl.DataFrame:
        return {INCIDENTS: self.incidents, UPDATES: self.updates, AFFECTED: self.affected, COMPONENTS: self.components}[
            table
        ]

    def counts(self) -> dict[str, dict[str, int]]:
        out = {}
        for table in TABLES:
            accepted, quarantined = self.frame(table).height, self.quarantined[table]
            out[table] = {"rows_in": accepted + quarantined, "rows_accepted": accepted, "rows_quarantined": quarantined}
        return out


class SnapshotRows:
    """Accumulates rows while one file is parsed; `finish()` turns them into typed frames."""

    def __init__(self, provider: str, file: str, snapshot_at: dt.datetime | None, capabilities: Mapping[str, str],
                 now: dt.datetime | None = None):
        self.provider, self.file, self.snapshot_at = provider, file, snapshot_at
        self.now = now or dt.datetime.now(dt.UTC)  # times later than this (+ FUTURE_SKEW) are refused
        self.capabilities = dict(capabilities)  # component name -> capability, from the providers config
        self._folded = {name.casefold().strip(): cap for name, cap in self.capabilities.items()}
        self.rows: dict[str, list[dict]] = {table: [] for table in TABLES}
        self.rejects = Rejects(SOURCE)
        self.quarantined: Counter = Counter()

    def capability(self, component_name: str | None) -> str | None:
        if not component_name:
            return None
        return self.capabilities.get(component_name) or self._folded.get(component_name.casefold().strip())

    def add(self, table: str, row: dict) -> None:
        self.rows[table].append(row)

    def reject(self, table: str, record_no: int, reason: str, raw: object) -> None:
        self.rejects.add(self.file, record_no, reason, raw if isinstance(raw, str) else _preview(raw))
        self.quarantined[table] += 1

    def finish(self) -> ParsedSnapshot:
        frames = [pl.DataFrame(self.rows[t], schema=SCHEMAS[t]) for t in TABLES]
        return ParsedSnapshot(*frames, rejects=self.rejects, quarantined=self.quarantined)


def empty_snapshot() -> ParsedSnapshot:
    return SnapshotRows("", "", None, {}).finish()


def _preview(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)[:2000]
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:2000]


def decode_text(data: bytes) -> str:
    """The file as text, or Invalid naming why it is not usable UTF-8."""
    if not data:
        raise Invalid("empty file (0 bytes): the fetch probably failed; delete it or fetch again")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded"
        ) from exc


def parse_timestamp(value: object, name: str) -> dt.datetime | None:
    """An ISO 8601 time with offset (`2026-03-02T11:49:42.123Z`, `...-08:00`) as UTC; None for null/missing."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name}: expected an ISO 8601 time string, got {type(value).__name__} {value!r:.80}")
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"{name}: {text!r:.80} is not an ISO 8601 time") from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Invalid(f"{name}: {text!r:.80} has no UTC offset (expected e.g. 'Z' or '-08:00')")
    return parsed.astimezone(dt.UTC)


def _text(record: Mapping, key: str, where: str, required: bool) -> str | None:
    value = record.get(key)
    if value is None:
        if required:
            raise Invalid(f"{where}{key}: missing (required by Statuspage API v2; if this page is incident.io's "
                          "compatible API, set its status_page.kind to incident_io)")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Invalid(f"{where}{key}: expected a string, got {type(value).__name__} {value!r:.80}")
    return str(value)


def _identifier(record: Mapping, key: str, where: str, required: bool) -> str | None:
    value = _text(record, key, where, required)
    if value is not None and not value.strip():
        if required:
            raise Invalid(f"{where}{key}: is empty")
        return None
    return value.strip() if value is not None else None


def _time(record: Mapping, key: str, where: str, required: bool) -> dt.datetime | None:
    value = parse_timestamp(record.get(key), f"{where}{key}")
    if value is None and required:
        raise Invalid(f"{where}{key}: missing (required by Statuspage API v2; set status_page.kind to incident_io "
                      "if this page omits it)")
    return value


def _vocabulary(record: Mapping, key: str, allowed: tuple[str, ...], where: str, required: bool) -> str | None:
    value = _text(record, key, where, required)
    if value is None or (value == "" and not required):
        return None
    if value not in allowed:
        raise Invalid(f"{where}{key}: {value!r:.60} is not one of {', '.join(allowed)}")
    return value


def _list(record: Mapping, key: str, where: str, required: bool) -> list:
    value = record.get(key)
    if value is None:
        if required:
            raise Invalid(f"{where}{key}: missing (required by Statuspage API v2)")
        return []
    if not isinstance(value, list):
        raise Invalid(f"{where}{key}: expected a list, got {type(value).__name__}")
    return value


def _latest(updates: list[dict], statuses: tuple[str, ...]) -> dt.datetime | None:
    times = [u["created_at"] for u in updates if u["status"] in statuses and u["created_at"] is not None]
    return max(times) if times else None


def _component_status(value: object, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in COMPONENT_STATUSES:
        raise Invalid(f"{where}: {value!r:.60} is not one of {', '.join(COMPONENT_STATUSES)}")
    return value


def _incident(out: SnapshotRows, record: object, record_no: int, path: str, page_kind: str) -> None:
    """Validate one incident and add its rows; raise Invalid to quarantine the whole incident."""
    strict = page_kind == "statuspage"
    if not isinstance(record, dict):
        raise Invalid(f"{path}: expected an incident object, got {type(record).__name__}")
    if record.get("id") is None:
        raise Invalid(f"{path}.id: missing: an incident without an id cannot be followed across snapshots")
    incident_id = _identifier(record, "id", f"{path}.", True)
    where = f"{path} (id {incident_id!r}): "
    incident = {
        "provider": out.provider,
        "incident_id": incident_id,
        "title": _text(record, "name", where, strict),
        "status": _vocabulary(record, "status", INCIDENT_STATUSES, where, strict),
        "impact": _vocabulary(record, "impact", IMPACTS, where, strict),
        "created_at": _time(record, "created_at", where, strict),
        "updated_at": _time(record, "updated_at", where, strict),
        "started_at": _time(record, "started_at", where, False),
        "resolved_at": _time(record, "resolved_at", where, False),
        "monitoring_at": _time(record, "monitoring_at", where, False),
        "shortlink": _text(record, "shortlink", where, False),
        "page_kind": page_kind,
        "snapshot_file": out.file,
        "snapshot_at": out.snapshot_at,
    }
    updates, affected, affected_rejects = [], [], []
    raw_updates = _list(record, "incident_updates", where, strict)
    for position, raw_update in enumerate(raw_updates):
        uwhere = f"{where}incident_updates[{position}]."
        if not isinstance(raw_update, dict):
            raise Invalid(f"{uwhere[:-1]}: expected an update object, got {type(raw_update).__name__}")
        update = {
            "provider": out.provider,
            "incident_id": incident_id,
            "update_id": _identifier(raw_update, "id", uwhere, strict),
            "status": _vocabulary(raw_update, "status", UPDATE_STATUSES, uwhere, strict),
            "body": _text(raw_update, "body", uwhere, False),
            "created_at": _time(raw_update, "created_at", uwhere, strict),
            "updated_at": _time(raw_update, "updated_at", uwhere, False),
            "display_at": _time(raw_update, "display_at", uwhere, False),
            "display_text": None,
            "snapshot_file": out.file,
            "snapshot_at": out.snapshot_at,
        }
        if update["created_at"] is None:
            update["created_at"] = update["display_at"]
        updates.append(update)
        for cpos, component in enumerate(_list(raw_update, "affected_components", uwhere, False)):
            cwhere = f"{uwhere}affected_components[{cpos}]"
            try:
                if not isinstance(component, dict):
                    raise Invalid(f"{cwhere}: expected a component object, got {type(component).__name__}")
                name = _identifier(component, "name", f"{cwhere}.", True)
                affected.append({
                    "provider": out.provider,
                    "incident_id": incident_id,
                    "update_id": None,  # filled below, once every update has an id
                    "_update": update,
                    "component_name": name,
                    "component_code": _identifier(component, "code", f"{cwhere}.", False),
                    "old_status": _component_status(component.get("old_status"), f"{cwhere}.old_status"),
                    "new_status": _component_status(component.get("new_status"), f"{cwhere}.new_status"),
                    "created_at": None,
                    "capability": out.capability(name),
                    "origin": "update",
                    "snapshot_file": out.file,
                })
            except Invalid as exc:
                affected_rejects.append((str(exc), component))

    _fill_update_ids(updates, incident_id)
    for row in affected:
        update = row.pop("_update")
        row["update_id"], row["created_at"] = update["update_id"], update["created_at"]

    # incident.io (and older Statuspage incidents) may list the affected components only on the incident.
    if not affected:
        for cpos, component in enumerate(_list(record, "components", where, False)):
            cwhere = f"{where}components[{cpos}]"
            try:
                if not isinstance(component, dict):
                    raise Invalid(f"{cwhere}: expected a component object, got {type(component).__name__}")
                name = _identifier(component, "name", f"{cwhere}.", True)
                affected.append({
                    "provider": out.provider,
                    "incident_id": incident_id,
                    "update_id": None,
                    "component_name": name,
                    "component_code": _identifier(component, "id", f"{cwhere}.", False),
                    "old_status": None,
                    "new_status": _component_status(component.get("status"), f"{cwhere}.status"),
                    "created_at": incident["created_at"],
                    "capability": out.capability(name),
                    "origin": "incident",
                    "snapshot_file": out.file,
                })
            except Invalid as exc:
                affected_rejects.append((str(exc), component))

    complete_incident(incident, updates, now=out.now)
    for update in updates:
        out.add(UPDATES, update)
    for row in affected:
        out.add(AFFECTED, row)
    for reason, raw in affected_rejects:
        out.reject(AFFECTED, record_no, reason, raw)
    out.add(INCIDENTS, incident)


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
        base = f"{incident_id}:{update['status'] or 'update'}@{when:%Y%m%dT%H%M%SZ}" if when else f"{incident_id}:#{oldest_first + 1}"
        seen[base] += 1
        update["update_id"] = base if seen[base] == 1 else f"{base}-{seen[base]}"


def minute_floor(when: dt.datetime) -> dt.datetime:
    return when.replace(second=0, microsecond=0)


def complete_incident(incident: dict, updates: list[dict], now: dt.datetime | None = None) -> None:
    """Fill what a lenient page left null from its updates, then check the times are in order.

    Missing status -> the newest update's incident status; missing resolved_at/monitoring_at -> the latest
    update in that status (resolved_at only once the incident is resolved); missing created_at/updated_at
    -> the earliest/latest update. Values the page did send are never overwritten.

    Raises Invalid (the incident is quarantined) when it still has no created_at, when created_at or
    updated_at is later than `now` (default: the current time) plus FUTURE_SKEW, or when it resolved before
    it started.
    """
    def key(u: dict) -> dt.datetime:
        return u["created_at"]

    timed = sorted((u for u in updates if u["created_at"] is not None), key=key)
    if incident["status"] is None:
        real = [u for u in timed if u["status"] in INCIDENT_STATUSES]
        incident["status"] = real[-1]["status"] if real else None
    if incident["resolved_at"] is None and incident["status"] in ("resolved", "postmortem", "completed"):
        incident["resolved_at"] = _latest(timed, ("resolved", "completed"))
    if incident["monitoring_at"] is None:
        incident["monitoring_at"] = _latest(timed, ("monitoring",))
    if incident["created_at"] is None and timed:
        incident["created_at"] = timed[0]["created_at"]
    if incident["updated_at"] is None:
        candidates = [t for t in (incident["created_at"], timed[-1]["created_at"] if timed else None) if t]
        incident["updated_at"] = max(candidates) if candidates else None
    if incident["created_at"] is None:
        # incident.io may send nothing but an id: such a row has no start for marts.incidents (whose blocking
        # not_null(started_at) check would then stop the whole mart), so it is refused here with a reason.
        raise Invalid("created_at: missing and no update has a time; the incident cannot be placed in time")
    now = now or dt.datetime.now(dt.UTC)
    for name in FUTURE_CHECKED:
        when = incident[name]
        if when is not None and when > now + FUTURE_SKEW:
            raise Invalid(
                f"{name}: {when:%Y-%m-%dT%H:%M:%SZ} is in the future (it is now {now:%Y-%m-%dT%H:%M:%SZ} UTC, "
                f"{FUTURE_SKEW.total_seconds() / 3600:g} h of clock skew allowed); the page's clock or data is wrong"
            )
    started, resolved = incident["started_at"], incident["resolved_at"]
    # started_at is typed in by a person at minute precision while resolved_at is stamped by the system,
    # so only a resolution before the minute the incident started is out of order.
    if started is not None and resolved is not None and resolved < minute_floor(started):
        raise Invalid(
            f"incident {incident['incident_id']!r}: resolved_at {resolved:%Y-%m-%dT%H:%M:%SZ} is before "
            f"started_at {started:%Y-%m-%dT%H:%M:%SZ}"
        )


def _component(out: SnapshotRows, record: object, path: str) -> dict:
    if not isinstance(record, dict):
        raise Invalid(f"{path}: expected a component object, got {type(record).__name__}")
    name = _text(record, "name", f"{path}.", True)
    component_id = _identifier(record, "id", f"{path}.", False) or (name.strip() if name else None)
    if not component_id:
        raise Invalid(f"{path}: neither id nor name is set")
    is_group = record.get("group")
    if is_group is not None and not isinstance(is_group, bool):
        raise Invalid(f"{path}.group: expected true/false, got {is_group!r:.40}")
    return {
        "provider": out.provider,
        "component_id": component_id,
        "name": name,
        "status": _component_status(record.get("status"), f"{path}.status"),
        "capability": out.capability(name),
        "updated_at": parse_timestamp(record.get("updated_at"), f"{path}.updated_at"),
        "snapshot_at": out.snapshot_at,
        "group_id": _identifier(record, "group_id", f"{path}.", False),
        "is_group": is_group,
        "snapshot_file": out.file,
    }


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
        text = decode_text(data)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Invalid(f"not valid JSON (truncated or corrupt?): {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
        except MAX_JSON_DEPTH_ERRORS as exc:
            raise Invalid("not usable JSON: nested too deeply") from exc
        if not isinstance(document, dict):
            raise Invalid(f"expected a JSON object with 'incidents' or 'components', got a {type(document).__name__}")
        if not any(key in document for key in ("incidents", "components", "scheduled_maintenances")):
            raise Invalid("neither 'incidents' nor 'components' found: not a Statuspage API v2 incidents.json or "
                          "summary.json (an HTML error page or another API?)")
        arrays = {}
        for key in ("incidents", "scheduled_maintenances", "components"):
            value = document.get(key)
            if value is not None and not isinstance(value, list):
                raise Invalid(f"'{key}' must be a list, got {type(value).__name__}")
            arrays[key] = value or []
    except Invalid as exc:
        out.reject(file_table, 0, str(exc), data[:2000].decode("utf-8", "replace"))
        return out.finish()

    for key in ("incidents", "scheduled_maintenances"):
        for position, record in enumerate(arrays[key]):
            try:
                _incident(out, record, position + 1, f"{key}[{position}]", page_kind)
            except Invalid as exc:
                out.reject(INCIDENTS, position + 1, str(exc), record)
    for position, record in enumerate(arrays["components"]):
        try:
            out.add(COMPONENTS, _component(out, record, f"components[{position}]"))
        except Invalid as exc:
            out.reject(COMPONENTS, position + 1, str(exc), record)
    return out.finish()
