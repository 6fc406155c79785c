"""What one day's ingest reports: per-file counts and the refused rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.core.quarantine import REJECTED_SCHEMA


@dataclass
class FileResult:
    """What happened to one raw file. rows_in = rows_accepted + rows_quarantined."""

    file: str  # path relative to the data dir (posix)
    format: str  # jsonl, csv, log (+ .gz)
    bytes: int
    parser: str = ""  # "native" (fast path), "lines" (exact path) or "" when the file was refused whole
    rows_in: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    error: str | None = None  # set when the whole file was refused (corrupt gzip, unreadable, unknown kind)


@dataclass
class DayResult:
    """One day's ingest: per-file counts, the refused rows, and the Parquet file of accepted rows."""

    day: dt.date
    output_path: Path
    files: list[FileResult] = field(default_factory=list)
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECTED_SCHEMA))

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_accepted(self) -> int:
        return sum(f.rows_accepted for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)
