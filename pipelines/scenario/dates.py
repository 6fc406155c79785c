"""Time helpers of the scenario, its planted calendar (all moments are timezone-aware UTC) and the shift that
moves the written world to another calendar."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

UTC = dt.UTC
DAY_S = 86_400
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")  # display zone of the Google feeds and the iTunes charts

DEFAULT_START = dt.date(2025, 12, 1)
DEFAULT_END = dt.date(2026, 3, 15)
# The world (incident history, rank walks, traffic bursts) spans at least these days, so the first status
# snapshot already lists 50 incidents and a short range sees the same world as the full one.
WORLD_START = dt.date(2025, 6, 2)
WORLD_END = dt.date(2026, 6, 28)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, s, tzinfo=UTC)


# ---- planted calendar ------------------------------------------------------------------------------------
CRASH_START = utc(2026, 3, 2, 11, 49)
SECOND_FAILURE_START = utc(2026, 3, 3, 14, 10)
PENTAGON_DEAL_PUBLIC = dt.date(2026, 2, 27)
CLAUDE_RANK_ANCHOR_DAY = dt.date(2026, 2, 17)


def iso_z(moment: dt.datetime) -> str:
    """UTC ISO 8601 with a Z, second precision (the truth file's time format)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pacific_iso(moment: dt.datetime) -> str:
    """ISO 8601 in Pacific time with its offset, second precision (Atom and iTunes display times)."""
    return moment.astimezone(PACIFIC).isoformat(timespec="seconds")


def epoch_s(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class Shift:
    """How far the written world sits from the calendar it is built on (the March 2026 story), in whole days.

    The world is always built, and its random draws keyed, on that canonical calendar; only what is written
    (file names, day folders, timestamps, the truth) moves, so a shifted world is the same story N days away.
    """

    days: int = 0

    @property
    def seconds(self) -> int:
        return self.days * DAY_S

    def moment(self, moment: dt.datetime) -> dt.datetime:
        return moment + dt.timedelta(days=self.days)

    def day(self, day: dt.date) -> dt.date:
        return day + dt.timedelta(days=self.days)

    def iso(self, moment: dt.datetime) -> str:
        """The shifted moment in the truth's format (UTC ISO 8601 with a Z)."""
        return iso_z(self.moment(moment))

    def day_iso(self, day: dt.date) -> str:
        """The shifted day as YYYY-MM-DD (day folders, truth days)."""
        return self.day(day).isoformat()


NO_SHIFT = Shift()
