"""The display time of a history-feed update ('Mar 2, 09:00 PST') as a UTC time.

The display time is Pacific and has no year: the year is the one that puts the update closest to the
entry's published date (so an update on Jan 1 of an incident published Dec 31 lands in the next year),
and the time is converted to UTC with zoneinfo America/Los_Angeles, the PST/PDT label choosing the side
of the autumn fold.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from assets.ingest.status_pages.schema import Invalid

PACIFIC = ZoneInfo("America/Los_Angeles")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_DISPLAY = re.compile(
    r"^(?P<month>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?,?\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<ampm>[AaPp][Mm])?\s+(?P<zone>[A-Z]{2,5})$"
)
# Fixed offsets the labels stand for; zoneinfo decides first, these settle a label the calendar disagrees with.
_ZONE_OFFSETS = {"PST": -8, "PDT": -7, "UTC": 0, "GMT": 0}


def parse_display_time(text: str, reference: dt.datetime | None) -> dt.datetime:
    """'Mar 2, 09:00 PST' -> UTC datetime; the year is taken from `reference` (the entry's published date)."""
    match = _DISPLAY.match(text)
    if not match:
        raise Invalid(f"display time {text!r:.80} is not like 'Mar 2, 09:00 PST'")
    if match["month"] not in _MONTHS:
        raise Invalid(f"display time {text!r:.80}: unknown month {match['month']!r}")
    zone = match["zone"]
    if zone not in _ZONE_OFFSETS:
        raise Invalid(f"display time {text!r:.80}: time zone {zone!r} is not supported (expected PST, PDT or UTC)")
    hour, minute = int(match["hour"]), int(match["minute"])
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise Invalid(f"display time {text!r:.80}: hour {hour} with AM/PM")
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    if match["year"]:
        years = [int(match["year"])]
    elif reference is None:
        raise Invalid(f"display time {text!r:.80} has no year and the entry has no published/updated date")
    else:
        ref_year = reference.astimezone(PACIFIC).year
        years = [ref_year - 1, ref_year, ref_year + 1]
    candidates = []
    for year in years:
        try:
            candidates.append(_to_utc(year, _MONTHS[match["month"]], int(match["day"]), hour, minute, zone))
        except ValueError:
            continue
    if not candidates:
        raise Invalid(f"display time {text!r:.80} is not a real date/time")
    if reference is None:
        return candidates[0]
    return min(candidates, key=lambda when: abs(when - reference))


def _to_utc(year: int, month: int, day: int, hour: int, minute: int, zone: str) -> dt.datetime:
    if zone in ("UTC", "GMT"):
        return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
    # PST names the second (standard-time) occurrence of the repeated autumn hour, PDT the first.
    local = dt.datetime(year, month, day, hour, minute, tzinfo=PACIFIC, fold=1 if zone == "PST" else 0)
    if local.tzname() != zone:  # e.g. "PDT" in January: the label states the offset, so it wins
        local = local.replace(tzinfo=dt.timezone(dt.timedelta(hours=_ZONE_OFFSETS[zone])), fold=0)
    return local.astimezone(dt.UTC)
