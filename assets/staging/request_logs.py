"""staging.request_logs: our own API request logs as a day-partitioned Parquet lake with a DuckDB view.

Request logs are too large for a warehouse table, so each UTC day is one Parquet file under
`<data dir>/lake/request_logs/day=YYYY-MM-DD/part-0.parquet`, and `staging.request_logs` is a view over
all of them (pipelines.core.lake: atomic day publishing, the view). Parsing happens in an in-memory
DuckDB; the warehouse is opened only at the end, to (re)create the view and record the refused lines.

Rows are stored in arrival order, not re-sorted: a sort by (provider, ts) would add about a quarter to
the ingest time, and gateway logs are written in time order, so Parquet row-group statistics on ts
already let day and hour filters skip most of a file.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.ingest.request_logs import LAKE_COLUMNS, SOURCE, DayResult, ProviderMapping, ingest_day
from assets.staging import raw
from pipelines.core import tables
from pipelines.core.lake import DayLake
from pipelines.core.partitions import daily_partitions, single_run
from pipelines.core.quality import MAX_VALIDATED_ROWS, between, check_result, has_columns, in_set, not_null
from pipelines.core.quarantine import REJECTED_SCHEMA
from pipelines.core.resources import Workspace
from pipelines.core.settings import Settings, safe_path
from pipelines.core.warehouse import write_rejects

REQUEST_LOGS_CHECK = "request_logs_rows_valid"
LAKE = DayLake(SOURCE)

# The view's columns: the partition day from the hive path, then the Parquet columns.
VIEW_COLUMNS: dict[str, str] = {"day": "DATE", **LAKE_COLUMNS}


def write_day_partition(
    settings: Settings, mapping: ProviderMapping, day: str, *, now: dt.datetime | None = None
) -> DayResult:
    """Ingest raw/request_logs/<day>/ and publish lake/request_logs/day=<day>/part-0.parquet atomically.

    A day without raw files has no partition (a previous one is removed), like a table partition that
    a rerun empties. Returns the day's counts and refused rows; the warehouse is not touched.
    """
    raw_day = safe_path(settings.data_dir, "raw", SOURCE, day)

    def ingest(staged: Path, scratch: Path) -> DayResult:
        result = ingest_day(raw_day, day, staged, mapping, data_dir=settings.data_dir, now=now, work_dir=scratch)
        if not result.files:
            staged.unlink(missing_ok=True)  # no raw files: the day has no partition
        return result

    result, final = LAKE.publish_day(settings, day, ingest)
    result.output_path = final
    return result


def create_view(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """(Re)create staging.request_logs over the lake; returns whether any Parquet file backs it."""
    return LAKE.create_view(con, settings, tables.REQUEST_LOGS, VIEW_COLUMNS)


def check_frame(settings: Settings, days: list[str], max_rows: int = MAX_VALIDATED_ROWS) -> pl.DataFrame:
    """The days' accepted rows for the quality check (a repeatable random sample of max_rows if more)."""
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
        query = (
            "SELECT day, ts, provider, status, latency_ms, "
            "ts >= day::TIMESTAMPTZ AND ts < (day + 1)::TIMESTAMPTZ AS ts_on_partition_day "
            "FROM read_parquet($files, hive_partitioning = true, hive_types = {'day': DATE})"
        )
        total = con.execute(f"SELECT count(*) FROM ({query})", {"files": files}).fetchall()[0][0]
        if total > max_rows:
            query += f" USING SAMPLE reservoir({int(max_rows)} ROWS) REPEATABLE (42)"
        frame = con.sql(query, params={"files": files}).pl()
    return frame.cast(columns)


def _stale_reject_files(con: duckdb.DuckDBPyConnection, days: list[str]) -> list[str]:
    """Files quarantined by an earlier run of these days (so a file since removed loses its rejects too)."""
    rows = []
    for day in days:
        rows += con.execute(
            f"SELECT DISTINCT file FROM {tables.REJECTED_ROWS} WHERE source = ? AND starts_with(file, ?)",
            [SOURCE, f"raw/{SOURCE}/{day}/"],
        ).fetchall()
    return [r[0] for r in rows]


@dg.asset(
    key=tables.REQUEST_LOGS,
    deps=[raw.request_logs],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="staging",
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
    day: the UTC day of the raw folder the row came from; ts: when the request was made (UTC);
    provider: provider key from the config (anthropic, openai, google); model: model name (null for
    access logs); endpoint: API path without provider prefix and query string; status: HTTP status
    code; latency_ms: time to response in milliseconds (null for access logs without request time);
    tokens_in / tokens_out: prompt and completion tokens (null for access logs); client_id: calling
    client (access logs: the authenticated user, else the IP); region: gateway region (null for access
    logs); error_type: provider error class, null when the request succeeded or the log has none;
    file: the raw file the row came from, relative to the data dir.
    Refused lines go to quarantine.rejected_rows (source request_logs) with line number and reason.
    """
    settings = workspace.settings
    mapping = ProviderMapping.from_config(workspace.providers())
    days = list(context.partition_keys)
    results = []
    for day in days:  # one day at a time: each uses both cores and bounded memory
        result = write_day_partition(settings, mapping, day)
        context.log.info(
            f"request_logs {day}: {len(result.files)} files, {result.rows_in} rows in, "
            f"{result.rows_accepted} accepted, {result.rows_quarantined} quarantined"
        )
        results.append(result)
    rejects = pl.concat([r.rejects for r in results]) if results else pl.DataFrame(schema=REJECTED_SCHEMA)
    files = [f.file for r in results for f in r.files]
    frame = check_frame(settings, days)
    with workspace.warehouse() as con:
        create_view(con, settings)
        write_rejects(con, SOURCE, sorted(set(files) | set(_stale_reject_files(con, days))), rejects)
    return dg.MaterializeResult(
        metadata=_metadata(settings, results), check_results=[_rows_check(frame, mapping)]
    )


def _rows_check(frame: pl.DataFrame, mapping: ProviderMapping) -> dg.AssetCheckResult:
    return check_result(
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


def _metadata(settings: Settings, results: list[DayResult]) -> dict:
    """Counts for the run, the lake files written, and what happened to each raw file."""
    per_file = [
        {
            "file": f.file,
            "parser": f.parser,
            "rows_in": f.rows_in,
            "accepted": f.rows_accepted,
            "quarantined": f.rows_quarantined,
            **({"error": f.error} if f.error else {}),
        }
        for r in results
        for f in r.files
    ]
    return {
        "rows_in": sum(r.rows_in for r in results),
        "rows_accepted": sum(r.rows_accepted for r in results),
        "rows_quarantined": sum(r.rows_quarantined for r in results),
        "files": len(per_file),
        "bytes": sum(r.bytes for r in results),
        "lake_paths": dg.MetadataValue.json(
            [r.output_path.relative_to(settings.data_dir).as_posix() for r in results if r.output_path.exists()]
        ),
        "per_file": dg.MetadataValue.json(per_file),
    }
