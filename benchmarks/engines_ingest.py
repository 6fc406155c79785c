"""Ingest steps: raw request logs of every day -> one Parquet file per day, by the pipeline and by plain engines.

- ingest_pipeline: the staging asset's per-day lake writer (write_day_partition -> ingest_day) for every
  day -> lake/request_logs/day=<day>/part-0.parquet.
- ingest_duckdb / ingest_polars / ingest_pandas: the same conversion (same columns and types, zstd) in
  plain DuckDB (read_json/read_csv -> COPY), Polars (scan_ndjson/scan_csv -> sink_parquet) and pandas
  (read_json(lines=True)/read_csv -> to_parquet) -> lake_<engine>/request_logs/day=<day>/part-0.parquet.
"""

from __future__ import annotations

import time
from pathlib import Path

import clock

# Lake columns in order, with DuckDB and Polars types (the pipeline's LAKE_COLUMNS; `file` is added).
DUCKDB_COLUMNS = {
    "ts": "TIMESTAMPTZ",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "endpoint": "VARCHAR",
    "status": "INTEGER",
    "latency_ms": "DOUBLE",
    "tokens_in": "BIGINT",
    "tokens_out": "BIGINT",
    "client_id": "VARCHAR",
    "region": "VARCHAR",
    "error_type": "VARCHAR",
}
PART_FILE = "part-0.parquet"


def days_of(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "raw" / "request_logs").iterdir() if p.is_dir())


def _day_files(data_dir: Path, day: str) -> tuple[list[Path], list[Path]]:
    files = sorted((data_dir / "raw" / "request_logs" / day).iterdir())
    return [f for f in files if ".jsonl" in f.name], [f for f in files if ".csv" in f.name]


def _out(data_dir: Path, engine: str, day: str) -> Path:
    target = data_dir / f"lake_{engine}" / "request_logs" / f"day={day}" / PART_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


# ------------------------------------------------------------------------------------------------ ingest
def ingest_pipeline(data_dir: Path) -> dict:
    from assets.ingest.request_logs import ProviderMapping
    from assets.staging.request_logs import write_day_partition
    from pipelines.core.config import load_providers
    from pipelines.core.settings import Settings

    settings = Settings(data_dir, data_dir / "reports", data_dir / "config" / "providers.yaml")
    days = days_of(data_dir)
    rss0 = clock.rss_kb()
    start = clock.start()
    mapping = ProviderMapping.from_config(load_providers(settings.config_path))
    per_day, rows_in, accepted, quarantined, parsers = {}, 0, 0, 0, set()
    for day in days:
        t = time.perf_counter()
        result = write_day_partition(settings, mapping, day)
        per_day[day] = time.perf_counter() - t
        rows_in += result.rows_in
        accepted += result.rows_accepted
        quarantined += result.rows_quarantined
        parsers |= {f.parser for f in result.files}
    seconds = clock.stop(start)
    return {
        "seconds": seconds,
        "rss_after_import_kb": rss0,
        "rows_in": rows_in,
        "rows_out": accepted,
        "rows_quarantined": quarantined,
        "parsers": sorted(parsers),
        "per_day_seconds": per_day,
        "lake": "lake/request_logs",
    }


def ingest_duckdb(data_dir: Path) -> dict:
    import duckdb

    rss0 = clock.rss_kb()
    start = clock.start()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # as the pipeline does: row order is not kept
    rows = 0
    # `file` relative to the data dir, like the pipeline's
    select = ", ".join(DUCKDB_COLUMNS) + ", substr(filename, $cut) AS file"
    for day in days_of(data_dir):
        jsonl, csv = _day_files(data_dir, day)
        parts = []
        if jsonl:
            parts.append(
                f"SELECT {select} FROM read_json($jsonl, format = 'newline_delimited', "
                "columns = $columns, filename = true)"
            )
        if csv:
            parts.append(
                f"SELECT {select} FROM read_csv($csv, header = true, columns = $columns, filename = true)"
            )
        target = str(_out(data_dir, "duckdb", day)).replace("'", "''")
        result = con.execute(
            f"COPY ({' UNION ALL '.join(parts)}) TO '{target}' "
            "(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)",
            {
                "cut": len(str(data_dir)) + 2,
                "columns": DUCKDB_COLUMNS,
                **({"jsonl": [str(f) for f in jsonl]} if jsonl else {}),
                **({"csv": [str(f) for f in csv]} if csv else {}),
            },
        ).fetchall()
        rows += int(result[0][0])
    con.close()
    return {
        "seconds": clock.stop(start),
        "rss_after_import_kb": rss0,
        "rows_out": rows,
        "lake": "lake_duckdb/request_logs",
    }


def ingest_polars(data_dir: Path) -> dict:
    import polars as pl

    schema = {
        "ts": pl.String,
        "provider": pl.String,
        "model": pl.String,
        "endpoint": pl.String,
        "status": pl.Int32,
        "latency_ms": pl.Float64,
        "tokens_in": pl.Int64,
        "tokens_out": pl.Int64,
        "client_id": pl.String,
        "region": pl.String,
        "error_type": pl.String,
    }
    rss0 = clock.rss_kb()
    start = clock.start()
    prefix = f"{data_dir}/"
    for day in days_of(data_dir):
        jsonl, csv = _day_files(data_dir, day)
        scans = []
        if jsonl:
            scans.append(pl.scan_ndjson(jsonl, schema=schema, include_file_paths="file"))
        if csv:
            scans.append(pl.scan_csv(csv, schema=schema, include_file_paths="file"))
        pl.concat(scans).with_columns(
            pl.col("ts").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC"),
            pl.col("file").str.strip_prefix(prefix),
        ).sink_parquet(
            _out(data_dir, "polars", day), compression="zstd", compression_level=1, maintain_order=False
        )
    return {
        "seconds": clock.stop(start),
        "rss_after_import_kb": rss0,
        "lake": "lake_polars/request_logs",
    }


def ingest_pandas(data_dir: Path) -> dict:
    import pandas as pd
    import pyarrow.parquet  # noqa: F401  (to_parquet/read_parquet would import it on the clock)

    rss0 = clock.rss_kb()
    start = clock.start()
    rows = 0
    for day in days_of(data_dir):
        frames = []
        for path in sorted((data_dir / "raw" / "request_logs" / day).iterdir()):
            frame = pd.read_json(path, lines=True) if ".jsonl" in path.name else pd.read_csv(path)
            frame["file"] = path.relative_to(data_dir).as_posix()
            frames.append(frame)
        frame = pd.concat(frames, ignore_index=True)
        frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
        frame = frame.astype(
            {"status": "int32", "latency_ms": "float64", "tokens_in": "int64", "tokens_out": "int64"}
        )
        frame.to_parquet(_out(data_dir, "pandas", day), compression="zstd", index=False)
        rows += len(frame)
    return {
        "seconds": clock.stop(start),
        "rss_after_import_kb": rss0,
        "rows_out": rows,
        "lake": "lake_pandas/request_logs",
    }
