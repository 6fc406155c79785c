"""CSV exports -> text records: the header names the columns, each data line is one record."""

from __future__ import annotations

import csv

import polars as pl

from assets.ingest.crowd_reports.schema import COLUMNS, REQUIRED_COLUMNS, note_drift
from assets.ingest.day_folders import FileRefused


def csv_fields(texts: pl.Series) -> pl.DataFrame:
    """Split CSV lines into fields: plain lines with a vectorised split, quoted ones with the csv module."""
    fields = texts.str.split(",")
    quoted = texts.str.contains('"', literal=True).fill_null(False)
    errors: list[str | None] = [None] * texts.len()
    if quoted.any():
        parsed: list[list[str] | None] = [None] * texts.len()
        for i in quoted.arg_true().to_list():
            try:
                rows = list(csv.reader([texts[i]], strict=True))
                parsed[i] = rows[0] if rows else [""]
            except (csv.Error, ValueError) as exc:
                errors[i] = f"line: malformed CSV quoting ({exc})"
        fields = pl.select(
            pl.when(pl.lit(quoted))
            .then(pl.lit(pl.Series(parsed, dtype=pl.List(pl.String))))
            .otherwise(pl.lit(fields))
        ).to_series()
    return pl.DataFrame({"fields": fields, "csv_error": pl.Series(errors, dtype=pl.String)})


def _header_names(header: dict) -> list[str]:
    """Lower-case column names of the header line; a header we cannot use refuses the file."""
    if header["text"] is None:
        raise FileRefused(f"header (line {header['line_no']}): not valid UTF-8; re-export the file as UTF-8")
    try:
        names = [name.strip().lower() for name in next(csv.reader([header["text"]], strict=True))]
    except (csv.Error, ValueError, StopIteration) as exc:
        raise FileRefused(f"header (line {header['line_no']}): not a CSV header ({exc})") from exc
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise FileRefused(f"header: column {repeated[0]!r} appears more than once")
    return names


def csv_records(lines: pl.DataFrame, drift: dict[str, list[str]]) -> pl.DataFrame:
    """(record_no, raw, reason, *COLUMNS as text) per data line; record_no counts from the header."""
    if lines.is_empty():
        return pl.DataFrame(schema={"record_no": pl.Int64, "raw": pl.String, "reason": pl.String})
    header = lines.row(0, named=True)
    names = _header_names(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    note_drift(drift, names, missing)

    data = lines.slice(1).with_columns((pl.col("line_no") - header["line_no"]).alias("record_no"))
    data = pl.concat([data, csv_fields(data["text"])], how="horizontal")
    n_fields = pl.col("fields").list.len()
    header_reason = (
        f"{missing[0]}: required column missing from the header (found: {', '.join(names)}); was it renamed?"
        if missing
        else None
    )
    reason = (
        pl.when(pl.col("text").is_null())
        .then(pl.lit("line: not valid UTF-8 text"))
        .when(pl.col("csv_error").is_not_null())
        .then(pl.col("csv_error"))
        .when(pl.lit(header_reason is not None))
        .then(pl.lit(header_reason))
        .when(n_fields != len(names))
        .then(pl.format("row: {} fields but the header has {} columns", n_fields, pl.lit(len(names))))
    )
    values = [
        (pl.col("fields").list.get(names.index(c), null_on_oob=True) if c in names else pl.lit(None))
        .cast(pl.String)
        .alias(c)
        for c in COLUMNS
    ]
    return data.select("record_no", "raw", reason.alias("reason"), *values)
