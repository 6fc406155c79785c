"""Start a run for a day when new raw files land for it (each file set triggers at most one run)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import dagster as dg

from assets.ingest.day_sources import DayIndex
from pipelines.core.lake import DayLake
from pipelines.core.partitions import daily_partitions
from pipelines.core.resources import Workspace
from pipelines.core.settings import Settings
from pipelines.jobs import main_job
from pipelines.schedules import HOW_TO_START

_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAMP = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")
DAY_SOURCES = ("app_rankings", "crowd_reports", "request_logs")


def _stamp_day(path: Path) -> str:
    """A status snapshot's day: from its name's stamp, else its modification time (any name is accepted)."""
    if m := _STAMP.match(path.name):
        return f"{m[1]}-{m[2]}-{m[3]}"
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat()


def _indexed_days(data_dir: Path, source: str) -> dict[str, tuple[int, int, list[str]]]:
    """The staging asset's file-day index of a source: relative path -> (size, mtime_ns, days with rows)."""
    if source == "request_logs":  # kept beside the lake it describes
        entries = DayLake(source).read_index(Settings(data_dir, data_dir, data_dir))
    else:
        entries = DayIndex(data_dir, source).entries
    return {rel: (e.get("size"), e.get("mtime_ns"), list(e.get("days") or [])) for rel, e in entries.items()}


def files_by_day(raw_dir: Path) -> dict[str, list[str]]:
    """Raw files grouped by every UTC day they belong to, as `relative path:size:mtime_ns` tokens.

    A file counts for its folder's day and, once a run has indexed it, for every day it has rows for (a
    multi-day export sits in one folder), so a change to it triggers each of those days.
    """
    days: dict[str, list[str]] = {}
    if not raw_dir.is_dir():
        return days
    indexes = {source: _indexed_days(raw_dir.parent, source) for source in DAY_SOURCES}
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = path.relative_to(raw_dir)
        parts = rel.parts
        stat = path.stat()
        if parts[0] in DAY_SOURCES and len(parts) >= 3 and _DAY_DIR.match(parts[1]):
            size, mtime_ns, indexed = indexes[parts[0]].get(f"raw/{rel.as_posix()}", (None, None, []))
            covered = {parts[1], *(indexed if (size, mtime_ns) == (stat.st_size, stat.st_mtime_ns) else [])}
        elif parts[0] == "status_pages" and len(parts) >= 3:
            covered = {_stamp_day(path)}
        else:
            continue
        for day in covered:
            days.setdefault(day, []).append(f"{rel.as_posix()}:{stat.st_size}:{stat.st_mtime_ns}")
    return days


def new_file_run_requests(raw_dir: Path, valid_days: set[str]) -> list[dg.RunRequest]:
    """One request per day whose file set changed; the run key is a digest of that set, so the same
    files never trigger twice and an added or rewritten file triggers again."""
    requests = []
    for day, tokens in sorted(files_by_day(raw_dir).items()):
        if day not in valid_days:
            continue
        digest = hashlib.sha256("\n".join(tokens).encode()).hexdigest()[:16]
        requests.append(dg.RunRequest(run_key=f"{day}:{digest}", partition_key=day))
    return requests


@dg.sensor(
    job=main_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Every minute, look under `raw/` for days whose files appeared or changed and run "
    "`main_job` for each such day (a given set of files triggers once). "
    + HOW_TO_START.format(kind="sensor", name="raw_files_sensor"),
)
def raw_files_sensor(context: dg.SensorEvaluationContext, workspace: Workspace):
    """Materialise a day's partition when files for it appear (or change) under raw/."""
    valid = set(daily_partitions.get_partition_keys())
    requests = new_file_run_requests(workspace.settings.raw_dir, valid)
    if not requests:
        return dg.SkipReason("no new raw files")
    return requests
