"""The request-log lake's day partitions: which raw files feed a run's days, each parsed once per run.

The rule: a raw file may hold rows of several UTC days and sit in any day folder; every accepted row goes
to the UTC day of its own `ts`. A run of the days S rebuilds each day of S from every file that holds
rows of that day, namely
- every file in S's own day folders (this is how a new file is discovered: when its folder's day runs),
- files in other folders that the index (lake/request_logs/_file_days.json) lists with rows on a day of S,
- any indexed file that changed since it was read (size or mtime), wherever it sits.
Each such file is parsed once; its rows on days outside S are counted (`other_days`, and in the index)
and published when those days run. Its refused lines are quarantined whenever it is read, whatever day
they carry; a file that is gone loses its index entry and its rejects. A run with no such file and no
partition to empty does no DuckDB work and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG

import polars as pl

from assets.ingest.day_folders import parse_day
from assets.ingest.request_logs.batch import ingest_files, list_folder, merge_day
from assets.ingest.request_logs.fields import SOURCE
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.raw_files import RawFile, file_format
from assets.ingest.request_logs.results import BatchResult, FileResult
from pipelines.core.lake import PART_FILE, DayLake, FileDays
from pipelines.core.quarantine import REJECTED_SCHEMA
from pipelines.core.settings import Settings, UnsafePathError, safe_path

LAKE = DayLake(SOURCE)


@dataclass
class RunResult:
    """What a run of some days did: the files it read, their refused rows, the lake files it published."""

    days: list[str]
    files: list[FileResult] = field(default_factory=list)
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTED_SCHEMA))
    lake_files: list[Path] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # raw files read by an earlier run, removed since

    @property
    def rows_accepted(self) -> int:
        """Rows published on the run's days."""
        return sum(f.rows_by_day.get(d, 0) for f in self.files for d in self.days)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_in(self) -> int:
        """The run's records: its days' rows plus every refused record of the files it read."""
        return self.rows_accepted + self.rows_quarantined

    @property
    def other_days(self) -> dict[str, int]:
        """Accepted rows of the files read that lie on days outside the run (published when those run)."""
        run, held = set(self.days), {}
        for f in self.files:
            for day, rows in f.rows_by_day.items():
                if day not in run:
                    held[day] = held.get(day, 0) + rows
        return dict(sorted(held.items()))

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


@dataclass
class _Plan:
    batches: dict[str, list[RawFile]] = field(default_factory=dict)  # folder day -> files to read
    links: dict[str, list[str]] = field(default_factory=dict)  # folder day -> symlinks refused whole
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict)  # file -> (size, mtime_ns) when listed
    gone: list[str] = field(default_factory=list)

    def add(self, folder: str, f: RawFile) -> None:
        stat = f.path.stat()
        self.batches.setdefault(folder, []).append(f)
        self.stamps[f.rel] = (stat.st_size, stat.st_mtime_ns)


def _plan(settings: Settings, days: set[str], index: dict[str, FileDays]) -> _Plan:
    """The files a run of `days` must read (the rule in the module docstring)."""
    plan = _Plan()
    raw_root = safe_path(settings.data_dir, "raw", SOURCE)
    folders = sorted(days & {e.name for e in os.scandir(raw_root) if e.is_dir()}) if raw_root.is_dir() else []
    for folder in folders:
        files, links = list_folder(safe_path(raw_root, folder), settings.data_dir)
        for f in files:
            plan.add(folder, f)
        if links:
            plan.links[folder] = links
    for rel, entry in index.items():
        if rel in plan.stamps:
            continue
        stamp = _stamp(settings.data_dir, rel)
        if stamp == (entry["size"], entry["mtime_ns"]) and not days & set(entry["days"]):
            continue  # unchanged and of other days: not read, so its path needs no resolving
        try:
            path = safe_path(settings.data_dir, *rel.split("/")) if stamp else None
        except UnsafePathError:
            path = None
        if path is None:  # no longer a regular file, or now leads out of the data dir
            plan.gone.append(rel)
            continue
        plan.add(rel.split("/")[2], RawFile(path, rel, file_format(path)))
    return plan


def _stamp(data_dir: Path, rel: str) -> tuple[int, int] | None:
    """(size, mtime_ns) of an indexed file, None if it is no longer a regular file. A stat, no path
    resolving: the index has hundreds of files per year of history, and only files that are read get
    safe_path's full check (which also refuses an entry whose path now leads out of the data dir)."""
    try:
        stat = os.stat(os.path.join(data_dir, rel))
    except (OSError, ValueError):  # ValueError: a NUL byte in a tampered index
        return None
    return (stat.st_size, stat.st_mtime_ns) if S_ISREG(stat.st_mode) else None


def write_days(
    settings: Settings, mapping: ProviderMapping, days: list[str], *, now: dt.datetime | None = None
) -> RunResult:
    """Rebuild lake/request_logs/day=<day>/part-0.parquet for each of `days` (YYYY-MM-DD) from its raw files.

    Each day is published atomically (a day without rows loses its partition); the index learns which
    days every file read holds. Returns the counts and refused rows; the warehouse is not touched.
    """
    days = sorted(set(days))
    for day in days:
        parse_day(day)
    run, index = set(days), LAKE.read_index(settings)
    plan = _plan(settings, run, index)
    if not plan.batches and not plan.links and not plan.gone and not LAKE.existing_days(settings) & run:
        return RunResult(days)  # nothing to read, nothing to empty: no DuckDB, no writes

    def one_day(folder: str) -> str | None:
        """The folder's day, unless one of its files is known to hold other days (then split at once)."""
        known = {d for f in plan.batches.get(folder, []) for d in index.get(f.rel, {}).get("days", {})}
        return folder if known <= {folder} else None

    def write(work: Path) -> list[BatchResult]:
        batches = [
            ingest_files(plan.batches.get(folder, []), work / "batches" / folder, mapping,
                         refused_links=plan.links.get(folder, []), now=now, one_day=one_day(folder))
            for folder in sorted(plan.batches.keys() | plan.links.keys())
        ]
        for day in days:
            pieces = [p for batch in batches for p in batch.day_files(day)]
            if pieces:
                merge_day(pieces, work / f"day={day}" / PART_FILE)
        return batches

    batches, lake_files = LAKE.publish_days(settings, days, write)
    files = [f for batch in batches for f in batch.files]
    changes: dict[str, FileDays | None] = {rel: None for rel in plan.gone}
    for f in files:
        if f.file in plan.stamps:
            size, mtime_ns = plan.stamps[f.file]
            changes[f.file] = {"size": size, "mtime_ns": mtime_ns, "days": f.rows_by_day}
    LAKE.update_index(settings, changes)
    rejects = pl.concat([b.rejects for b in batches]) if batches else pl.DataFrame(schema=REJECTED_SCHEMA)
    return RunResult(days, files, rejects, lake_files, plan.gone)


def indexed_days(settings: Settings) -> dict[str, list[str]]:
    """UTC day -> the raw files known (from the index) to hold rows of it, wherever they sit.

    For the new-file sensor and the pre-run check: a day may have rows without having a folder.
    """
    days: dict[str, list[str]] = {}
    for rel, entry in sorted(LAKE.read_index(settings).items()):
        for day in entry["days"]:
            days.setdefault(day, []).append(rel)
    return dict(sorted(days.items()))
