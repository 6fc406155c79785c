"""What the day-folder sources (crowd reports, App Store charts) share: finding the raw files that hold rows
for a run's days, reading one, and the run's result with its "every record accepted or quarantined" check.

Files as users have them: an export may hold rows of several UTC days and sit in any day folder
(raw/<source>/<YYYY-MM-DD>/). A row belongs to the UTC day of its own time stamp; the folder's day (the
file's *home day*) only takes the rows that cannot be placed (no readable time, or a day no partition
covers). Which days a file touches is kept in a small index (`cache/<source>-file-days.json` under the data
dir, keyed by path, size and modification time), so a run reads only the files that touch its days and a
range with no files costs one directory listing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl

from assets.ingest import day_folders
from assets.ingest.day_folders import FileRefused, parse_day
from pipelines.core.files import write_atomic
from pipelines.core.settings import safe_path

INDEX_VERSION = 1


@dataclass(frozen=True)
class ListedFile:
    """One file of raw/<source>/<day>/ as listed (not yet read); `rel` is its path under the data dir."""

    data_dir: Path
    source: str
    day: str
    home_day: dt.date
    location: str  # the file's path as listed
    rel: str
    size: int
    mtime_ns: int

    @cached_property
    def path(self) -> Path:
        """The file's path (made when first asked for: a run lists every file of every day of a source, but
        opens only those with rows of its days)."""
        return Path(self.location)

    def ensure_inside(self) -> None:
        """Refuse (FileRefused) a symlink out of the data dir; call it before any read."""
        day_folders.resolve_inside(self.data_dir, self.day, self.path, self.source)


def source_files(data_dir: Path, source: str) -> list[ListedFile]:
    """Every file of every day folder raw/<source>/<YYYY-MM-DD>/, by folder then name (the order duplicates
    are ranked in). Folders whose name is not a day are not ours and are skipped."""
    data_dir = Path(data_dir)
    root = safe_path(data_dir, "raw", source)
    if not root.is_dir():
        return []
    listed, resolved = [], data_dir.resolve()
    with os.scandir(root) as folders:
        days = sorted((entry.name, entry.is_symlink()) for entry in folders if entry.is_dir())
    for folder, linked in days:
        try:
            home_day = parse_day(folder)
        except ValueError:
            continue
        # `root` is resolved and inside the data dir, and so is a folder in it that is not a link
        directory = safe_path(data_dir, "raw", source, folder) if linked else root / folder
        under = directory.relative_to(resolved).as_posix()
        for entry in day_folders.visible_entries(directory):
            try:
                stat = entry.stat()
            except OSError:  # removed since the folder was listed
                continue
            listed.append(ListedFile(data_dir, source, folder, home_day, entry.path, f"{under}/{entry.name}",
                                     stat.st_size, stat.st_mtime_ns))
    return listed


class DayIndex:
    """Which days each raw file of a source has rows for; an entry is valid while the file keeps its size and
    modification time. Losing the index costs one read of every file, nothing else."""

    def __init__(self, data_dir: Path, source: str) -> None:
        self.path = safe_path(Path(data_dir), "cache", f"{source}-file-days.json")
        self.entries: dict[str, dict] = {}
        try:
            saved = json.loads(self.path.read_text("utf-8"))
            if saved.get("version") == INDEX_VERSION and isinstance(saved.get("files"), dict):
                self.entries = saved["files"]
        except (OSError, ValueError, AttributeError):
            pass  # no index yet, or an unreadable one: it is rebuilt from the files
        self.changed = False

    def days_of(self, listed: ListedFile) -> list[str] | None:
        """The file's days when the index knows this version of it, else None."""
        entry = self.entries.get(listed.rel)
        if entry and entry.get("size") == listed.size and entry.get("mtime_ns") == listed.mtime_ns:
            return entry.get("days")
        return None

    def remember(self, listed: ListedFile, days: Iterable[str]) -> None:
        self.entries[listed.rel] = {"size": listed.size, "mtime_ns": listed.mtime_ns, "days": sorted(set(days))}
        self.changed = True

    def outdated(self, listed: Sequence[ListedFile]) -> list[str]:
        """Files the index knew in another version, or that are gone; their entries are dropped."""
        current = {f.rel: f for f in listed}
        stale = sorted(
            rel
            for rel, entry in self.entries.items()
            if rel not in current
            or (entry.get("size"), entry.get("mtime_ns")) != (current[rel].size, current[rel].mtime_ns)
        )
        for rel in stale:
            del self.entries[rel]
            self.changed = True
        return stale

    def save(self) -> None:
        if self.changed:
            body = json.dumps({"version": INDEX_VERSION, "files": self.entries}, sort_keys=True)
            write_atomic(self.path, body.encode("utf-8"))
            self.changed = False


def placed_day(day: str | None, home_day: dt.date, first_day: dt.date, last_day: dt.date) -> dt.date:
    """The partition a row goes to: its own UTC day when a partition can cover it, else the file's home day
    (where it is quarantined with the reason it could not be placed)."""
    try:
        own = dt.date.fromisoformat(day or "")
    except ValueError:  # no day, or one Python cannot hold (year 0)
        return home_day
    return own if first_day <= own <= last_day else home_day


@dataclass
class RunFiles:
    """The files a run reads (they have rows for its days) and the files changed or removed since indexed."""

    files: list[ListedFile]
    outdated: list[str]
    index: DayIndex


def files_for_days(
    data_dir: Path,
    source: str,
    days: Iterable[str],
    row_days: Callable[[ListedFile], set[str | None]],
    first_day: dt.date,
    last_day: dt.date,
) -> RunFiles:
    """The files with rows for `days` (YYYY-MM-DD). `row_days(file)` reads a file the index does not know
    and returns the UTC days of its rows (None for a row without a readable day)."""
    wanted = {parse_day(d) for d in days}
    listed = source_files(data_dir, source)
    index = DayIndex(data_dir, source)
    outdated = index.outdated(listed)
    chosen = []
    for file in listed:
        known = index.days_of(file)
        if known is None:
            known = [(d or "") for d in row_days(file)]
            index.remember(file, known)
        if any(placed_day(d or None, file.home_day, first_day, last_day) in wanted for d in known):
            chosen.append(file)
    return RunFiles(chosen, outdated, index)


def read_raw(path: Path) -> bytes:
    """The file's bytes; an unreadable file is refused whole."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileRefused(f"file: unreadable ({exc.strerror or exc}); check permissions") from exc


def encodable(text: str) -> bool:
    """False for text holding an unpaired surrogate (from a JSON \\ud800 escape): it cannot be stored."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


CHARGED_SCHEMA = {"file": pl.String, "record_no": pl.Int64}


@dataclass
class DayParse:
    """What one run read: accepted rows (the staging schema), quarantined rows, files seen, records in.

    `charged` lists every record (file, record_no) of the run's days, so a rerun replaces exactly their
    quarantine rows; `outdated` files changed or vanished since indexed (their old rejects are dropped).
    """

    accepted: pl.DataFrame
    rejects: pl.DataFrame
    files: list[str]
    rows_in: int
    charged: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CHARGED_SCHEMA))
    outdated: list[str] = field(default_factory=list)
    index: DayIndex | None = None

    @property
    def rows_accepted(self) -> int:
        return self.accepted.height

    @property
    def rows_quarantined(self) -> int:
        return self.rejects.height

    @property
    def touches_warehouse(self) -> bool:
        """False when the run read nothing and nothing changed: there is nothing to write or delete."""
        return bool(self.files or self.outdated)

    def ensure_balanced(self, source: str, records: str, a_record: str) -> None:
        """Raise when a record was neither accepted nor quarantined: a parser bug, never bad input."""
        if self.rows_in != self.rows_accepted + self.rows_quarantined:
            raise RuntimeError(
                f"{source}: {self.rows_in} {records} in but {self.rows_accepted} accepted "
                f"+ {self.rows_quarantined} quarantined; {a_record} was lost (parser bug)"
            )

    def counts(self, days: Sequence[str]) -> dict[str, int]:
        """The run's record and file counts, as materialization metadata."""
        return {
            "rows_in": self.rows_in,
            "rows_accepted": self.rows_accepted,
            "rows_quarantined": self.rows_quarantined,
            "files": len(self.files),
            "days": len(days),
        }

    def summary(self, what: str, days: Sequence[str]) -> str:
        """One log line: `<what> <first day>..<last day>: n accepted, m quarantined from k files`."""
        return (
            f"{what} {days[0]}..{days[-1]}: {self.rows_accepted} accepted, "
            f"{self.rows_quarantined} quarantined from {len(self.files)} files"
        )
