"""Collecting refused input rows while parsing, so every row ends accepted or quarantined."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

REJECTED_SCHEMA = {
    "source": pl.String,
    "file": pl.String,
    "record_no": pl.Int64,
    "reason": pl.String,
    "raw": pl.String,
}
RAW_PREVIEW_CHARS = 2000  # a 10 MB line is quarantined by its first 2,000 characters, not in full


@dataclass
class Rejects:
    """Refused rows of one source: file (relative to the data dir), 1-based record number, reason, raw text."""

    source: str
    rows: list[dict] = field(default_factory=list)

    def add(self, file: str, record_no: int, reason: str, raw: object = "") -> None:
        text = raw if isinstance(raw, str) else repr(raw)
        self.rows.append(
            {
                "source": self.source,
                "file": file,
                "record_no": record_no,
                "reason": reason,
                "raw": text[:RAW_PREVIEW_CHARS],
            }
        )

    def extend(self, other: Rejects) -> None:
        self.rows.extend(other.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=REJECTED_SCHEMA)
