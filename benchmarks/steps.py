"""One measured benchmark step per process: `python benchmarks/steps.py STEP DATA_DIR RESULT_JSON`.

run.py starts every step in a fresh interpreter, so each step's peak RSS is its own. A step imports only what it needs, times only its work (not the interpreter
start or the imports) and writes a small JSON with its peak RSS (VmHWM, so the parent's memory does not
leak in; `rss_after_import_kb` is what the imports alone cost).

Steps (DATA_DIR holds raw/request_logs/<day>/ and config/providers.yaml):
- ingest_pipeline: the staging asset's per-day lake writer (write_day_partition -> ingest_day) for every
  day -> lake/request_logs/day=<day>/part-0.parquet.
- ingest_duckdb / ingest_polars / ingest_pandas: the same conversion (same columns and types, zstd) in
  plain DuckDB (read_json/read_csv -> COPY), Polars (scan_ndjson/scan_csv -> sink_parquet) and pandas
  (read_json(lines=True)/read_csv -> to_parquet) -> lake_<engine>/request_logs/day=<day>/part-0.parquet.
- sli_pipeline: exactly the body of the marts.provider_minute_sli asset (connect to the warehouse,
  compute_minute_sli over the staging.request_logs view, replace_where into the mart); the view is
  created first (untimed), as the staging asset does.
- sli_duckdb / sli_polars / sli_pandas: the same per-provider-minute columns over the same Parquet lake
  (the pipeline's) written directly in each engine.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

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
TIMEOUT_STATUSES = (408, 504)


def _days(data_dir: Path) -> list[str]:
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
    days = _days(data_dir)
    rss0 = _rss_kb()
    start = _start()
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
    seconds = _stop(start)
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

    rss0 = _rss_kb()
    start = _start()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")  # as the pipeline does: row order is not kept
    rows = 0
    # `file` relative to the data dir, like the pipeline's
    select = ", ".join(DUCKDB_COLUMNS) + ", substr(filename, $cut) AS file"
    for day in _days(data_dir):
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
        "seconds": _stop(start),
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
    rss0 = _rss_kb()
    start = _start()
    prefix = f"{data_dir}/"
    for day in _days(data_dir):
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
        "seconds": _stop(start),
        "rss_after_import_kb": rss0,
        "lake": "lake_polars/request_logs",
    }


def ingest_pandas(data_dir: Path) -> dict:
    import pandas as pd
    import pyarrow.parquet  # noqa: F401  (to_parquet/read_parquet would import it on the clock)

    rss0 = _rss_kb()
    start = _start()
    rows = 0
    for day in _days(data_dir):
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
        "seconds": _stop(start),
        "rss_after_import_kb": rss0,
        "rows_out": rows,
        "lake": "lake_pandas/request_logs",
    }


# --------------------------------------------------------------------------------------------------- SLI
def sli_pipeline(data_dir: Path) -> dict:
    from assets.marts.sli import compute_minute_sli
    from assets.staging.request_logs import create_view
    from pipelines.core import tables
    from pipelines.core.settings import Settings
    from pipelines.core.warehouse import connect, replace_where, table_exists

    settings = Settings(data_dir, data_dir / "reports", data_dir / "config" / "providers.yaml")
    days = [dt.date.fromisoformat(d) for d in _days(data_dir)]
    with connect(settings.warehouse_path) as con:  # what the staging asset does once its days are written
        create_view(con, settings)
    rss0 = _rss_kb()
    start = _start()
    # --- the provider_minute_sli asset body
    with connect(settings.warehouse_path) as con:
        if not table_exists(con, tables.REQUEST_LOGS):
            raise RuntimeError("staging.request_logs is missing")
        t = time.perf_counter()
        sli = compute_minute_sli(con, days)
        compute_seconds = time.perf_counter() - t
        replace_where(con, tables.MINUTE_SLI, sli, "day", days)
    seconds = _stop(start)
    return {
        "seconds": seconds,
        "compute_seconds": compute_seconds,
        "rss_after_import_kb": rss0,
        "rows_out": sli.height,
        "checksum": _sli_checksum(sli.to_dict(as_series=False)),
    }


def _lake_glob(data_dir: Path) -> str:
    return (data_dir / "lake" / "request_logs" / "day=*" / "*.parquet").as_posix()


def sli_duckdb(data_dir: Path) -> dict:
    import duckdb
    import polars  # noqa: F401  (.pl() needs it: imported before the clock starts, as in the pipeline)
    import pyarrow  # noqa: F401

    rss0 = _rss_kb()
    start = _start()
    con = duckdb.connect()
    # the timeout flag once per row in a subquery (repeated in every FILTER, ILIKE would run 7 times)
    query = """
WITH logs AS (
    SELECT day, provider, date_trunc('minute', ts) AS minute, status, latency_ms,
        coalesce(status IN (408, 504) OR error_type ILIKE '%timeout%', false) AS t
    FROM read_parquet($glob, hive_partitioning = true, hive_types = {'day': DATE})
),
per_minute AS (
    SELECT day, provider, minute,
        count(*) AS requests,
        count(*) FILTER (NOT t AND status BETWEEN 200 AND 399) AS ok,
        count(*) FILTER (NOT t AND status BETWEEN 500 AND 599 AND status <> 529) AS errors_5xx,
        count(*) FILTER (NOT t AND status = 529) AS errors_529,
        count(*) FILTER (NOT t AND status = 429) AS errors_429,
        count(*) FILTER (NOT t AND status BETWEEN 400 AND 499 AND status <> 429) AS errors_4xx_other,
        count(*) FILTER (t) AS timeouts,
        count(*) FILTER (NOT t AND NOT coalesce(status BETWEEN 200 AND 599, false)) AS errors_other,
        quantile_cont(latency_ms, [0.5, 0.95]) AS q  -- one sort per group for both quantiles
    FROM logs
    GROUP BY day, provider, minute
)
SELECT * EXCLUDE (q), (errors_5xx + errors_529 + timeouts) / requests AS error_ratio,
    q[1] AS latency_p50_ms, q[2] AS latency_p95_ms
FROM per_minute
"""
    sli = con.sql(query, params={"glob": _lake_glob(data_dir)}).pl()
    seconds = _stop(start)
    con.close()
    return {
        "seconds": seconds,
        "rss_after_import_kb": rss0,
        "rows_out": sli.height,
        "checksum": _sli_checksum(sli.to_dict(as_series=False)),
    }


def sli_polars(data_dir: Path) -> dict:
    import polars as pl

    rss0 = _rss_kb()
    start = _start()
    status, is_timeout = pl.col("status"), pl.col("is_timeout")
    counted = {
        "ok": ~is_timeout & status.is_between(200, 399),
        "errors_5xx": ~is_timeout & status.is_between(500, 599) & (status != 529),
        "errors_529": ~is_timeout & (status == 529),
        "errors_429": ~is_timeout & (status == 429),
        "errors_4xx_other": ~is_timeout & status.is_between(400, 499) & (status != 429),
        "timeouts": is_timeout,
        "errors_other": ~is_timeout & ~status.is_between(200, 599).fill_null(False),
    }
    sli = (
        pl.scan_parquet(_lake_glob(data_dir), hive_partitioning=True)
        .with_columns(  # the timeout flag once per row
            (status.is_in(TIMEOUT_STATUSES) | pl.col("error_type").str.contains("(?i)timeout"))
            .fill_null(False)
            .alias("is_timeout")
        )
        .group_by("day", "provider", pl.col("ts").dt.truncate("1m").alias("minute"))
        .agg(
            pl.len().alias("requests"),
            *[cond.fill_null(False).sum().alias(name) for name, cond in counted.items()],
            pl.col("latency_ms").quantile(0.5, "linear").alias("latency_p50_ms"),
            pl.col("latency_ms").quantile(0.95, "linear").alias("latency_p95_ms"),
        )
        .with_columns(
            ((pl.col("errors_5xx") + pl.col("errors_529") + pl.col("timeouts")) / pl.col("requests")).alias(
                "error_ratio"
            )
        )
        .collect()
    )
    seconds = _stop(start)
    return {
        "seconds": seconds,
        "rss_after_import_kb": rss0,
        "rows_out": sli.height,
        "checksum": _sli_checksum(sli.to_dict(as_series=False)),
    }


def sli_pandas(data_dir: Path) -> dict:
    import pandas as pd
    import pyarrow.parquet  # noqa: F401  (to_parquet/read_parquet would import it on the clock)

    rss0 = _rss_kb()
    start = _start()
    logs = pd.read_parquet(
        data_dir / "lake" / "request_logs",
        columns=["day", "ts", "provider", "status", "latency_ms", "error_type"],
    )
    logs["minute"] = logs["ts"].dt.floor("min")
    status = logs["status"]
    timeout = status.isin(TIMEOUT_STATUSES) | logs["error_type"].str.contains("timeout", case=False, na=False)
    flags = pd.DataFrame(
        {
            "ok": ~timeout & status.between(200, 399),
            "errors_5xx": ~timeout & status.between(500, 599) & (status != 529),
            "errors_529": ~timeout & (status == 529),
            "errors_429": ~timeout & (status == 429),
            "errors_4xx_other": ~timeout & status.between(400, 499) & (status != 429),
            "timeouts": timeout,
            "errors_other": ~timeout & ~status.between(200, 599),
        }
    )
    keys = [logs["day"], logs["provider"], logs["minute"]]
    grouped = flags.groupby(keys, observed=True)
    sli = grouped.sum()
    sli.insert(0, "requests", grouped.size())
    sli["error_ratio"] = (sli["errors_5xx"] + sli["errors_529"] + sli["timeouts"]) / sli["requests"]
    quantiles = logs.groupby(["day", "provider", "minute"], observed=True)["latency_ms"].quantile([0.5, 0.95])
    quantiles = quantiles.unstack()
    sli["latency_p50_ms"] = quantiles[0.5]
    sli["latency_p95_ms"] = quantiles[0.95]
    sli = sli.reset_index()
    seconds = _stop(start)
    return {
        "seconds": seconds,
        "rss_after_import_kb": rss0,
        "rows_out": len(sli),
        "checksum": _sli_checksum(sli.to_dict(orient="list")),
    }


def _sli_checksum(columns: dict) -> dict:
    """Totals that must agree between engines (quantile sums rounded against float noise)."""
    total = {
        c: int(sum(columns[c]))
        for c in (
            "requests",
            "ok",
            "errors_5xx",
            "errors_529",
            "errors_429",
            "errors_4xx_other",
            "timeouts",
            "errors_other",
        )
    }
    for c in ("latency_p50_ms", "latency_p95_ms", "error_ratio"):
        total[c] = round(float(sum(v for v in columns[c] if v is not None)), 1)
    return total


_CLOCK: dict[str, float] = {}


def _start() -> float:
    """Start the step's clocks: wall time (returned) and CPU time of all its threads."""
    _CLOCK["cpu_start"] = time.process_time()
    return time.perf_counter()


def _stop(start: float) -> float:
    _CLOCK["cpu_seconds"] = time.process_time() - _CLOCK["cpu_start"]
    return time.perf_counter() - start


def _rss_kb() -> int:
    """Peak RSS of this process so far, in KB: VmHWM of its own address space.

    Not getrusage(): Linux carries ru_maxrss across exec, so a child would report at least the RSS its
    parent had when it forked (the generator's frames), whatever the step itself used.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: best effort


STEPS = {
    f.__name__: f
    for f in (
        ingest_pipeline,
        ingest_duckdb,
        ingest_polars,
        ingest_pandas,
        sli_pipeline,
        sli_duckdb,
        sli_polars,
        sli_pandas,
    )
}


def main(argv: list[str]) -> None:
    step, data_dir, result_path = argv
    result = STEPS[step](Path(data_dir).resolve())
    result["peak_rss_kb"] = _rss_kb()
    result["cpu_seconds"] = _CLOCK["cpu_seconds"]
    Path(result_path).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
