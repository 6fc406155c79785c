"""The impact window an update body states in UTC ("from 19:52-20:35 UTC"), put on the calendar.

Vendors often post late and then say when the impact really was; such a window wins for
started_at/resolved_at in marts.incidents (the latest update that states one is used).
"""

import datetime as dt
import re

import polars as pl

from pipelines.core.frames import UTC_TS

_HHMM = r"(?:[01]?\d|2[0-3]):[0-5]\d"
_ZONE = r"(?:UTC|GMT|Z)"
_STATED_WINDOW = re.compile(
    rf"\b(?:from|between)\s+(?P<start>{_HHMM})\s*(?:{_ZONE}\s*)?"
    rf"(?:-|\u2013|\u2014|to|and|until|till)\s*(?P<end>{_HHMM})\s*\(?{_ZONE}\)?(?![A-Za-z])",
    re.IGNORECASE,
)


def parse_stated_window(body: str | None) -> tuple[dt.time, dt.time] | None:
    """The UTC time-of-day window an update body states, e.g. "from 19:52-20:35 UTC" -> (19:52, 20:35).

    Accepts "from A-B UTC", "from A to B UTC", "between A and B UTC" (en/em dashes, "A UTC - B UTC").
    Returns None when the body states no window or both ends are equal. Dates are not read here:
    `anchor_stated_window` places the window in time.
    """
    if not body:
        return None
    match = _STATED_WINDOW.search(body)
    if not match:
        return None
    start, end = (dt.time.fromisoformat(match[g].zfill(5)) for g in ("start", "end"))
    return None if start == end else (start, end)


def anchor_stated_window(
    start: dt.time, end: dt.time, anchor: dt.datetime, posted_at: dt.datetime | None, scheduled: bool = False
) -> tuple[dt.datetime, dt.datetime]:
    """Put a stated time-of-day window on the calendar.

    The start is the occurrence of `start` (the day before, of or after `anchor`'s UTC day) nearest to
    `anchor` (the vendor's own start), among those not after `posted_at` (a past window cannot start after
    the post that describes it; scheduled notices are exempt). The end is the first `end` after the start,
    so 23:50-00:20 ends on the next day.
    """
    anchor = anchor.astimezone(dt.UTC)
    candidates = [
        dt.datetime.combine(anchor.date() + dt.timedelta(days=shift), start, tzinfo=dt.UTC)
        for shift in (-1, 0, 1)
    ]
    if posted_at is not None and not scheduled:
        past = [c for c in candidates if c <= posted_at]
        candidates = past or candidates
    window_start = min(candidates, key=lambda c: abs(c - anchor))
    window_end = dt.datetime.combine(window_start.date(), end, tzinfo=dt.UTC)
    if window_end <= window_start:
        window_end += dt.timedelta(days=1)
    return window_start, window_end


def stated_windows(updates: pl.DataFrame, anchors: pl.DataFrame) -> pl.DataFrame:
    """Per incident, the window stated by its latest update that states one (calendar-anchored).

    updates: conformed staging.status_incident_updates (status lower-cased); anchors: provider,
    incident_id, vendor_started_at. Returns provider, incident_id, stated_start, stated_end.
    """
    out_schema = {
        "provider": pl.String,
        "incident_id": pl.String,
        "stated_start": UTC_TS,
        "stated_end": UTC_TS,
    }
    candidates = updates.filter(pl.col("body").str.contains(r"(?i)\b(from|between)\b").fill_null(False)).join(
        anchors, on=["provider", "incident_id"], how="inner"
    )
    rows = []
    for row in candidates.sort("created_at", nulls_last=False).iter_rows(named=True):
        window = parse_stated_window(row["body"])
        anchor = row["vendor_started_at"] or row["created_at"]
        if window is None or anchor is None:
            continue
        start, end = anchor_stated_window(*window, anchor, row["created_at"], row["status"] == "scheduled")
        rows.append((row["provider"], row["incident_id"], start, end))
    found = pl.DataFrame(rows, schema=out_schema, orient="row")
    # Rows were appended oldest update first, so the last one per incident is the latest statement.
    return found.unique(["provider", "incident_id"], keep="last", maintain_order=True)
