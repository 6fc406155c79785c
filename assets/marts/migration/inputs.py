"""The four small aggregates marts.migration_signals is built from, computed in DuckDB.

Aggregation runs as SQL: hourly traffic sums the per-minute request counts of marts.provider_minute_sli
(the same rows the lake holds, already counted once per minute, so the lake is not scanned for it), and
each client's first request is the earliest of its first requests per day in staging.request_log_clients
(kept by the request-log staging step), so no input opens the lake; only the small hourly aggregates reach
Polars.

A run that names its window reads the aggregates from `since` on (the window's start minus the look-back),
plus `history_before`: what the whole history contributes to those rows (every provider and rank series,
where the grid starts, each provider's first active hour, days at #1 before `since`), so the rows from the
window's start on equal a rebuild's.
"""

import datetime as dt
from dataclasses import dataclass, field

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
WHERE provider IS NOT NULL AND minute IS NOT NULL AND minute >= $since
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
    HAVING min(first_ts) >= $since
)
GROUP BY ALL
"""

HOURLY_CROWD_SQL = f"""
SELECT provider, date_trunc('hour', timezone('UTC', ts)) AS period_start, sum(reports)::DOUBLE AS crowd_reports
FROM {sql_name(tables.CROWD_REPORTS)}
WHERE provider IS NOT NULL AND ts IS NOT NULL AND ts >= $since
GROUP BY ALL
"""

BEST_RANK_SQL = f"""
SELECT provider, day, country, chart, min(rank)::BIGINT AS best_rank
FROM {sql_name(tables.APP_RANKS)}
WHERE provider IS NOT NULL AND rank IS NOT NULL AND day >= $since::DATE
GROUP BY ALL
"""

QUERIES = {
    "traffic": (tables.MINUTE_SLI, HOURLY_TRAFFIC_SQL),
    "first_seen": (tables.REQUEST_LOG_CLIENTS, FIRST_SEEN_SQL),
    "crowd": (tables.CROWD_REPORTS, HOURLY_CROWD_SQL),
    "ranks": (tables.APP_RANKS, BEST_RANK_SQL),
}


# What the history before `since` contributes to the rows from `since` on. Hours are UTC; each source is
# reduced to its first hour (with traffic or reports: first active) per provider before they are combined.
FIRST_HOURS_SQL = {
    tables.MINUTE_SLI: f"""
SELECT provider, date_trunc('hour', timezone('UTC', min(minute))) AS first_hour,
       date_trunc('hour', timezone('UTC', min(minute) FILTER (WHERE requests > 0))) AS first_active
FROM {sql_name(tables.MINUTE_SLI)} WHERE provider IS NOT NULL AND minute IS NOT NULL GROUP BY provider""",
    tables.CROWD_REPORTS: f"""
SELECT provider, date_trunc('hour', timezone('UTC', min(ts))), date_trunc('hour', timezone('UTC', min(ts) FILTER (WHERE reports > 0)))
FROM {sql_name(tables.CROWD_REPORTS)} WHERE provider IS NOT NULL AND ts IS NOT NULL GROUP BY provider""",
    tables.REQUEST_LOG_CLIENTS: f"""
SELECT provider, date_trunc('hour', timezone('UTC', min(first_ts))), NULL::TIMESTAMP
FROM {sql_name(tables.REQUEST_LOG_CLIENTS)}
WHERE provider IS NOT NULL AND client_id IS NOT NULL AND first_ts IS NOT NULL GROUP BY provider""",
}

RANK_HISTORY_SQL = f"""
SELECT provider, country, chart, min(day) AS first_day,
       count(DISTINCT day) FILTER (WHERE rank = 1 AND day < $since::DATE) AS days_at_1_before,
       min(day) FILTER (WHERE rank = 1 AND day < $since::DATE) AS first_day_at_1_before
FROM {sql_name(tables.APP_RANKS)}
WHERE provider IS NOT NULL AND rank IS NOT NULL
GROUP BY ALL
"""

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # `since` of a read of everything


@dataclass(frozen=True)
class History:
    """The whole history's part in the mart's rows from `since` on (see the module docstring)."""

    since: dt.datetime
    providers: list[str] = field(default_factory=list)  # every provider of the provider rows' grid
    first_hour: dt.datetime | None = None  # where the full grid starts
    first_active: dict[str, dt.datetime] = field(default_factory=dict)  # provider -> first hour with traffic
    ranks: pl.DataFrame | None = None  # per rank series: first_day, days_at_1_before, first_day_at_1_before


def aggregate_if_exists(
    con: duckdb.DuckDBPyConnection, table: Table, sql: str, since: dt.datetime = EPOCH
) -> pl.DataFrame | None:
    """Run the aggregate `sql` (from code) over `table`'s rows from `since` on when it exists (table or view),
    else None; rows sorted so reruns compute byte-identical marts."""
    if not table_exists(con, table):
        return None
    return con.sql(f"SELECT * FROM ({sql}) ORDER BY ALL", params={"since": since}).pl()


def read_inputs(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None) -> dict[str, pl.DataFrame | None]:
    """The four small aggregates the mart is built from (None where the input table does not exist), over
    the whole history or from `since` on (new clients: those first seen from `since` on)."""
    frames = {name: aggregate_if_exists(con, table, sql, since or EPOCH) for name, (table, sql) in QUERIES.items()}
    return {k: (to_utc(v) if v is not None else None) for k, v in frames.items()}


def history_before(con: duckdb.DuckDBPyConnection, since: dt.datetime) -> History:
    """What the rows before `since` contribute to the mart's rows from `since` on."""
    parts = [sql for table, sql in FIRST_HOURS_SQL.items() if table_exists(con, table)]
    providers, first_hour, first_active = [], None, {}
    if parts:
        summary = con.sql(
            "SELECT provider, min(first_hour) AS first_hour, min(first_active) AS first_active "
            f"FROM ({' UNION ALL '.join(parts)}) GROUP BY provider ORDER BY provider"
        ).pl()
        summary = to_utc(summary)
        providers = summary["provider"].to_list()
        first_hour = summary["first_hour"].min() if summary.height else None
        first_active = {r["provider"]: r["first_active"] for r in summary.iter_rows(named=True)
                        if r["first_active"] is not None}
    ranks = None
    if table_exists(con, tables.APP_RANKS):
        ranks = con.sql(f"SELECT * FROM ({RANK_HISTORY_SQL}) ORDER BY ALL", params={"since": since}).pl()
    return History(since, providers, first_hour, first_active, ranks)
