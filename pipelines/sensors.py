"""Start a run for a day when new raw files land for it (each file set triggers at most one run)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import dagster as dg

from pipelines.core.partitions import daily_partitions
from pipelines.core.resources import Workspace
from pipelines.jobs import main_job
from pipelines.schedules import HOW_TO_START

_DAY_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAMP = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")
DAY_SOURCES = ("app_rankings", "crowd_reports", "request_logs")


def files_by_day(raw_dir: Path) -> dict[str, list[str]]:
    """Raw files grouped by the UTC day they belong to, as `relative path:size:mtime_ns` tokens."""
    days: dict[str, list[str]] = {}
    if not raw_dir.is_dir():
        return days
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = path.relative_to(raw_dir)
        parts = rel.parts
        if parts[0] in DAY_SOURCES and len(parts) >= 3 and _DAY_DIR.match(parts[1]):
            day = parts[1]
        elif parts[0] == "status_pages" and (m := _STAMP.match(path.name)):
            day = f"{m[1]}-{m[2]}-{m[3]}"
        else:
            continue
        stat = path.stat()
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
