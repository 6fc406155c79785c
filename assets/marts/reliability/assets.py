"""The marts.component_reliability asset: reads marts.incidents, calls `reliability_mart`, writes, checks."""

import dagster as dg
import polars as pl

from assets.marts.reliability.columns import RELIABILITY_COLUMNS
from assets.marts.reliability.components import COMPONENT_PROVIDER
from assets.marts.reliability.evidence import EVIDENCE_STATES
from assets.marts.reliability.inputs import read_status_inputs
from assets.marts.reliability.mart import reliability_mart
from assets.marts.reliability.window import PERIOD_ALL
from pipelines.core import tables
from pipelines.core.catalog_metadata import docs_of, table_metadata
from pipelines.core.column_docs import column_schema
from pipelines.core.quality import between, check_spec, in_set, start_check, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import replace_table
from pipelines.core.window import analysis_window

RELIABILITY_CHECK = "component_reliability_valid"


def reliability_expectations() -> list:
    return [
        unique_together("provider", "component", "period"),
        between("uptime_pct", 0, 100),
        between("incidents", 0, None),
        between("share_resolved_1h", 0, 1),
        in_set("evidence_state", EVIDENCE_STATES),
    ]


@dg.asset(
    key=tables.COMPONENT_RELIABILITY,
    deps=[tables.INCIDENTS, tables.STATUS_INCIDENTS, tables.STATUS_AFFECTED, tables.STATUS_COMPONENTS],
    group_name="marts",
    kinds={"duckdb", "polars"},
    metadata={"dagster/column_schema": column_schema(RELIABILITY_COLUMNS)},
    check_specs=[check_spec(RELIABILITY_CHECK, tables.COMPONENT_RELIABILITY, reliability_expectations())],
)
def component_reliability(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How reliable each provider and each of its status-page components was over the analysed window
    and in each month: incident count and rate, MTTR (mean/median/p90), MTBF, share fixed within 1 h/3 h,
    and uptime from a worst-status timeline under an explicit weighting policy (major 1.0, partial 0.3,
    degraded 0, maintenance excluded), with the partial-weight sensitivity columns and whether the
    provider ranking depends on that choice. A period without status-page evidence for a provider has
    null uptime and counts with the reason (evidence_state, uptime_missing_reason), never 100%; every row
    records the analysed window this run used (window_start, window_end). Column meanings: see the column schema
    (RELIABILITY_COLUMNS in assets/marts/reliability/columns.py) and the package docstring of
    assets/marts/reliability for the definitions.
    """
    config = workspace.providers()
    window = analysis_window(config, context.run.tags)
    window_start, window_end = window.start_ts, window.end_ts
    window_text = f"{window.start} .. {window.end} ({window.source})"
    with workspace.warehouse(read_only=True) as con:
        inputs = read_status_inputs(con)
    mart = reliability_mart(
        inputs.incidents, inputs.affected, window_start, window_end, config, snapshots=inputs.snapshots
    )
    check = start_check(RELIABILITY_CHECK, mart, reliability_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.COMPONENT_RELIABILITY, mart)
    overall = mart.filter((pl.col("component") == COMPONENT_PROVIDER) & (pl.col("period") == PERIOD_ALL))
    context.log.info("marts.component_reliability: %d rows for %d providers", mart.height, overall.height)
    for missing in overall.filter(pl.col("uptime_pct").is_null()).iter_rows(named=True):
        context.log.warning(
            "marts.component_reliability: no uptime for %s over %s: %s",
            missing["provider"],
            window_text,
            missing["uptime_missing_reason"],
        )
    return dg.MaterializeResult(
        metadata={
            **table_metadata(mart, docs_of(RELIABILITY_COLUMNS)),
            "rows": mart.height,
            "window": window_text,
            "provider_uptime_pct": dg.MetadataValue.json(
                {r["provider"]: r["uptime_pct"] for r in overall.iter_rows(named=True)}
            ),
            "ranking_changes_with_policy": bool(overall["ranking_changes_with_policy"].any()),
            "evidence_state": dg.MetadataValue.json(
                {r["provider"]: r["evidence_state"] for r in overall.iter_rows(named=True)}
            ),
        },
        check_results=[check.result()],
    )
