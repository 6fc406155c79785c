"""The marts.incident_reconciliation asset: reads the three marts, calls `reconcile`, writes, checks."""

import dagster as dg
import polars as pl

from assets.marts.reconciliation.reconcile import reconcile
from assets.marts.reconciliation.schema import CLASSIFICATIONS, RECONCILIATION_SCHEMA, ReconciliationParams
from pipelines.core import tables
from pipelines.core.column_docs import lists_as_text
from pipelines.core.quality import Expect, check_result, has_columns, in_set, not_null
from pipelines.core.resources import Workspace
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import read_table_if_exists, replace_table
from pipelines.core.window import analysis_window

RECONCILIATION_CHECK = "incident_reconciliation_is_well_formed"


def reconciliation_expectations() -> list:
    return [
        has_columns(*RECONCILIATION_SCHEMA),
        not_null("group_id"),
        not_null("provider"),
        not_null("started_at"),
        Expect("ExpectColumnValuesToBeUnique", {"column": "group_id"}),
        in_set("classification", CLASSIFICATIONS),
    ]


@dg.asset(
    key=tables.RECONCILIATION,
    deps=[tables.OUTAGE_EPISODES, tables.INCIDENTS, tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(RECONCILIATION_CHECK, asset=tables.RECONCILIATION, blocking=True)],
)
def incident_reconciliation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """One row per incident as triangulated from crowd reports, our telemetry and the vendor's status page.

    Columns: group_id (stable hash), provider, classification (matched | unreported_impact | vendor_only
    | severity_understated), started_at/ended_at (span of the group), sources, episode_ids,
    vendor_incident_ids, titles, vendor_impact (highest vendor impact), crowd_countries,
    triangulated_start (earliest credible signal), observed_started_at (earliest crowd/telemetry start),
    crowd_started_at, telemetry_started_at, vendor_started_at (vendor impact start), vendor_stated_start
    (the incident's own published start), clock_difference_minutes (vendor_stated_start -
    observed_started_at), vendor_first_post_at (first status update), crowd_lead_minutes and
    telemetry_lead_minutes (first post - that source's start), acknowledgement_lag_minutes (first post
    - triangulated start), vendor_resolved_at (vendor's resolution post; null while any incident is
    open), telemetry_recovered_at / crowd_recovered_at (end of our last episode of that source),
    resolution_lag_minutes (vendor resolved - telemetry recovered; positive = vendor late),
    observed_impact_minutes (minutes crowd or telemetry saw impact), under_reporting_minutes (of those,
    minutes no vendor incident covers), peak_error_ratio / peak_error_ratio_at (worst minute of our
    own requests in the span), peak_crowd_reports, posted_after_the_fact (any incident posted late),
    window_start / window_end (the analysed window this run used: only groups overlapping it are kept).
    """
    params = ReconciliationParams()
    window = analysis_window(workspace.providers(), context.run.tags)
    with workspace.warehouse() as con:
        frames = {}
        for table, columns in (
            (tables.OUTAGE_EPISODES, "*"),
            (tables.INCIDENTS, "*"),
            (tables.MINUTE_SLI, "provider, minute, requests, error_ratio"),
        ):
            frames[table] = read_table_if_exists(con, table, columns)
    for table, frame in frames.items():
        if frame is None:
            context.log.warning(f"{sql_name(table)} does not exist yet: reconciling without it")
            frames[table] = pl.DataFrame()
    result = reconcile(
        frames[tables.OUTAGE_EPISODES],
        frames[tables.INCIDENTS],
        frames[tables.MINUTE_SLI],
        params,
        window.start_ts,
        window.end_ts,
    )
    with workspace.warehouse() as con:
        replace_table(con, tables.RECONCILIATION, result)
    counts = {
        r["classification"]: r["len"] for r in result.group_by("classification").len().iter_rows(named=True)
    }
    return dg.MaterializeResult(
        metadata={
            "groups": result.height,
            "window": f"{window.start} .. {window.end} ({window.source})",
            "per_classification": dg.MetadataValue.json(counts),
            "under_reporting_minutes": int(result["under_reporting_minutes"].sum()) if result.height else 0,
        },
        check_results=[
            check_result(RECONCILIATION_CHECK, lists_as_text(result), reconciliation_expectations())
        ],
    )
