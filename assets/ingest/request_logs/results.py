"""What a batch of request-log files yields: per-file counts (per UTC day) and the refused rows."""

from __future__ import annotations

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
    rows_quarantined: int = 0
    error: str | None = None  # set when the whole file was refused (corrupt gzip, unreadable, unknown kind)
    rows_by_day: dict[str, int] = field(default_factory=dict)  # accepted rows per UTC day (YYYY-MM-DD)

    @property
    def rows_accepted(self) -> int:
        return sum(self.rows_by_day.values())

    @property
    def rows_in(self) -> int:
        return self.rows_accepted + self.rows_quarantined


@dataclass
class BatchResult:
    """A batch's ingest: per-file counts, the refused rows, and out_dir/day=YYYY-MM-DD/*.parquet per UTC day."""

    out_dir: Path
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

    def day_files(self, day: str) -> list[Path]:
        """The Parquet files holding the batch's accepted rows of one UTC day (none if it has no rows)."""
        return sorted((self.out_dir / f"day={day}").glob("*.parquet"))

    @property
    def days(self) -> list[str]:
        """The UTC days the batch has accepted rows for."""
        return sorted({d for f in self.files for d, n in f.rows_by_day.items() if n})
