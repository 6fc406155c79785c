"""The four small aggregates marts.migration_signals is built from, computed in DuckDB.

Aggregation runs as SQL: hourly traffic sums the per-minute request counts of marts.provider_minute_sli
(the same rows the lake holds, already counted once per minute, so the lake is not scanned for it), and
each client's first request is the earliest of its first requests per day in staging.request_log_clients
(kept by the request-log staging step), so no input opens the lake; only the small hourly aggregates reach
Polars.
"""

import duckdb
import polars as pl

from pipelines.core import tables
from pipelines.core.frames import to_utc
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import Table, table_exists

# Every lake row has a provider and a ts (ingest refuses the others), and the minute SLI counts every lake
# row once, in its UTC minute: summing its minutes per hour is count(*) per hour over the lake.
HOURLY_TRAFFIC_SQL = f"""
SELECT provider, date_trunc('hour', timezone('UTC', minute)) AS period_start, sum(requests)::BIGINT AS requests
FROM {sql_name(tables.MINUTE_SLI)}
WHERE provider IS NOT NULL AND minute IS NOT NULL
GROUP BY ALL
"""

# Each client's first request over the whole log (the earliest of its per-day firsts), bucketed by UTC
# hour: the "new client ids" signal.
FIRST_SEEN_SQL = f"""
SELECT provider, date_trunc('hour', first_ts) AS period_start, count(*) AS new_clients
FROM (
    SELECT provider, client_id, timezone('UTC', min(first_ts)) AS first_ts  -- converted once per client
    FROM {sql_name(tables.REQUEST_LOG_CLIENTS)}
    WHERE provider IS NOT NULL AND client_id IS NOT NULL AND first_ts IS NOT NULL
    GROUP BY provider, client_id
)
GROUP BY ALL
"""

HOURLY_CROWD_SQL = f"""
SELECT provider, date_trunc('hour', timezone('UTC', ts)) AS period_start, sum(reports)::DOUBLE AS crowd_reports
FROM {sql_name(tables.CROWD_REPORTS)}
WHERE provider IS NOT NULL AND ts IS NOT NULL
GROUP BY ALL
"""

BEST_RANK_SQL = f"""
SELECT provider, day, country, chart, min(rank)::BIGINT AS best_rank
FROM {sql_name(tables.APP_RANKS)}
WHERE provider IS NOT NULL AND rank IS NOT NULL
GROUP BY ALL
"""

QUERIES = {
    "traffic": (tables.MINUTE_SLI, HOURLY_TRAFFIC_SQL),
    "first_seen": (tables.REQUEST_LOG_CLIENTS, FIRST_SEEN_SQL),
    "crowd": (tables.CROWD_REPORTS, HOURLY_CROWD_SQL),
    "ranks": (tables.APP_RANKS, BEST_RANK_SQL),
}


def aggregate_if_exists(con: duckdb.DuckDBPyConnection, table: Table, sql: str) -> pl.DataFrame | None:
    """Run the aggregate `sql` (from code) over `table` when it exists (table or view), else None; rows
    sorted so reruns compute byte-identical marts."""
    return con.sql(f"SELECT * FROM ({sql}) ORDER BY ALL").pl() if table_exists(con, table) else None


def read_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame | None]:
    """The four small aggregates the mart is built from (None where the input table does not exist)."""
    frames = {name: aggregate_if_exists(con, table, sql) for name, (table, sql) in QUERIES.items()}
    return {k: (to_utc(v) if v is not None else None) for k, v in frames.items()}
