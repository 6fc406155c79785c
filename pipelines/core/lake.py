"""The Parquet lake: tables too large for the warehouse, one Parquet file per UTC day, a DuckDB view over them.

A table `name` lives under `<data dir>/lake/<name>/day=YYYY-MM-DD/part-0.parquet`. A day is published
atomically: it is written inside `lake/.tmp/` and renamed into place, so a run killed mid-write leaves
the previous version (or nothing) visible, never half a day, and a rerun replaces the day instead of
adding to it. The warehouse sees the lake through a view, (re)created after the days are written.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb

from pipelines.core.settings import Settings, safe_path
from pipelines.core.tables import sql_name

PART_FILE = "part-0.parquet"

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
        files = [self.partition_dir(settings, d) / PART_FILE for d in days]
        return [str(f) for f in files if f.is_file()]

    @staticmethod
    def _tmp_root(settings: Settings) -> Path:
        # Inside lake/ (same file system, so rename is atomic) but outside lake/<name>/, so the view's
        # glob never sees a file that is still being written.
        return safe_path(settings.data_dir, "lake", ".tmp")

    def _remove_stale_work(self, settings: Settings, day: str) -> None:
        """Delete what a killed run of this day left in lake/.tmp/ (a live run's folder is left alone)."""
        tmp = self._tmp_root(settings)
        if not tmp.is_dir():
            return
        for leftover in tmp.glob(f"{self.name}-{day}-*"):
            parts = leftover.name.split("-")
            pid = int(parts[-2]) if len(parts) >= 2 and parts[-2].isdigit() else -1
            if pid != os.getpid() and not _pid_alive(pid):
                shutil.rmtree(leftover, ignore_errors=True)

    def publish_day(self, settings: Settings, day: str, write: Callable[[Path, Path], T]) -> tuple[T, Path]:
        """Publish lake/<name>/day=<day>/part-0.parquet atomically; returns what `write` returned and the path.

        write(staged, scratch) writes the day's Parquet file to `staged` (scratch: an empty work dir
        beside it). If it leaves no file at `staged`, the day has no data and its partition (if any) is
        removed, like a table partition that a rerun empties.
        """
        final_dir = self.partition_dir(settings, day)
        self._remove_stale_work(settings, day)
        work = self._tmp_root(settings) / f"{self.name}-{day}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        work.mkdir(parents=True)
        try:
            staged = work / PART_FILE
            written = write(staged, work / "scratch")
            final = final_dir / PART_FILE
            if not staged.exists():
                shutil.rmtree(final_dir, ignore_errors=True)
            else:
                _fsync(staged)
                final_dir.mkdir(parents=True, exist_ok=True)
                os.replace(staged, final)  # atomic: readers see the old file or the new one, never a mix
                for other in final_dir.iterdir():  # files of an older layout would be read by the view too
                    if other.name != PART_FILE:
                        other.unlink() if other.is_file() else shutil.rmtree(other, ignore_errors=True)
            return written, final
        finally:
            shutil.rmtree(work, ignore_errors=True)
            try:
                work.parent.rmdir()  # lake/.tmp goes away when no other run is using it
            except OSError:
                pass

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
