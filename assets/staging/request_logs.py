"""staging.request_logs: our own API request logs as a day-partitioned Parquet lake with a DuckDB view.

Request logs are too large for a warehouse table, so each UTC day is one Parquet file under
`<data dir>/lake/request_logs/day=YYYY-MM-DD/part-0.parquet`, and `staging.request_logs` is a view over
all of them. A day is published atomically: it is written inside `lake/.tmp/` and renamed into place,
so a run killed mid-ingest leaves the previous version (or nothing) visible, never half a day, and a
rerun replaces the day instead of adding to it. Parsing happens in an in-memory DuckDB; the warehouse
is opened only at the end, to (re)create the view and record the refused lines.

Rows are stored in arrival order, not re-sorted: a sort by (provider, ts) would add about a quarter to
the ingest time, and gateway logs are written in time order, so Parquet row-group statistics on ts
already let day and hour filters skip most of a file.
"""

import datetime as dt
import os
import shutil
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.ingest.request_logs import LAKE_COLUMNS, SOURCE, DayResult, ProviderMapping, ingest_day
from assets.staging import raw
from pipelines.core.partitions import daily_partitions, single_run
from pipelines.core.quality import MAX_VALIDATED_ROWS, between, check_result, has_columns, in_set, not_null
from pipelines.core.quarantine import REJECTED_SCHEMA
from pipelines.core.resources import Workspace
from pipelines.core.settings import Settings, safe_path
from pipelines.core.warehouse import write_rejects

REQUEST_LOGS_KEY = ["staging", "request_logs"]
REQUEST_LOGS_CHECK = "request_logs_rows_valid"
VIEW = "staging.request_logs"
PART_FILE = "part-0.parquet"

# The view's columns: the partition day from the hive path, then the Parquet columns.
VIEW_COLUMNS: dict[str, str] = {"day": "DATE", **LAKE_COLUMNS}


def lake_root(settings: Settings) -> Path:
    # Anchored at the data dir: a lake/ or lake/request_logs symlink leading elsewhere is refused.
    return safe_path(settings.data_dir, "lake", "request_logs")


def partition_dir(settings: Settings, day: str) -> Path:
    dt.date.fromisoformat(day)  # a partition key is a date, nothing else
    return safe_path(lake_root(settings), f"day={day}")


def _tmp_root(settings: Settings) -> Path:
    # Inside lake/ (same file system, so rename is atomic) but outside lake/request_logs/, so the view's
    # glob never sees a file that is still being written.
    return safe_path(settings.data_dir, "lake", ".tmp")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_work(settings: Settings, day: str) -> None:
    """Delete what a killed run of this day left in lake/.tmp/ (a live run's folder is left alone)."""
    tmp = _tmp_root(settings)
    if not tmp.is_dir():
        return
    for leftover in tmp.glob(f"request_logs-{day}-*"):
        parts = leftover.name.split("-")
        pid = int(parts[-2]) if len(parts) >= 2 and parts[-2].isdigit() else -1
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(leftover, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_day_partition(
    settings: Settings, mapping: ProviderMapping, day: str, *, now: dt.datetime | None = None
) -> DayResult:
    """Ingest raw/request_logs/<day>/ and publish lake/request_logs/day=<day>/part-0.parquet atomically.

    A day without raw files has no partition (a previous one is removed), like a table partition that
    a rerun empties. Returns the day's counts and refused rows; the warehouse is not touched.
    """
    raw_day = safe_path(settings.data_dir, "raw", "request_logs", day)
    final_dir = partition_dir(settings, day)
    _remove_stale_work(settings, day)
    work = _tmp_root(settings) / f"request_logs-{day}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        staged = work / PART_FILE
        result = ingest_day(
            raw_day, day, staged, mapping, data_dir=settings.data_dir, now=now, work_dir=work / "scratch"
        )
        final = final_dir / PART_FILE
        if not result.files:
            shutil.rmtree(final_dir, ignore_errors=True)
        else:
            _fsync(staged)
            final_dir.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)  # atomic: readers see the old file or the new one, never a mix
            for other in final_dir.iterdir():  # files of an older layout would be read by the view too
                if other.name != PART_FILE:
                    other.unlink() if other.is_file() else shutil.rmtree(other, ignore_errors=True)
        result.output_path = final
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
        try:
            work.parent.rmdir()  # lake/.tmp goes away when no other run is using it
        except OSError:
            pass


def create_view(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """(Re)create staging.request_logs over the lake; an empty view of the same columns if no day exists.

    Returns whether any Parquet file backs the view.
    """
    row = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = 'staging' AND table_name = ?",
        [VIEW.split(".")[1]],
    ).fetchall()
    if row and row[0][0] == "BASE TABLE":
        con.execute(f"DROP TABLE {VIEW}")
    root = lake_root(settings)
    has_files = root.is_dir() and any(root.glob(f"day=*/{PART_FILE}"))
    columns = ", ".join(VIEW_COLUMNS)
    if has_files:
        # A view cannot hold bound parameters, so the (settings-derived, quote-escaped) glob is inlined.
        pattern = (root / "day=*" / "*.parquet").as_posix().replace("'", "''")
        source = f"read_parquet('{pattern}', hive_partitioning = true, hive_types = {{'day': DATE}})"
        con.execute(f"CREATE OR REPLACE VIEW {VIEW} AS SELECT {columns} FROM {source}")
    else:
        empty = ", ".join(f"NULL::{t} AS {c}" for c, t in VIEW_COLUMNS.items())
        con.execute(f"CREATE OR REPLACE VIEW {VIEW} AS SELECT {empty} WHERE false")
    return has_files


def check_frame(settings: Settings, days: list[str], max_rows: int = MAX_VALIDATED_ROWS) -> pl.DataFrame:
    """The days' accepted rows for the quality check (a repeatable random sample of max_rows if more)."""
    files = [str(partition_dir(settings, d) / PART_FILE) for d in days]
    files = [f for f in files if Path(f).is_file()]
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
            "SELECT DISTINCT file FROM quarantine.rejected_rows WHERE source = ? AND starts_with(file, ?)",
            [SOURCE, f"raw/request_logs/{day}/"],
        ).fetchall()
    return [r[0] for r in rows]


@dg.asset(
    key=REQUEST_LOGS_KEY,
    deps=[raw.request_logs],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="staging",
    kinds={"duckdb", "parquet"},
    check_specs=[
        dg.AssetCheckSpec(
            REQUEST_LOGS_CHECK,
            asset=REQUEST_LOGS_KEY,
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
    config = workspace.providers()
    mapping = ProviderMapping.from_config(config)
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
    check = check_result(
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
    return dg.MaterializeResult(
        metadata={
            "rows_in": sum(r.rows_in for r in results),
            "rows_accepted": sum(r.rows_accepted for r in results),
            "rows_quarantined": sum(r.rows_quarantined for r in results),
            "files": len(files),
            "bytes": sum(r.bytes for r in results),
            "lake_paths": dg.MetadataValue.json(
                [
                    r.output_path.relative_to(settings.data_dir).as_posix()
                    for r in results
                    if r.output_path.exists()
                ]
            ),
            "per_file": dg.MetadataValue.json(per_file),
        },
        check_results=[check],
    )
