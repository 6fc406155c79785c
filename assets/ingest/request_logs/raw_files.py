"""The raw files of a day: which format each one is, and a CSV file's header."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from assets.ingest.request_logs.fields import MAX_LINE_BYTES
from assets.ingest.request_logs.lines import open_raw

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".log": "log"}


@dataclass(frozen=True)
class RawFile:
    path: Path  # where the rows are read from: the raw file, or a working copy of it
    rel: str  # the raw file, relative to the data dir: the name every count and reject carries
    kind: str | None  # jsonl, csv, log; None = not a request-log file
    gateway: str | None = None  # a gateway export (assets.ingest.gateways), read from its canonical JSONL at path
    original: Path | None = None  # the raw file when `path` is a working copy (a gateway's JSONL, a gzip inflated)
    lines: int | None = None  # physical lines of `path`, when already counted

    @property
    def stored(self) -> Path:
        """The raw file as it lies in the raw folder."""
        return self.original or self.path

    @property
    def format(self) -> str:
        if self.gateway:
            return self.gateway
        return (self.kind or self.stored.suffix.lstrip(".") or "?") + (
            ".gz" if self.stored.name.endswith(".gz") else ""
        )


def file_format(path: Path) -> str | None:
    """jsonl, csv or log from the file name (a trailing .gz is looked through); None otherwise."""
    name = path.name.removesuffix(".gz")
    return FORMATS.get(Path(name).suffix.lower())


def read_csv_header(path: Path) -> list[str]:
    with open_raw(path) as stream:
        first = stream.readline(MAX_LINE_BYTES)
    text = first.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")
    if not text:
        return []
    try:
        return next(csv.reader([text]), [])
    except csv.Error:  # stray CR or NUL in the header: its names will simply not match any field
        return text.split(",")
