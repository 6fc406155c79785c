"""What the day-folder sources (crowd reports, App Store charts) share: walking a run's raw files, reading
one, and the run's result with its "every record accepted or quarantined" check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.ingest import day_folders
from assets.ingest.day_folders import FileRefused, parse_day


@dataclass(frozen=True)
class ListedFile:
    """One file of raw/<source>/<day>/ as listed (not yet read); `rel` is its path under the data dir."""

    data_dir: Path
    source: str
    day: str
    partition_day: dt.date
    path: Path
    rel: str

    def ensure_inside(self) -> None:
        """Refuse (FileRefused) a symlink out of the data dir; call it before any read."""
        day_folders.resolve_inside(self.data_dir, self.day, self.path, self.source)


def listed_files(data_dir: Path, day: str, source: str) -> list[ListedFile]:
    """Every file of raw/<source>/<day>/ sorted by name; `day` must be YYYY-MM-DD (ValueError otherwise)."""
    data_dir = Path(data_dir)
    partition_day = parse_day(day)
    return [
        ListedFile(data_dir, source, day, partition_day, path, path.relative_to(data_dir.resolve()).as_posix())
        for path in day_folders.day_files(data_dir, day, source)
    ]


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


@dataclass
class DayParse:
    """What one run read: accepted rows (the staging schema), quarantined rows, files seen, records in."""

    accepted: pl.DataFrame
    rejects: pl.DataFrame
    files: list[str]
    rows_in: int

    @property
    def rows_accepted(self) -> int:
        return self.accepted.height

    @property
    def rows_quarantined(self) -> int:
        return self.rejects.height

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
