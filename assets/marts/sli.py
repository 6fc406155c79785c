"""Per-provider, per-minute service level indicators from our own API request logs.

The provider's error ratio counts only failures that are the provider's doing: 5xx, 529 "overloaded"
and timeouts. 429 (we exceeded our own quota) and other 4xx (our malformed requests) are kept in their
own columns but are OUR errors, so they are left out of the provider's error ratio.

The aggregation is one DuckDB GROUP BY over the `staging.request_logs` view for the run's days (the
view's hive `day` filter prunes Parquet files); only the small per-minute result reaches Python.
"""

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipelines.core import tables
from pipelines.core.batches import consecutive_batches
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.frames import to_utc
from pipelines.core.minute_sli import COUNT_COLUMNS, MINUTE_SLI_SCHEMA
from pipelines.core.partitions import daily_partitions, single_run
from pipelines.core.quality import between, check_spec, has_columns, not_null, start_check, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import replace_where, table_exists

SLI_CHECK = "minute_sli_classes_add_up"

MINUTE_SLI_COLUMN_DOCS = {
    "day": "UTC day of the request-log partition the minute came from (the partition column)",
    "provider": "provider key from the config",
    "minute": "start of the UTC minute",
    "requests": "requests logged in the minute; the seven class columns are disjoint and add up to it",
    "ok": "2xx/3xx answers",
    "errors_5xx": "500-599 except 529 and 504 (504 is a timeout)",
    "errors_529": "529 overloaded answers from the provider",
    "errors_429": "429: our own quota or rate limit, our error, not the provider's",
    "errors_4xx_other": "other 4xx except 408 (a timeout): our error",
    "timeouts": "error_type containing 'timeout', or status 408/504 (takes precedence over the status)",
    "errors_other": "no usable status (null, 0, 1xx, >= 600) and not a timeout",
    "error_ratio": "(errors_5xx + errors_529 + timeouts) / requests: the provider's error ratio",
    "latency_p50_ms": "median latency of the minute's requests, errors and timeouts included, ms",
    "latency_p95_ms": "95th percentile latency of the minute's requests, errors and timeouts included, ms",
}

# The request classes, the timeout rule and the provider's error ratio are spelled out in the SQL.
MINUTE_SLI_SQL = (Path(__file__).parent / "sli.sql").read_text(encoding="utf-8")


def minute_sli_sql(n_days: int, source: dg.AssetKey | str = tables.REQUEST_LOGS) -> str:
    """The SQL behind `marts.provider_minute_sli` for `n_days` days, bound as `n_days` DATE parameters.

    `source` is a table/view from code (never from data). One placeholder per day keeps the filter a
    constant IN-list, which DuckDB pushes down to the Parquet scan (hive partition pruning).
    """
    if n_days < 1:
        raise ValueError("minute_sli_sql needs at least one day")
    placeholders = ", ".join("?::DATE" for _ in range(n_days))
    return MINUTE_SLI_SQL.format(source=tables.sql_name(source), day_placeholders=placeholders)


# The latency quantiles are exact: DuckDB keeps every latency of a query until its minutes are done. A query
# covers consecutive days of at most this many rows together (~0.1 GB of latencies; a day with more is a query
# of its own), so memory is bounded by the largest day rather than by the range (a month of 10 M-row days in
# one query would hold ~2.4 GB), while a long range of small days stays one query (366 queries of a day each
# took 6.6 s where one took 0.26 s).
ROWS_PER_QUERY = 4_000_000


def compute_minute_sli(
    con: duckdb.DuckDBPyConnection,
    days: Sequence[dt.date | str],
    source: dg.AssetKey | str = tables.REQUEST_LOGS,
) -> pl.DataFrame:
    """Run `minute_sli_sql` for `days` on `con` (in batches of days: `ROWS_PER_QUERY`); return the per-minute SLI
    frame (minute in UTC)."""
    day_values = sorted({dt.date.fromisoformat(d) if isinstance(d, str) else d for d in days})
    if not day_values:
        return pl.DataFrame(schema=MINUTE_SLI_SCHEMA)
    frame = pl.concat(
        [con.sql(minute_sli_sql(len(batch), source), params=batch).pl() for batch in _day_batches(con, day_values, source)]
    )
    return to_utc(frame.with_columns(pl.col("day").cast(pl.Date))).select(
        [pl.col(c).cast(t) for c, t in MINUTE_SLI_SCHEMA.items()]
    )


def _day_batches(con: duckdb.DuckDBPyConnection, days: list[dt.date], source: dg.AssetKey | str) -> list[list[dt.date]]:
    """`days` (sorted) cut into runs of consecutive days of at most ROWS_PER_QUERY rows (a larger day alone);
    the rows per day are counted from the Parquet files' row groups, no column is read."""
    placeholders = ", ".join("?::DATE" for _ in days)
    rows = dict(
        con.execute(
            f"SELECT day, count(*) FROM {tables.sql_name(source)} WHERE day IN ({placeholders}) GROUP BY day", days
        ).fetchall()
    )
    return consecutive_batches(((day, rows.get(day, 0)) for day in days), ROWS_PER_QUERY)


def sli_expectations() -> list:
    """Blocking suite: classes add up to requests (`unclassified` = 0), ratios in [0, 1], keys unique."""
    return [
        has_columns(*MINUTE_SLI_SCHEMA),
        not_null("provider"),
        not_null("minute"),
        unique_together("provider", "minute"),
        between("requests", 1, None),
        between("unclassified", 0, 0),
        between("error_ratio", 0, 1),
        between("latency_p50_ms", 0, None),
        between("latency_p95_ms", 0, None),
    ]


def with_unclassified(sli: pl.DataFrame) -> pl.DataFrame:
    """Add `unclassified` = requests - sum of the disjoint classes (must be 0 on every row)."""
    return sli.with_columns(
        unclassified=pl.col("requests") - pl.sum_horizontal([pl.col(c) for c in COUNT_COLUMNS])
    )


@dg.asset(
    key=tables.MINUTE_SLI,
    deps=[tables.REQUEST_LOGS],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(SLI_CHECK, tables.MINUTE_SLI, sli_expectations())],
)
def provider_minute_sli(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How each provider served our own API requests, minute by minute (UTC).

    Every request falls in exactly one class (ok, 5xx, 529, 429, other 4xx, timeout, other); the
    provider's error ratio counts only its own failures (5xx, 529, timeouts), never our 429/4xx.
    Latencies include errors and timeouts: that is what the caller waited. Column meanings: see the
    column schema (MINUTE_SLI_COLUMN_DOCS).
    """
    days = [dt.date.fromisoformat(key) for key in context.partition_keys]
    with workspace.warehouse() as con:
        if not table_exists(con, tables.REQUEST_LOGS):
            raise RuntimeError(
                f"{tables.sql_name(tables.REQUEST_LOGS)} does not exist in "
                f"{workspace.settings.warehouse_path}: materialise staging/request_logs for these days first"
            )
        sli = compute_minute_sli(con, days)
        check = start_check(SLI_CHECK, with_unclassified(sli), sli_expectations())
        replace_where(con, tables.MINUTE_SLI, sli, "day", days)
    totals = sli.select(pl.col("requests", *COUNT_COLUMNS).sum()).to_dicts()[0] if sli.height else {}
    return dg.MaterializeResult(
        metadata={
            **table_metadata(sli, MINUTE_SLI_COLUMN_DOCS),
            "days": len(days),
            "rows": sli.height,
            "providers": dg.MetadataValue.json(sorted(sli["provider"].unique().to_list())),
            "requests": int(totals.get("requests") or 0),
            "class_totals": dg.MetadataValue.json({c: int(totals.get(c) or 0) for c in COUNT_COLUMNS}),
        },
        check_results=[check.result()],
    )
