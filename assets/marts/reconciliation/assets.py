"""The marts.incident_reconciliation asset: reads the three marts, calls `reconcile`, writes, checks."""

import dagster as dg
import polars as pl

from assets.marts.reconciliation.reconcile import reconcile
from assets.marts.reconciliation.schema import CLASSIFICATIONS, RECONCILIATION_SCHEMA, ReconciliationParams
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.column_docs import lists_as_text
from pipelines.core.quality import Expect, check_spec, has_columns, in_set, not_null, start_check
from pipelines.core.resources import Workspace
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import read_table_if_exists, replace_table
from pipelines.core.window import analysis_window

RECONCILIATION_CHECK = "incident_reconciliation_is_well_formed"

RECONCILIATION_COLUMN_DOCS = {
    "group_id": "stable hash of the incident group",
    "provider": "provider key from the config",
    "classification": "matched, unreported_impact, vendor_only or severity_understated",
    "started_at": "start of the group's span (UTC)",
    "ended_at": "end of the group's span (UTC)",
    "sources": "evidence sources that saw it: crowd, telemetry, status",
    "episode_ids": "marts.outage_episodes ids in the group",
    "vendor_incident_ids": "the vendor's status-page incident ids in the group",
    "titles": "the vendor incidents' titles",
    "vendor_impact": "highest impact the vendor stated",
    "crowd_countries": "countries whose crowd reports saw it",
    "triangulated_start": "earliest credible signal from any source (UTC)",
    "observed_started_at": "earliest crowd or telemetry start (UTC)",
    "crowd_started_at": "start of the first crowd episode (UTC)",
    "telemetry_started_at": "start of the first telemetry episode (UTC)",
    "vendor_started_at": "the vendor's impact start (UTC)",
    "vendor_stated_start": "the start the incident itself published (UTC)",
    "clock_difference_minutes": "vendor_stated_start - observed_started_at, minutes",
    "vendor_first_post_at": "first status-page update (UTC)",
    "crowd_lead_minutes": "vendor_first_post_at - crowd_started_at (positive = users noticed first)",
    "telemetry_lead_minutes": "vendor_first_post_at - telemetry_started_at (positive = we noticed first)",
    "acknowledgement_lag_minutes": "vendor_first_post_at - triangulated_start, minutes",
    "vendor_resolved_at": "the vendor's resolution post (UTC); null while any incident is open",
    "telemetry_recovered_at": "end of our last telemetry episode in the group (UTC)",
    "crowd_recovered_at": "end of the last crowd episode in the group (UTC)",
    "resolution_lag_minutes": "vendor_resolved_at - telemetry_recovered_at (positive = vendor late)",
    "observed_impact_minutes": "minutes crowd or telemetry saw impact",
    "under_reporting_minutes": "of those, minutes no vendor incident covers",
    "peak_error_ratio": "worst minute error ratio of our own requests in the span",
    "peak_error_ratio_at": "that minute (UTC)",
    "peak_crowd_reports": "most crowd reports in one bin of the span",
    "posted_after_the_fact": "a vendor incident of the group was posted after it ended",
    "window_start": "start of the analysed window this run used (UTC)",
    "window_end": "end of the analysed window this run used, exclusive (UTC)",
}


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
    check_specs=[check_spec(RECONCILIATION_CHECK, tables.RECONCILIATION, reconciliation_expectations())],
)
def incident_reconciliation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """One row per incident as triangulated from crowd reports, our telemetry and the vendor's status page:
    when users and we saw it, when the vendor admitted and resolved it, and what the vendor never
    reported. Only groups overlapping the analysed window are kept. Column meanings: see the column
    schema (RECONCILIATION_COLUMN_DOCS).
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
    check = start_check(RECONCILIATION_CHECK, lists_as_text(result), reconciliation_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.RECONCILIATION, result)
    counts = {
        r["classification"]: r["len"] for r in result.group_by("classification").len().iter_rows(named=True)
    }
    return dg.MaterializeResult(
        metadata={
            **table_metadata(result, RECONCILIATION_COLUMN_DOCS),
            "groups": result.height,
            "window": f"{window.start} .. {window.end} ({window.source})",
            "per_classification": dg.MetadataValue.json(counts),
            "under_reporting_minutes": int(result["under_reporting_minutes"].sum()) if result.height else 0,
        },
        check_results=[check.result()],
    )
