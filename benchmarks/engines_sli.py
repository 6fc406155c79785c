"""Minute-SLI steps: per provider and minute, request classes and latency quantiles over the Parquet lake.

- sli_pipeline: exactly the body of the marts.provider_minute_sli asset (connect to the warehouse,
  compute_minute_sli over the staging.request_logs view, replace_where into the mart); the view is
  created first (untimed), as the staging asset does.
- sli_duckdb / sli_polars / sli_pandas: the same per-provider-minute columns over the same Parquet lake
  (the pipeline's) written directly in each engine.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import clock
from engines_ingest import days_of

TIMEOUT_STATUSES = (408, 504)


def sli_pipeline(data_dir: Path) -> dict:
    from assets.marts.sli import compute_minute_sli
    from assets.staging.request_logs import create_view
    from pipelines.core import tables
    from pipelines.core.settings import Settings
    from pipelines.core.warehouse import connect, replace_where, table_exists

    settings = Settings(data_dir, data_dir / "reports", data_dir / "config" / "providers.yaml")
    days = [dt.date.fromisoformat(d) for d in days_of(data_dir)]
    with connect(settings.warehouse_path) as con:  # what the staging asset does once its days are written
        create_view(con, settings)
    rss0 = clock.rss_kb()
    start = clock.start()
    # --- the provider_minute_sli asset body
    with connect(settings.warehouse_path) as con:
        if not table_exists(con, tables.REQUEST_LOGS):
            raise RuntimeError("staging.request_logs is missing")
        t = time.perf_counter()
        sli = compute_minute_sli(con, days)
        compute_seconds = time.perf_counter() - t
        replace_where(con, tables.MINUTE_SLI, sli, "day", days)
    seconds = clock.stop(start)
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

    rss0 = clock.rss_kb()
    start = clock.start()
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
    seconds = clock.stop(start)
    con.close()
    return {
        "seconds": seconds,
        "rss_after_import_kb": rss0,
        "rows_out": sli.height,
        "checksum": _sli_checksum(sli.to_dict(as_series=False)),
    }


def sli_polars(data_dir: Path) -> dict:
    import polars as pl

    rss0 = clock.rss_kb()
    start = clock.start()
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
    seconds = clock.stop(start)
    return {
        "seconds": seconds,
        "rss_after_import_kb": rss0,
        "rows_out": sli.height,
        "checksum": _sli_checksum(sli.to_dict(as_series=False)),
    }


def sli_pandas(data_dir: Path) -> dict:
    import pandas as pd
    import pyarrow.parquet  # noqa: F401  (to_parquet/read_parquet would import it on the clock)

    rss0 = clock.rss_kb()
    start = clock.start()
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
    seconds = clock.stop(start)
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
