"""Crowd-report exports (Downdetector style) -> validated rows in UTC, and every refused record quarantined.

Input: raw/crowd_reports/<YYYY-MM-DD>/*.csv|*.jsonl, optionally gzipped. One record per time bucket,
service and country: `timestamp` (ISO 8601 with an offset in any zone), `service`, `country`, `reports`,
optional `problem_type` and `baseline`. The folder's day is the partition: a record must fall inside
that UTC day.

Reading a file is the only per-line Python (UTF-8 fallback, CSV lines with quotes, JSON objects); every
field check, conversion and the de-duplication are Polars expressions over all records of the run.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest import day_folders
from assets.ingest.day_folders import FileRefused as _FileRefused
from assets.ingest.day_folders import parse_day
from pipelines.core.config import ProvidersConfig
from pipelines.core.quarantine import RAW_PREVIEW_CHARS, REJECTED_SCHEMA, Rejects

SOURCE = "crowd_reports"
REQUIRED_COLUMNS = ("timestamp", "service", "country", "reports")
OPTIONAL_COLUMNS = ("problem_type", "baseline")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
SUFFIXES = (".csv", ".jsonl", ".csv.gz", ".jsonl.gz")


def day_files(data_dir: Path, day: str) -> list[Path]:
    return day_folders.day_files(data_dir, day, SOURCE)


def resolve_inside(data_dir: Path, day: str, listed: Path) -> Path:
    return day_folders.resolve_inside(data_dir, day, listed, SOURCE)


# staging.crowd_reports (contract columns first; record_no points back into `file`)
STAGING_SCHEMA = {
    "partition_day": pl.Date,
    "ts": pl.Datetime("us", "UTC"),
    "ts_text": pl.String,
    "service": pl.String,
    "provider": pl.String,
    "country": pl.String,
    "reports": pl.Int64,
    "problem_type": pl.String,
    "baseline": pl.Float64,
    "file": pl.String,
    "record_no": pl.Int64,
}

# One row per input record before validation; every field still text, `reason` set when reading failed.
_RECORD_SCHEMA = {
    "partition_day": pl.Date,
    "file": pl.String,
    "record_no": pl.Int64,
    "raw": pl.String,
    "reason": pl.String,
    **{c: pl.String for c in COLUMNS},
}

_BLANK = " \t\r\x0b\x0c"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_TS_WITH_OFFSET = (
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2})(:\d{2}(?:[.,]\d{1,9})?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)$"
)
_TS_WITHOUT_OFFSET = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?$"


@dataclass
class CrowdParse:
    """What one run read: accepted rows (STAGING_SCHEMA), quarantined records, files seen, schema drift."""

    accepted: pl.DataFrame
    rejects: pl.DataFrame
    files: list[str]
    rows_in: int
    schema_drift: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def rows_accepted(self) -> int:
        return self.accepted.height

    @property
    def rows_quarantined(self) -> int:
        return self.rejects.height


def read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when the name ends in .gz; raises _FileRefused with a reason."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _FileRefused(f"file: unreadable ({exc.strerror or exc}); check permissions") from exc
    if path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise _FileRefused(f"file: corrupt gzip ({exc}); re-export or re-download it") from exc
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


def _csv_fields(texts: pl.Series) -> pl.DataFrame:
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


def _csv_records(lines: pl.DataFrame, drift: dict[str, list[str]]) -> pl.DataFrame:
    if lines.is_empty():
        return pl.DataFrame(schema={"record_no": pl.Int64, "raw": pl.String, "reason": pl.String})
    header = lines.row(0, named=True)
    if header["text"] is None:
        raise _FileRefused(f"header (line {header['line_no']}): not valid UTF-8; re-export the file as UTF-8")
    try:
        names = [name.strip().lower() for name in next(csv.reader([header["text"]], strict=True))]
    except (csv.Error, ValueError, StopIteration) as exc:
        raise _FileRefused(f"header (line {header['line_no']}): not a CSV header ({exc})") from exc
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise _FileRefused(f"header: column {repeated[0]!r} appears more than once")
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    _note_drift(drift, names, missing)

    data = lines.slice(1).with_columns((pl.col("line_no") - header["line_no"]).alias("record_no"))
    data = pl.concat([data, _csv_fields(data["text"])], how="horizontal")
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


def _as_text(column: str, value: object) -> tuple[str | None, str | None]:
    """A JSON value as text (numbers keep their JSON spelling) or a reason why it cannot be one."""
    if value is None or isinstance(value, str):
        return value, None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, (int, float)):
        return (str(value) if isinstance(value, int) else repr(value)), None
    kind = "an object" if isinstance(value, dict) else "an array"
    return None, f"{column}: expected text or a number, got {kind}"


def _jsonl_records(lines: pl.DataFrame, drift: dict[str, list[str]]) -> pl.DataFrame:
    columns: dict[str, list[str | None]] = {c: [] for c in COLUMNS}
    reasons: list[str | None] = []
    keys: set[str] = set()
    for text in lines["text"].to_list():
        reason, obj = None, None
        if text is None:
            reason = "line: not valid UTF-8 text"
        else:
            try:
                obj = json.loads(text)
                if not isinstance(obj, dict):
                    reason, obj = f"line: expected a JSON object, got {type(obj).__name__}", None
            except (ValueError, RecursionError) as exc:
                reason = _json_error(exc)
        if obj is not None:
            keys.update(obj)
            check_unicode = _SURROGATE_ESCAPE.search(text) is not None
            for c in COLUMNS:
                value, problem = _as_text(c, obj.get(c))
                if check_unicode and value is not None and not _encodable(value):
                    value, problem = None, f"{c}: contains an unpaired unicode surrogate escape"
                reason = reason or problem
                columns[c].append(value)
        else:
            for c in COLUMNS:
                columns[c].append(None)
        reasons.append(reason)
    names = sorted(_printable(k) for k in keys)
    missing = [c for c in REQUIRED_COLUMNS if c not in keys] if keys else []
    _note_drift(drift, names, missing)
    frame = lines.select(pl.col("line_no").alias("record_no"), "raw").with_columns(
        pl.Series("reason", reasons, dtype=pl.String),
        *[pl.Series(c, columns[c], dtype=pl.String) for c in COLUMNS],
    )
    if missing:
        # A key absent from every record is a renamed column, not a few sparse rows: say so on each row.
        file_reason = (
            f"{missing[0]}: required field missing from every record of this file "
            f"(found: {', '.join(names)}); was it renamed?"
        )
        frame = frame.with_columns(pl.coalesce("reason", pl.lit(file_reason)).alias("reason"))
    return frame


def _json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"line: invalid JSON ({exc.msg} at column {exc.colno})"
    return f"line: invalid JSON ({type(exc).__name__}: {exc})"[:300]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _note_drift(drift: dict[str, list[str]], names: Sequence[str], missing: Sequence[str]) -> None:
    extra = [n for n in names if n not in COLUMNS]
    if extra:
        drift["extra_columns"] = extra
    absent = [c for c in OPTIONAL_COLUMNS if c not in names]
    if absent:
        drift["missing_optional_columns"] = absent
    if missing:
        drift["missing_required_columns"] = list(missing)


def read_file_records(path: Path, rel: str, day: dt.date) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """All records of one file as text (_RECORD_SCHEMA) and what its columns differ by; may raise _FileRefused."""
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise _FileRefused(f"file: unsupported type {path.name!r}; expected {', '.join(SUFFIXES)}")
    lines = split_lines(read_bytes(path))
    drift: dict[str, list[str]] = {}
    is_csv = name.endswith((".csv", ".csv.gz"))
    records = _csv_records(lines, drift) if is_csv else _jsonl_records(lines, drift)
    records = records.with_columns(pl.lit(day).alias("partition_day"), pl.lit(rel).alias("file"))
    if records.is_empty():
        return pl.DataFrame(schema=_RECORD_SCHEMA), drift
    return records.select([pl.col(c).cast(t) for c, t in _RECORD_SCHEMA.items()]), drift


def _reasons(countries: Sequence[str], now: dt.datetime) -> pl.Expr:
    """The first thing wrong with each record (null = fine), as Polars expressions."""
    ts_text = pl.col("timestamp")
    reports = pl.col("reports")
    baseline_text = pl.col("baseline")
    baseline = baseline_text.cast(pl.Float64, strict=False)
    day_start = pl.col("partition_day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    allowed = ", ".join(countries)
    missing = [(pl.col(c).is_null(), pl.lit(f"{c}: missing required field")) for c in REQUIRED_COLUMNS]
    checks = missing + [
        (
            ts_text.str.contains(_TS_WITHOUT_OFFSET),
            pl.format(
                "timestamp: '{}' has no UTC offset; refusing an ambiguous local time (add Z or ±HH:MM)",
                ts_text,
            ),
        ),
        (
            pl.col("ts").is_null(),
            pl.format("timestamp: '{}' is not a valid ISO 8601 timestamp with offset", ts_text),
        ),
        (reports.str.contains(r"^-\d"), pl.format("reports: {} is negative (must be a count >= 0)", reports)),
        (
            ~reports.str.contains(r"^\+?\d+(\.0*)?$"),
            pl.format("reports: '{}' is not an integer count", reports),
        ),
        (pl.col("reports_int").is_null(), pl.format("reports: '{}' is too large", reports)),
        (
            ~pl.col("country").str.contains(r"^[a-z]{2}$"),
            pl.format("country: '{}' is not a 2-letter country code", pl.col("country")),
        ),
        (
            ~pl.col("country").is_in(list(countries)),
            pl.format(
                "country: '{}' is not a configured country ({}); add it to app_store.countries to keep it",
                pl.col("country"),
                pl.lit(allowed),
            ),
        ),
        (
            pl.col("service").str.contains(r"[\x00-\x1f\x7f]"),
            pl.lit("service: contains control characters"),
        ),
        (
            pl.col("problem_type").str.contains(r"[\x00-\x1f\x7f]").fill_null(False),
            pl.lit("problem_type: contains control characters"),
        ),
        (
            baseline_text.is_not_null() & baseline.is_null(),
            pl.format("baseline: '{}' is not a number", baseline_text),
        ),
        (
            baseline.is_not_null() & (baseline.is_nan() | baseline.is_infinite()),
            pl.format("baseline: '{}' is not a finite number", baseline_text),
        ),
        ((baseline < 0).fill_null(False), pl.format("baseline: {} is negative", baseline_text)),
        (
            (pl.col("ts") < day_start) | (pl.col("ts") >= day_start + pl.duration(days=1)),
            pl.format(
                "timestamp: '{}' is {} in UTC, outside partition day {}",
                ts_text,
                pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                pl.col("partition_day").cast(pl.String),
            ),
        ),
        (
            pl.col("ts") > pl.lit(now),
            pl.format(
                "timestamp: '{}' is in the future (now {})",
                ts_text,
                pl.lit(now.strftime("%Y-%m-%dT%H:%M:%SZ")),
            ),
        ),
    ]
    chain = pl.when(checks[0][0]).then(checks[0][1])
    for condition, message in checks[1:]:
        chain = chain.when(condition.fill_null(False)).then(message)
    return pl.coalesce(pl.col("reason"), chain.otherwise(pl.lit(None, dtype=pl.String)))


def validate_records(
    records: pl.DataFrame, services: Mapping[str, str], countries: Sequence[str], now: dt.datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split text records into accepted staging rows and rejects (REJECTED_SCHEMA), keeping first duplicates.

    `services` maps configured service names to provider keys; they match case-insensitively and a
    matched service is stored with the configured spelling, so "CLAUDE" and "Claude" are one series.
    """
    provider_of = {name.lower(): provider for name, provider in services.items()}
    spelling_of = {name.lower(): name for name in services}
    parts = pl.col("timestamp").str.extract_groups(_TS_WITH_OFFSET)
    offset = parts.struct.field("4")
    offset_norm = (
        pl.when(offset.str.to_uppercase() == "Z")
        .then(pl.lit("+00:00"))
        .when(offset.str.len_chars() == 3)
        .then(offset + ":00")
        .when(offset.str.len_chars() == 5)
        .then(offset.str.slice(0, 3) + ":" + offset.str.slice(3, 2))
        .otherwise(offset)
    )
    normalised = pl.concat_str(
        parts.struct.field("1"),
        pl.lit("T"),
        parts.struct.field("2"),
        parts.struct.field("3").fill_null(":00").str.replace(",", ".", literal=True),
        offset_norm,
    )
    frame = (
        records.with_row_index("seq")
        .with_columns(
            [pl.col(c).str.strip_chars().replace("", None) for c in COLUMNS],
        )
        .with_columns(
            pl.col("country").str.to_lowercase(),
            pl.col("problem_type").str.to_lowercase(),
            normalised.str.to_datetime(
                format="%Y-%m-%dT%H:%M:%S%.f%z", time_zone="UTC", time_unit="us", strict=False
            ).alias("ts"),
            pl.col("reports")
            .str.replace(r"^\+", "")
            .str.replace(r"\.0*$", "")
            .cast(pl.Int64, strict=False)
            .alias("reports_int"),
        )
    )
    frame = frame.with_columns(_reasons(countries, now).alias("reason"))

    keys = ["partition_day", "ts", "service_key", "country", "problem_type"]
    ok = frame.filter(pl.col("reason").is_null()).with_columns(
        pl.col("service").str.to_lowercase().alias("service_key")
    )
    ok = ok.with_columns(pl.col("seq").min().over(keys).alias("first_seq"))
    firsts = ok.select(
        pl.col("seq").alias("first_seq"),
        pl.col("file").alias("first_file"),
        pl.col("record_no").alias("first_no"),
    )
    duplicates = (
        ok.filter(pl.col("seq") != pl.col("first_seq"))
        .join(firsts, on="first_seq", how="left")
        .with_columns(
            pl.format(
                "duplicate: same timestamp, service, country and problem_type as record {} of {}",
                pl.col("first_no"),
                pl.col("first_file"),
            ).alias("reason")
        )
    )
    kept = ok.filter(pl.col("seq") == pl.col("first_seq"))
    accepted = kept.sort("seq").select(
        "partition_day",
        "ts",
        pl.col("timestamp").alias("ts_text"),
        pl.col("service_key")
        .replace_strict(spelling_of, default=pl.col("service"), return_dtype=pl.String)
        .alias("service"),
        pl.col("service_key")
        .replace_strict(provider_of, default=None, return_dtype=pl.String)
        .alias("provider"),
        "country",
        pl.col("reports_int").alias("reports"),
        "problem_type",
        pl.col("baseline").cast(pl.Float64),
        "file",
        "record_no",
    )
    bad = pl.concat(
        [frame.filter(pl.col("reason").is_not_null()), duplicates.select(frame.columns)], how="vertical"
    ).sort("seq")
    rejects = bad.select(
        pl.lit(SOURCE).alias("source"),
        "file",
        "record_no",
        "reason",
        pl.col("raw").str.slice(0, RAW_PREVIEW_CHARS),
    )
    return accepted.cast(STAGING_SCHEMA), rejects.cast(REJECTED_SCHEMA)


def configured_services(config: ProvidersConfig) -> dict[str, str]:
    """Crowd service names with their configured spelling -> provider key."""
    return {name: key for key, provider in config.providers.items() for name in provider.crowd_services}


def parse_crowd_days(
    data_dir: Path,
    days: Iterable[str],
    services: Mapping[str, str],
    countries: Sequence[str],
    now: dt.datetime | None = None,
) -> CrowdParse:
    """Read every crowd-report file of `days` (YYYY-MM-DD) and validate it.

    `services`: configured crowd service name -> provider key (see configured_services(); the lower-case
    config.provider_for_crowd_service() works too); `countries`: the configured country codes; `now`
    bounds "in the future" (default: now, UTC).
    """
    now = now or dt.datetime.now(dt.UTC)
    data_dir = Path(data_dir)
    file_rejects = Rejects(SOURCE)
    frames: list[pl.DataFrame] = []
    files: list[str] = []
    drift: dict[str, dict[str, list[str]]] = {}
    for day in days:
        partition_day = parse_day(day)
        for path in day_files(data_dir, day):
            rel = path.relative_to(data_dir.resolve()).as_posix()
            files.append(rel)
            try:
                resolve_inside(data_dir, day, path)  # refuses a symlink out of the data dir before any read
                records, file_drift = read_file_records(path, rel, partition_day)
            except _FileRefused as exc:
                file_rejects.add(rel, 0, str(exc), "")
                continue
            if file_drift:
                drift[rel] = file_drift
            frames.append(records)
    records = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=_RECORD_SCHEMA)
    accepted, row_rejects = validate_records(records, services, [c.lower() for c in countries], now)
    rejects = pl.concat([file_rejects.frame(), row_rejects], how="vertical")
    parsed = CrowdParse(accepted, rejects, files, records.height + len(file_rejects), drift)
    if parsed.rows_in != parsed.rows_accepted + parsed.rows_quarantined:
        raise RuntimeError(
            f"crowd reports: {parsed.rows_in} records in but {parsed.rows_accepted} accepted "
            f"+ {parsed.rows_quarantined} quarantined; a record was lost (parser bug)"
        )
    return parsed
