"""The analysed window: one rule, read by every window-wide mart and shown on every page.

Set once: a run launched by `incidents run/demo` carries its --start/--end as run tags; otherwise the
config's `analysis` block (fixed dates, or the trailing `last_days` up to yesterday) decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from pipelines.core.config import ProvidersConfig
from pipelines.core.partitions import last_complete_day

WINDOW_START_TAG = "incidents/window_start"
WINDOW_END_TAG = "incidents/window_end"


@dataclass(frozen=True)
class Window:
    """UTC days [start, end], both inclusive, and where the choice came from (run, config)."""

    start: dt.date
    end: dt.date
    source: str

    @property
    def start_ts(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    @property
    def end_ts(self) -> dt.datetime:
        """The exclusive end: midnight after the last day."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def tags(self) -> dict[str, str]:
        return {WINDOW_START_TAG: self.start.isoformat(), WINDOW_END_TAG: self.end.isoformat()}


def analysis_window(config: ProvidersConfig, run_tags: Mapping[str, str] | None = None,
                    today_utc: dt.date | None = None) -> Window:
    """The window of this run: its own tags first, then the config's `analysis` block."""
    tags = run_tags or {}
    if WINDOW_START_TAG in tags and WINDOW_END_TAG in tags:
        return Window(dt.date.fromisoformat(tags[WINDOW_START_TAG]),
                      dt.date.fromisoformat(tags[WINDOW_END_TAG]), "run")
    analysis = config.analysis
    if analysis.start is not None and analysis.end is not None:
        return Window(analysis.start, analysis.end, "config")
    end = (today_utc - dt.timedelta(days=1)) if today_utc else last_complete_day()
    return Window(end - dt.timedelta(days=analysis.last_days - 1), end, "config")
