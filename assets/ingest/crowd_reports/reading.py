"""One raw export file -> its records as text: gunzip, decode (UTF-8 with a fallback per line), split.

Reading a file is the only per-line Python (UTF-8 fallback, CSV lines with quotes, JSON objects); every
field check and conversion happens later, over all records of the run at once.
"""

from __future__ import annotations

import datetime as dt
import gzip
import zlib
from pathlib import Path

import polars as pl

from assets.ingest.crowd_reports.csv_records import csv_records
from assets.ingest.crowd_reports.jsonl_records import jsonl_records
from assets.ingest.crowd_reports.schema import RECORD_SCHEMA, SUFFIXES
from assets.ingest.day_folders import FileRefused
from assets.ingest.day_sources import read_raw

_BLANK = " \t\r\x0b\x0c"


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when the name ends in .gz; raises FileRefused with a reason."""
    data = read_raw(path)
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileRefused(f"file: corrupt gzip ({exc}); re-export or re-download it") from exc
    return data


def split_lines(data: bytes) -> pl.DataFrame:
    """Non-blank lines as (line_no, text, raw); text is null where the line is not valid UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = pl.Series("text", data.decode("utf-8").split("\n"), dtype=pl.String)
        lines = pl.DataFrame({"text": text, "raw": text})
    except UnicodeDecodeError:
        # Only files with bad bytes pay for line-by-line decoding; the bad lines are quarantined alone.
        texts: list[str | None] = []
        raws: list[str] = []
        for chunk in data.split(b"\n"):
            try:
                texts.append(chunk.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(None)
            raws.append(chunk.decode("utf-8", "backslashreplace"))
        lines = pl.DataFrame(
            {"text": pl.Series(texts, dtype=pl.String), "raw": pl.Series(raws, dtype=pl.String)}
        )
    lines = lines.with_row_index("line_no", offset=1)
    return lines.with_columns(pl.col("line_no").cast(pl.Int64), pl.col("text").str.strip_suffix("\r")).filter(
        pl.col("raw").str.strip_chars(_BLANK) != ""
    )


def read_file_records(path: Path, rel: str, day: dt.date) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """All records of one file as text (RECORD_SCHEMA) and what its columns differ by; may raise FileRefused."""
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise FileRefused(f"file: unsupported type {path.name!r}; expected {', '.join(SUFFIXES)}")
    lines = split_lines(read_bytes(path))
    drift: dict[str, list[str]] = {}
    is_csv = name.endswith((".csv", ".csv.gz"))
    records = csv_records(lines, drift) if is_csv else jsonl_records(lines, drift)
    records = records.with_columns(pl.lit(day).alias("partition_day"), pl.lit(rel).alias("file"))
    if records.is_empty():
        return pl.DataFrame(schema=RECORD_SCHEMA), drift
    return records.select([pl.col(c).cast(t) for c, t in RECORD_SCHEMA.items()]), drift
