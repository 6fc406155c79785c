"""The Parquet lake: tables too large for the warehouse, one Parquet file per UTC day, a DuckDB view over them.

A table `name` lives under `<data dir>/lake/<name>/day=YYYY-MM-DD/part-0.parquet`. Days are published
atomically: written inside `lake/.tmp/` and renamed into place, so a run killed mid-write leaves each
day's previous version (or nothing) visible, never half a day, and a rerun replaces a day instead of
adding to it. The warehouse sees the lake through a view, (re)created after the days are written.

Raw files are not cut at UTC midnight, so beside the days sits an index of which days each raw file
holds rows for (`lake/<name>/_file_days.json`, keyed by path, size and mtime): a run finds the files of
its days there instead of re-reading the history.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb

from pipelines.core.files import write_atomic
from pipelines.core.settings import Settings, safe_path
from pipelines.core.tables import sql_name

PART_FILE = "part-0.parquet"
INDEX_FILE = "_file_days.json"
# An index entry: {"size": bytes, "mtime_ns": int, "days": {"YYYY-MM-DD": accepted rows}}.
FileDays = dict[str, object]

T = TypeVar("T")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _locked(lock_path: Path):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class DayLake:
    """One day-partitioned lake table, `lake/<name>/day=<day>/part-0.parquet`."""

    name: str

    def root(self, settings: Settings) -> Path:
        # Anchored at the data dir: a lake/ or lake/<name> symlink leading elsewhere is refused.
        return safe_path(settings.data_dir, "lake", self.name)

    def partition_dir(self, settings: Settings, day: str) -> Path:
        dt.date.fromisoformat(day)  # a partition key is a date, nothing else
        return safe_path(self.root(settings), f"day={day}")

    def part_files(self, settings: Settings, days: list[str]) -> list[str]:
        """The Parquet files of those days that exist."""
        present = self.existing_days(settings)  # one listing, not a path check per day of a long range
        files = [self.partition_dir(settings, d) / PART_FILE for d in days if d in present]
        return [str(f) for f in files if f.is_file()]

    @staticmethod
    def _tmp_root(settings: Settings) -> Path:
        # Inside lake/ (same file system, so rename is atomic) but outside lake/<name>/, so the view's
        # glob never sees a file that is still being written.
        return safe_path(settings.data_dir, "lake", ".tmp")

    def _remove_stale_work(self, settings: Settings) -> None:
        """Delete what killed runs of this table left in lake/.tmp/ (a live run's folder is left alone)."""
        tmp = self._tmp_root(settings)
        if not tmp.is_dir():
            return
        for leftover in tmp.glob(f"{self.name}-*"):
            parts = leftover.name.split("-")
            pid = int(parts[-2]) if len(parts) >= 2 and parts[-2].isdigit() else -1
            if pid != os.getpid() and not _pid_alive(pid):
                shutil.rmtree(leftover, ignore_errors=True)

    def existing_days(self, settings: Settings) -> set[str]:
        """The days that have a partition folder now."""
        root = self.root(settings)
        if not root.is_dir():
            return set()
        return {p.name.removeprefix("day=") for p in root.iterdir() if p.name.startswith("day=")}

    def publish_days(
        self, settings: Settings, days: Iterable[str], write: Callable[[Path], T]
    ) -> tuple[T, list[Path]]:
        """Publish lake/<name>/day=<day>/part-0.parquet of each day atomically; returns write's value and the files.

        write(work) writes `work/day=<day>/part-0.parquet` for each of `days` that has data (`work`: an
        empty folder inside lake/.tmp/, also the place for its scratch files). A day it leaves without a
        file has no data: its partition (if any) is removed, like a table partition that a rerun empties.
        """
        days = sorted(days)
        for day in days:
            self.partition_dir(settings, day)  # partition keys are dates, nothing else
        self._remove_stale_work(settings)
        work = self._tmp_root(settings) / f"{self.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        work.mkdir(parents=True)
        try:
            written = write(work)
            return written, [p for day in days if (p := self._replace_day(settings, day, work))]
        finally:
            shutil.rmtree(work, ignore_errors=True)
            try:
                work.parent.rmdir()  # lake/.tmp goes away when no other run is using it
            except OSError:
                pass

    def _replace_day(self, settings: Settings, day: str, work: Path) -> Path | None:
        final_dir = self.partition_dir(settings, day)
        staged = work / f"day={day}" / PART_FILE
        if not staged.exists():
            shutil.rmtree(final_dir, ignore_errors=True)
            return None
        _fsync(staged)
        final_dir.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final_dir / PART_FILE)  # atomic: readers see the old file or the new one
        for other in final_dir.iterdir():  # files of an older layout would be read by the view too
            if other.name != PART_FILE:
                other.unlink() if other.is_file() else shutil.rmtree(other, ignore_errors=True)
        return final_dir / PART_FILE

    def _index_path(self, settings: Settings) -> Path:
        return safe_path(self.root(settings), INDEX_FILE)

    def read_index(self, settings: Settings) -> dict[str, FileDays]:
        """Raw file (relative to the data dir) -> what it held when last read (empty if never written)."""
        path = self._index_path(settings)
        if not path.is_file():
            return {}
        return json.loads(path.read_text(encoding="utf-8"))["files"]

    def update_index(self, settings: Settings, changes: dict[str, FileDays | None]) -> None:
        """Set (or, for None, drop) entries; a lock keeps parallel runs of other days from losing updates."""
        if not changes:
            return
        path = self._index_path(settings)
        with _locked(path.with_suffix(".lock")):
            files = self.read_index(settings)
            for rel, entry in changes.items():
                if entry is None:
                    files.pop(rel, None)
                else:
                    files[rel] = entry
            body = json.dumps({"version": 1, "files": dict(sorted(files.items()))}, indent=0)
            write_atomic(path, body.encode("utf-8"))

    def create_view(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, view: dg.AssetKey, columns: dict[str, str]
    ) -> bool:
        """(Re)create `view` over the lake; an empty view of the same columns if no day exists.

        columns: the view's columns and SQL types, `day` (from the hive path) included.
        Returns whether any Parquet file backs the view.
        """
        name = sql_name(view)
        schema, table = name.split(".")
        row = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
        if row and row[0][0] == "BASE TABLE":  # a table of that name (an earlier layout) blocks the view
            con.execute(f"DROP TABLE {name}")
        root = self.root(settings)
        has_files = root.is_dir() and any(root.glob(f"day=*/{PART_FILE}"))
        if has_files:
            # A view cannot hold bound parameters, so the (settings-derived, quote-escaped) glob is inlined.
            pattern = (root / "day=*" / "*.parquet").as_posix().replace("'", "''")
            source = f"read_parquet('{pattern}', hive_partitioning = true, hive_types = {{'day': DATE}})"
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {', '.join(columns)} FROM {source}")
        else:
            empty = ", ".join(f"NULL::{t} AS {c}" for c, t in columns.items())
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT {empty} WHERE false")
        return has_files
