"""staging.crowd_reports: Downdetector-style user reports per time bucket, service and country, in UTC."""

import datetime as dt

import dagster as dg
import polars as pl

from assets.ingest.crowd_reports.days import configured_services, parse_crowd_days
from assets.ingest.crowd_reports.schema import SOURCE, STAGING_SCHEMA
from assets.staging import raw
from pipelines.core import tables
from pipelines.core.partitions import daily_partitions, single_run
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import replace_day_partitions

CROWD_REPORTS_CHECK = "crowd_reports_valid"


@dg.asset(
    key=tables.CROWD_REPORTS,
    deps=[raw.crowd_reports],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="staging",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(CROWD_REPORTS_CHECK, asset=tables.CROWD_REPORTS, blocking=True)],
)
def crowd_reports(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """User problem reports per time bucket, service and country (Downdetector-style exports).

    One row per accepted record of raw/crowd_reports/<day>/; refused records go to quarantine.rejected_rows.
    - partition_day: the raw folder's UTC day (the partition the row is replaced with)
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
    )
    with workspace.warehouse() as con:
        replace_day_partitions(
            con, tables.CROWD_REPORTS, SOURCE, days, parsed.accepted, parsed.files, parsed.rejects
        )
    context.log.info(parsed.summary("crowd reports", days))
    return dg.MaterializeResult(
        metadata={
            **parsed.counts(days),
            "schema_drift": dg.MetadataValue.json(parsed.schema_drift),
            "quarantine_reasons": dg.MetadataValue.json(_reason_counts(parsed.rejects)),
        },
        check_results=[crowd_reports_check(parsed.accepted, countries)],
    )


def crowd_reports_check(accepted: pl.DataFrame, countries: list[str]) -> dg.AssetCheckResult:
    """Blocking: nothing flows on with a negative count, a row outside its day or an unknown country."""
    frame = accepted.with_columns(
        (pl.col("ts").dt.date() - pl.col("partition_day")).dt.total_days().alias("ts_days_from_partition")
    )
    return check_result(
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
