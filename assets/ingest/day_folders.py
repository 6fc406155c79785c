"""Listing one source's raw files for a partition day (raw/<source>/<YYYY-MM-DD>/), safely."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from pipelines.core.settings import UnsafePathError, safe_path

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SYMLINK_REFUSED = "file: symlink leaving the data dir; refused"


class FileRefused(Exception):
    """The whole file is unusable: one reject with record number 0, and the file is skipped."""


def parse_day(day: str) -> dt.date:
    """A partition key as a date; anything but YYYY-MM-DD is refused (keys also name folders)."""
    try:
        if _DAY.match(day):
            return dt.date.fromisoformat(day)
    except (TypeError, ValueError):
        pass
    raise ValueError(f"partition key {day!r} is not a YYYY-MM-DD day")


def day_files(data_dir: Path, day: str, source: str) -> list[Path]:
    """Every visible file in raw/<source>/<day>/, sorted by name (the order duplicates are ranked in)."""
    parse_day(day)
    return visible_files(safe_path(Path(data_dir), "raw", source, day))


def visible_files(folder: Path) -> list[Path]:
    """A folder's files in name order; hidden files (editors, partial uploads) are ignored."""
    return [Path(entry.path) for entry in visible_entries(folder)]


def visible_entries(folder: Path) -> list[os.DirEntry]:
    """`visible_files` as directory entries, whose `stat()` costs one system call (a listing of every day of a
    source stats each file once)."""
    try:
        with os.scandir(folder) as listing:
            return sorted((e for e in listing if not e.name.startswith(".") and e.is_file()), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def resolve_inside(data_dir: Path, day: str, listed: Path, source: str) -> Path:
    """The file a day-folder entry really is; a symlink that leaves the data dir is refused (FileRefused).

    day_files() lists names, and `is_file()` follows symlinks: without this a link to /etc/... would be read.
    """
    try:
        return safe_path(Path(data_dir), "raw", source, day, listed.name)
    except UnsafePathError as exc:
        raise FileRefused(SYMLINK_REFUSED) from exc
