"""staging.request_logs: our own API request logs as a day-partitioned Parquet lake with a DuckDB view.

Request logs are too large for a warehouse table, so each UTC day is one Parquet file under
`<data dir>/lake/request_logs/day=YYYY-MM-DD/part-0.parquet`, and `staging.request_logs` is a view over
all of them (pipelines.core.lake: atomic day publishing, the view). A raw file may hold several days and
sit in any day folder: rows go to the UTC day of their own timestamp, and a day is rebuilt from every
file holding rows of it (assets.ingest.request_logs.lake_days has the rule). Parsing happens in an
in-memory DuckDB; the warehouse is opened only at the end, to (re)create the view, replace the run's days
of staging.request_log_clients (each client's first request per day, so that "new client ids" never
reopens the whole lake) and record the refused lines.

Rows are stored in arrival order, not re-sorted: a sort by (provider, ts) would add about a quarter to
the ingest time, and gateway logs are written in time order, so Parquet row-group statistics on ts
already let day and hour filters skip most of a file.
"""

import datetime as dt

import dagster as dg
import duckdb
import polars as pl

from assets.ingest.request_logs import LAKE_COLUMNS, SOURCE, ProviderMapping
from assets.ingest.request_logs.clients import first_requests_by_day
from assets.ingest.request_logs.lake_days import LAKE, RunResult, write_days
from assets.staging import raw
from pipelines.core import tables
from pipelines.core.partitions import daily_partitions, single_run
from pipelines.core.quality import (
    MAX_VALIDATED_ROWS,
    Check,
    between,
    has_columns,
    in_set,
    not_null,
    start_check,
)
from pipelines.core.resources import Workspace
from pipelines.core.settings import Settings
from pipelines.core.step_order import INGEST_FIRST
from pipelines.core.warehouse import replace_table, replace_where, table_exists, write_rejects

REQUEST_LOGS_CHECK = "request_logs_rows_valid"

# The view's columns: the partition day from the hive path, then the Parquet columns.
VIEW_COLUMNS: dict[str, str] = {"day": "DATE", **LAKE_COLUMNS}


def write_day_partition(
    settings: Settings, mapping: ProviderMapping, day: str, *, now: dt.datetime | None = None
) -> RunResult:
    """Rebuild lake/request_logs/day=<day>/part-0.parquet from every raw file holding rows of that day."""
    return write_days(settings, mapping, [day], now=now)


def create_view(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """(Re)create staging.request_logs over the lake; returns whether any Parquet file backs it."""
    return LAKE.create_view(con, settings, tables.REQUEST_LOGS, VIEW_COLUMNS)


def check_frame(settings: Settings, days: list[str], max_rows: int = MAX_VALIDATED_ROWS) -> pl.DataFrame:
    """The days' accepted rows for the quality check: all of them, or every k-th row of each day's file.

    Every k-th row (by position in the file, k the smallest step that keeps at most max_rows) is a sample
    spread evenly over every day, every raw file and the whole of each day, the same on every rerun. It
    replaces a repeatable reservoir sample, which DuckDB draws on one thread: 0.9 s of 1 s at 2 M rows,
    against 0.1 s for this one parallel pass (the row counts come from the Parquet footers).
    """
    files = LAKE.part_files(settings, days)
    columns = {
        "day": pl.Date,
        "ts": pl.Datetime("us", "UTC"),
        "provider": pl.String,
        "status": pl.Int32,
        "latency_ms": pl.Float64,
        "ts_on_partition_day": pl.Boolean,
    }
    if not files:
        return pl.DataFrame(schema=columns)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        footers = con.execute("SELECT num_rows FROM parquet_file_metadata($files)", {"files": files}).fetchall()
        sizes = [n for (n,) in footers]
        step = max(-(-sum(sizes) // max_rows), 1)
        while step < max(sizes) and sum(-(-n // step) for n in sizes) > max_rows:  # n rows give ceil(n / step)
            step += 1
        frame = con.sql(
            "SELECT day, ts, provider, status, latency_ms, "
            "ts >= day::TIMESTAMPTZ AND ts < (day + 1)::TIMESTAMPTZ AS ts_on_partition_day "
            "FROM read_parquet($files, hive_partitioning = true, hive_types = {'day': DATE}, file_row_number = true) "
            "WHERE file_row_number % $step = 0",
            params={"files": files, "step": step},
        ).pl()
    return frame.cast(columns)


def _stale_reject_files(con: duckdb.DuckDBPyConnection, days: list[str]) -> list[str]:
    """Files of these days' folders quarantined by an earlier run (a file since removed loses its rejects)."""
    rows = con.execute(
        f"SELECT DISTINCT file FROM {tables.REJECTED_ROWS} WHERE source = ? AND split_part(file, '/', 3) IN "
        "(SELECT unnest(?))",
        [SOURCE, days],
    ).fetchall()
    return [r[0] for r in rows]


def publish_clients(
    con: duckdb.DuckDBPyConnection, settings: Settings, days: list[str], run_clients: pl.DataFrame
) -> None:
    """Replace the run's days of staging.request_log_clients with `run_clients` (their lake files' first
    requests; a day without a lake file keeps no rows), in one transaction; a warehouse without the table
    (built before it existed, or a first run) gets it built once from every lake day (the run's own days are
    `run_clients` already: not read twice)."""
    if table_exists(con, tables.REQUEST_LOG_CLIENTS):
        replace_where(con, tables.REQUEST_LOG_CLIENTS, run_clients, "day", [dt.date.fromisoformat(d) for d in days])
    else:
        earlier = first_requests_by_day(LAKE.part_files(settings, sorted(LAKE.existing_days(settings) - set(days))))
        every_day = pl.concat([earlier, run_clients]).sort("day", "provider", "client_id")
        replace_table(con, tables.REQUEST_LOG_CLIENTS, every_day)


@dg.asset(
    key=tables.REQUEST_LOGS,
    deps=[raw.request_logs],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="staging",
    op_tags=INGEST_FIRST,
    kinds={"duckdb", "parquet"},
    check_specs=[
        dg.AssetCheckSpec(
            REQUEST_LOGS_CHECK,
            asset=tables.REQUEST_LOGS,
            blocking=True,
            description="Accepted rows: HTTP status 100-599, latency >= 0, a configured provider, ts on the day",
        )
    ],
)
def request_logs(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Every API request our gateways logged, one row per request, partitioned by UTC day.

    Columns (view staging.request_logs over lake/request_logs/day=*/part-0.parquet):
    day: the UTC day of ts (whatever day folder the file sat in); ts: when the request was made (UTC);
    provider: provider key from the config (anthropic, openai, google); model: model name (null for
    access logs); endpoint: API path without provider prefix and query string; status: HTTP status
    code; latency_ms: time to response in milliseconds (null for access logs without request time);
    tokens_in / tokens_out: prompt and completion tokens (null for access logs); client_id: calling
    client (access logs: the authenticated user, else the IP); region: gateway region (null for access
    logs); error_type: provider error class, null when the request succeeded or the log has none;
    file: the raw file the row came from, relative to the data dir.
    Beside it, table staging.request_log_clients, rewritten for the run's days: day, provider, client_id,
    first_ts: the client's earliest request (ts) on that UTC day.
    Refused lines go to quarantine.rejected_rows (source request_logs) with line number and reason.
    """
    settings = workspace.settings
    mapping = ProviderMapping.from_config(workspace.providers())
    days = list(context.partition_keys)
    result = write_days(settings, mapping, days)
    context.log.info(
        f"request_logs {days[0]}..{days[-1]}: {len(result.files)} files read, {result.rows_in} rows in, "
        f"{result.rows_accepted} accepted, {result.rows_quarantined} quarantined"
    )
    if result.other_days:
        context.log.warning(
            f"the files read also hold rows of {len(result.other_days)} days outside this run "
            f"({', '.join(result.other_days)}); materialise those days to publish them"
        )
    # Both read the new lake files with DuckDB on every core; the suite then runs on the other core while the
    # warehouse is written (started before the clients' read, it slowed that read by as much as it ran).
    run_clients = first_requests_by_day(LAKE.part_files(settings, days))
    check = _rows_check(check_frame(settings, days), mapping)
    with workspace.warehouse() as con:
        create_view(con, settings)
        publish_clients(con, settings, days, run_clients)
        replaced = {f.file for f in result.files} | set(result.gone) | set(_stale_reject_files(con, days))
        write_rejects(con, SOURCE, sorted(replaced), result.rejects)
    return dg.MaterializeResult(
        metadata=_metadata(settings, result), check_results=[check.result()]
    )


def _rows_check(frame: pl.DataFrame, mapping: ProviderMapping) -> Check:
    return start_check(
        REQUEST_LOGS_CHECK,
        frame,
        [
            has_columns("day", "ts", "provider", "status", "latency_ms"),
            not_null("ts"),
            not_null("provider"),
            not_null("status"),
            between("status", 100, 599),
            between("latency_ms", min_value=0),
            in_set("provider", mapping.providers),
            in_set("ts_on_partition_day", [True]),
        ],
    )


def _metadata(settings: Settings, result: RunResult) -> dict:
    """Counts for the run, the lake files written, and what happened to each raw file read."""
    run = set(result.days)
    per_file = [
        {
            "file": f.file,
            "parser": f.parser,
            "rows_in": sum(n for d, n in f.rows_by_day.items() if d in run) + f.rows_quarantined,
            "accepted": sum(n for d, n in f.rows_by_day.items() if d in run),
            "quarantined": f.rows_quarantined,
            **({"days": f.rows_by_day} if set(f.rows_by_day) - run else {}),
            **({"error": f.error} if f.error else {}),
        }
        for f in result.files
    ]
    return {
        "rows_in": result.rows_in,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        "rows_on_other_days": dg.MetadataValue.json(result.other_days),
        "files": len(per_file),
        "bytes": result.bytes,
        "lake_paths": dg.MetadataValue.json([p.relative_to(settings.data_dir).as_posix() for p in result.lake_files]),
        "per_file": dg.MetadataValue.json(per_file),
    }
