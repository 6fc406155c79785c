"""Checks that run in seconds before any Dagster run: both config files and the data dir's layout.

Every mistake is one line naming the file (or folder), the key and what to do; `incidents check` prints
them and exits 2, and `incidents run` / `demo` refuse to start while any is left. The analysed range is
checked here too: before the first partition, in the future, or without any evidence at all.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.config import ConfigError, ProvidersConfig, load_providers
from pipelines.core.cost_model import load_cost_model
from pipelines.core.lake import DayLake
from pipelines.core.partitions import FIRST_DAY, FIRST_DAY_ENV, FIRST_DAY_PROBLEM, last_complete_day
from pipelines.core.settings import Settings

DAY_SOURCES = ("app_rankings", "crowd_reports", "request_logs")
SOURCES = ("status_pages", *DAY_SOURCES)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _config_lines(error: ConfigError) -> list[str]:
    """A ConfigError's message as one line per mistake, each naming the file."""
    head, *details = str(error).splitlines()
    if not details:
        return [head]
    file = head.split(": ", 1)[0]
    return [f"{file}: {line.strip()}" for line in details]


def check_config(settings: Settings) -> tuple[ProvidersConfig | None, list[str]]:
    """The providers file, the cost model beside it and $INCIDENTS_FIRST_DAY, validated; the problems as one
    line each."""
    problems: list[str] = [FIRST_DAY_PROBLEM] if FIRST_DAY_PROBLEM else []
    config = None
    try:
        config = load_providers(settings.config_path)
    except ConfigError as exc:
        problems += _config_lines(exc)
    if settings.cost_model_path.is_file():
        try:
            cost_model = load_cost_model(settings.cost_model_path)
            if config is not None:
                cost_model.check_covers(config.providers, settings.cost_model_path)
        except ConfigError as exc:
            problems += _config_lines(exc)
    return config, problems


def check_layout(settings: Settings, config: ProvidersConfig | None) -> list[str]:
    """Folders under raw/ that no asset would read: unknown sources, day folders not named YYYY-MM-DD,
    status-page folders of providers the config does not name."""
    raw = settings.raw_dir
    if not raw.exists():
        return []
    if not raw.is_dir():
        return [f"{raw}: expected a folder holding {', '.join(SOURCES)}"]
    problems = []
    for entry in sorted(raw.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.name not in SOURCES or not entry.is_dir():
            problems.append(f"{entry}: not a source folder; raw/ holds only {', '.join(SOURCES)}/")
        elif entry.name in DAY_SOURCES:
            problems += [f"{day}: day folders are named YYYY-MM-DD (UTC); move its files into one"
                         for day in sorted(entry.iterdir()) if not day.name.startswith(".")
                         and not (day.is_dir() and _DAY.match(day.name))]
        elif config is not None:
            problems += [f"{folder}: '{folder.name}' is not a provider in {settings.config_path}; "
                         "add it there or rename the folder"
                         for folder in sorted(entry.iterdir()) if not folder.name.startswith(".")
                         and folder.name not in config.providers]
    return problems


def check_setup(settings: Settings) -> list[str]:
    """Every config and layout problem, one line each (empty: ready to run)."""
    config, problems = check_config(settings)
    return problems + check_layout(settings, config)


@dataclass(frozen=True)
class Evidence:
    """What raw evidence exists: the days of each day-partitioned source (within the range asked about), and
    whether any status-page snapshot does (a snapshot tells about every day)."""

    days: dict[str, list[dt.date]]
    status_snapshots: bool

    def days_between(self, start: dt.date, end: dt.date) -> dict[str, int]:
        return {source: sum(start <= d <= end for d in days) for source, days in self.days.items()}


def find_evidence(settings: Settings, start: dt.date | None = None, end: dt.date | None = None) -> Evidence:
    """Day folders holding files, plus the days request-log files were found to hold rows of (a multi-day
    log in one folder counts for every day it covers once a run has read it); only days in [start, end]
    when given, so a run of one day looks into that day's folders, not into every day of the history."""
    def wanted(day: dt.date) -> bool:
        return (start is None or day >= start) and (end is None or day <= end)

    days: dict[str, list[dt.date]] = {}
    for source in DAY_SOURCES:
        days[source] = sorted(day for day, folder in _day_folders(settings.raw_dir / source)
                              if wanted(day) and any(folder.iterdir()))
    indexed = DayLake("request_logs").read_index(settings)
    held = {dt.date.fromisoformat(d) for e in indexed.values() for d in e.get("days") or []}
    days["request_logs"] = sorted({*days["request_logs"], *filter(wanted, held)})
    status = settings.raw_dir / "status_pages"
    snapshots = status.is_dir() and any(p.is_file() for p in status.glob("*/*"))
    return Evidence(days, snapshots)


def _day_folders(root: Path) -> list[tuple[dt.date, Path]]:
    """The YYYY-MM-DD folders of a source's raw dir (their names read from one listing, nothing opened)."""
    if not root.is_dir():
        return []
    folders = []
    with os.scandir(root) as entries:
        for entry in entries:
            if _DAY.match(entry.name) and entry.is_dir():
                try:
                    folders.append((dt.date.fromisoformat(entry.name), Path(entry.path)))
                except ValueError:  # 2026-13-45: not a day, not ours
                    continue
    return folders


def check_range(start: dt.date, end: dt.date, evidence: Evidence, today_utc: dt.date | None = None) -> str | None:
    """Why the UTC day range [start, end] cannot be run, in one line; None when it can."""
    yesterday = (today_utc - dt.timedelta(days=1)) if today_utc else last_complete_day()
    if end < start:
        return f"--end {end} is before --start {start}"
    if start < FIRST_DAY:
        return (f"--start {start} is before {FIRST_DAY}, the first day the pipeline partitions "
                f"(set {FIRST_DAY_ENV} to an earlier day to keep older evidence)")
    if end > yesterday:
        return (f"--end {end} is in the future or today: the newest complete UTC day is {yesterday}; "
                "a day is analysed once it has ended")
    if evidence.status_snapshots == 0 and not any(evidence.days_between(start, end).values()):
        return (f"no evidence for {start} .. {end}: no raw files of any source for those days and no "
                "status-page snapshot (see README, 'Bring your own data')")
    return None
