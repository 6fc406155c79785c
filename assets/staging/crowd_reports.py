"""staging.crowd_reports: Downdetector-style user reports per time bucket, service and country, in UTC."""

import datetime as dt
from collections.abc import Sequence

import dagster as dg
import duckdb
import polars as pl

from assets.ingest.crowd_reports.days import configured_services, parse_crowd_days
from assets.ingest.crowd_reports.schema import SOURCE, STAGING_SCHEMA
from assets.ingest.day_sources import DayParse
from assets.staging import raw
from pipelines.core import tables
from pipelines.core.partitions import FIRST_DAY, daily_partitions, single_run
from pipelines.core.quality import Check, between, has_columns, in_set, not_null, start_check
from pipelines.core.quarantine import REJECTED_SCHEMA
from pipelines.core.resources import Workspace
from pipelines.core.step_order import INGEST_FIRST
from pipelines.core.warehouse import replace_where

CROWD_REPORTS_CHECK = "crowd_reports_valid"


@dg.asset(
    key=tables.CROWD_REPORTS,
    deps=[raw.crowd_reports],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="staging",
    op_tags=INGEST_FIRST,
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(
        CROWD_REPORTS_CHECK, asset=tables.CROWD_REPORTS, blocking=True,
        description="Great Expectations suite; bad data stops the run:\n- all declared columns present\n"
                    "- `ts`, `service`, `country`, `reports` never null\n- `reports`, `baseline` >= 0\n"
                    "- every row's `ts` on its partition day\n- `country` one of the configured countries")],
)
def crowd_reports(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """User problem reports per time bucket, service and country (Downdetector-style exports).

    One row per accepted record of raw/crowd_reports/<any day>/ whose timestamp falls on the partition's UTC
    day (an export may span days and sit in any day folder); refused records go to quarantine.rejected_rows.
    - partition_day: the UTC day of ts (the partition the row is replaced with)
    - ts: start of the time bucket, UTC; ts_text: the timestamp exactly as exported, with its own offset
    - service: service name (configured spelling for our services, as exported for others)
    - provider: our provider key for the service (null for other services)
    - country: lower-case 2-letter country code (one of the configured countries)
    - reports: user reports in the bucket (>= 0); baseline: the export's expected level (nullable)
    - problem_type: lower-case kind of problem (login, app, website, api, ...; nullable)
    - file, record_no: where the row came from (path under the data dir, 1-based data row / line)
    """
    days = list(context.partition_keys)
    config = workspace.providers()
    countries = [c.lower() for c in config.app_store.countries]
    parsed = parse_crowd_days(
        workspace.settings.data_dir,
        days,
        configured_services(config),
        countries,
        dt.datetime.now(dt.UTC),
        FIRST_DAY,
    )
    check = crowd_reports_check(parsed.accepted, countries)
    write_day_parse(workspace, tables.CROWD_REPORTS, SOURCE, days, parsed)
    context.log.info(parsed.summary("crowd reports", days))
    return dg.MaterializeResult(
        metadata={
            **parsed.counts(days),
            "schema_drift": dg.MetadataValue.json(parsed.schema_drift),
            "quarantine_reasons": dg.MetadataValue.json(_reason_counts(parsed.rejects)),
        },
        check_results=[check.result()],
    )


def write_day_parse(
    workspace: Workspace, table: dg.AssetKey, source: str, days: Sequence[str], parsed: DayParse
) -> None:
    """Replace the run's days of `table` and exactly the quarantine rows of the records placed on them, then
    save the file index. Rejects of files changed or removed since they were indexed go too (their records
    may have moved); a run that read nothing and saw no change never opens the warehouse."""
    if parsed.touches_warehouse:
        with workspace.warehouse() as con:
            replace_where(con, table, parsed.accepted, "partition_day", [dt.date.fromisoformat(d) for d in days])
            _replace_rejects(con, source, parsed)
    if parsed.index is not None:
        parsed.index.save()


def _replace_rejects(con: duckdb.DuckDBPyConnection, source: str, parsed: DayParse) -> None:
    con.register("_charged", parsed.charged)
    con.register("_rejects", parsed.rejects.select([pl.col(c).cast(t) for c, t in REJECTED_SCHEMA.items()]))
    try:
        con.execute("BEGIN")
        con.execute(
            "DELETE FROM quarantine.rejected_rows AS r WHERE r.source = ? AND (r.file IN (SELECT unnest(?)) "
            "OR EXISTS (SELECT 1 FROM _charged AS c WHERE c.file = r.file AND c.record_no = r.record_no))",
            [source, list(parsed.outdated)],
        )
        con.execute("INSERT INTO quarantine.rejected_rows BY NAME SELECT * FROM _rejects")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_charged")
        con.unregister("_rejects")


def crowd_reports_check(accepted: pl.DataFrame, countries: list[str]) -> Check:
    """Blocking: nothing flows on with a negative count, a row outside its day or an unknown country."""
    frame = accepted.with_columns(
        (pl.col("ts").dt.date() - pl.col("partition_day")).dt.total_days().alias("ts_days_from_partition")
    )
    return start_check(
        CROWD_REPORTS_CHECK,
        frame,
        [
            has_columns(*STAGING_SCHEMA),
            not_null("ts"),
            not_null("service"),
            not_null("country"),
            not_null("reports"),
            between("reports", 0, None),
            between("baseline", 0, None),
            between("ts_days_from_partition", 0, 0),
            in_set("country", countries),
        ],
    )


def _reason_counts(rejects: pl.DataFrame, top: int = 10) -> dict[str, int]:
    """Most frequent quarantine reasons, by the field they name (text before the first colon)."""
    if rejects.is_empty():
        return {}
    kinds = rejects.select(pl.col("reason").str.split(":").list.first().alias("field"))["field"]
    return dict(kinds.value_counts(sort=True).head(top).iter_rows())
