"""What both dialects (JSON and feeds) fill in on an incident from its updates, and the time checks."""

from __future__ import annotations

import datetime as dt

from assets.ingest.status_pages.schema import INCIDENT_STATUSES, Invalid

# An incident created or updated in the future is refused. "The future" is the parse time plus an hour of
# clock skew between the page's clock and ours. (Not the snapshot's stamp: the archives in tests/fixtures
# carry stamps that predate their contents, and the staging tests depend on those stamps.)
FUTURE_SKEW = dt.timedelta(hours=1)
IN_THE_FUTURE = "is in the future"  # the one refusal that depends on the clock (the parse cache re-parses it)
FUTURE_CHECKED = ("created_at", "updated_at")


def minute_floor(when: dt.datetime) -> dt.datetime:
    return when.replace(second=0, microsecond=0)


def _latest(updates: list[dict], statuses: tuple[str, ...]) -> dt.datetime | None:
    times = [u["created_at"] for u in updates if u["status"] in statuses and u["created_at"] is not None]
    return max(times) if times else None


def complete_incident(incident: dict, updates: list[dict], now: dt.datetime | None = None) -> None:
    """Fill what a lenient page left null from its updates, then check the times are in order.

    Missing status -> the newest update's incident status; missing resolved_at/monitoring_at -> the latest
    update in that status (resolved_at only once the incident is resolved); missing created_at/updated_at
    -> the earliest/latest update. Values the page did send are never overwritten.

    Raises Invalid (the incident is quarantined) when it still has no created_at, when created_at or
    updated_at is later than `now` (default: the current time) plus FUTURE_SKEW, or when it resolved before
    it started.
    """
    _fill_from_updates(incident, updates)
    if incident["created_at"] is None:
        # incident.io may send nothing but an id: such a row has no start for marts.incidents (whose blocking
        # not_null(started_at) check would then stop the whole mart), so it is refused here with a reason.
        raise Invalid("created_at: missing and no update has a time; the incident cannot be placed in time")
    now = now or dt.datetime.now(dt.UTC)
    for name in FUTURE_CHECKED:
        when = incident[name]
        if when is not None and when > now + FUTURE_SKEW:
            raise Invalid(
                f"{name}: {when:%Y-%m-%dT%H:%M:%SZ} {IN_THE_FUTURE} (it is now {now:%Y-%m-%dT%H:%M:%SZ} UTC, "
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


def _fill_from_updates(incident: dict, updates: list[dict]) -> None:
    timed = sorted((u for u in updates if u["created_at"] is not None), key=lambda u: u["created_at"])
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
