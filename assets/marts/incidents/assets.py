"""The marts.incidents asset: reads staging, calls `incidents_mart`, writes the mart and checks it."""

import dagster as dg

from assets.marts.incidents.columns import INCIDENT_COLUMNS
from assets.marts.incidents.lifecycle import incidents_mart
from pipelines.core import tables
from pipelines.core.catalog_metadata import docs_of, table_metadata
from pipelines.core.column_docs import column_schema, lists_as_text
from pipelines.core.quality import between, check_spec, not_null, start_check, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

INCIDENTS_CHECK = "incidents_mart_valid"


def incidents_expectations() -> list:
    return [
        unique_together("provider", "incident_id"),
        not_null("provider"),
        not_null("incident_id"),
        not_null("started_at"),
        between("duration_minutes", 0, None),
    ]


@dg.asset(
    key=tables.INCIDENTS,
    deps=[tables.STATUS_INCIDENTS],
    group_name="marts",
    kinds={"duckdb", "polars"},
    metadata={"dagster/column_schema": column_schema(INCIDENT_COLUMNS)},
    check_specs=[check_spec(INCIDENTS_CHECK, tables.INCIDENTS, incidents_expectations())],
)
def incidents(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Every status-page incident of every provider with when it really started and ended, when the
    vendor acknowledged, identified, mitigated and resolved it, how long each stage took, which
    components and capabilities it hit, and whether the vendor only posted it after the fact.
    Column meanings: see the column schema (INCIDENT_COLUMNS in assets/marts/incidents/columns.py).
    """
    config = workspace.providers()
    with workspace.warehouse(read_only=True) as con:
        staged_incidents = read_table_if_exists(con, tables.STATUS_INCIDENTS)
        if staged_incidents is None:
            raise dg.Failure(
                "staging.status_incidents does not exist yet: materialize staging/status_incidents first"
            )
        staged_updates = read_table_if_exists(con, tables.STATUS_UPDATES)
        staged_affected = read_table_if_exists(con, tables.STATUS_AFFECTED)
    mart = incidents_mart(staged_incidents, staged_updates, staged_affected, config)
    check = start_check(INCIDENTS_CHECK, lists_as_text(mart), incidents_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.INCIDENTS, mart)
    context.log.info(
        "marts.incidents: %d incidents from %d staged rows", mart.height, staged_incidents.height
    )
    return dg.MaterializeResult(
        metadata={
            **table_metadata(mart, docs_of(INCIDENT_COLUMNS)),
            "rows": mart.height,
            "rows_in": staged_incidents.height,
            "stated_windows": int(mart["stated_window"].sum()),
            "posted_after_the_fact": int(mart["posted_after_the_fact"].sum()),
            "unresolved": int(mart["resolved_at"].null_count()),
        },
        check_results=[check.result()],
    )
