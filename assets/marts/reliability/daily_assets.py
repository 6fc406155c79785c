"""The marts.component_daily_uptime asset: the status-page uptime of every component on every UTC day."""

import dagster as dg
import polars as pl

from assets.marts.reliability.columns import DAILY_UPTIME_COLUMNS
from assets.marts.reliability.components import COMPONENT_PROVIDER
from assets.marts.reliability.daily import daily_uptime_mart
from assets.marts.reliability.evidence import EVIDENCE_STATES, NO_EVIDENCE
from assets.marts.reliability.inputs import read_status_inputs
from pipelines.core import tables
from pipelines.core.catalog_metadata import docs_of, table_metadata
from pipelines.core.quality import between, check_spec, in_set, start_check, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import replace_table
from pipelines.core.window import analysis_window

DAILY_UPTIME_CHECK = "component_daily_uptime_valid"


def daily_uptime_expectations() -> list:
    return [
        unique_together("provider", "component", "day"),
        between("uptime_pct", 0, 100),
        between("evidence_minutes", 0, 1440),
        in_set("evidence_state", EVIDENCE_STATES),
    ]


@dg.asset(
    key=tables.COMPONENT_DAILY_UPTIME,
    deps=[tables.INCIDENTS, tables.STATUS_INCIDENTS, tables.STATUS_AFFECTED, tables.STATUS_COMPONENTS],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(DAILY_UPTIME_CHECK, tables.COMPONENT_DAILY_UPTIME, daily_uptime_expectations())],
)
def component_daily_uptime(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """The uptime of each provider and status-page component on each UTC day of the analysed window, the
    day's worst status and whether the status page covered it: what a status page draws as its 90-day
    uptime bars. Same timeline, evidence window and weights as marts.component_reliability (so a day's
    weighted down minutes add up to the window's); a day without status-page evidence has null uptime
    and worst status (evidence_state 'no_evidence'), never 100%. Columns: DAILY_UPTIME_COLUMNS in
    assets/marts/reliability/columns.py.
    """
    config = workspace.providers()
    window = analysis_window(config, context.run.tags)
    with workspace.warehouse(read_only=True) as con:
        inputs = read_status_inputs(con)
    mart = daily_uptime_mart(
        inputs.incidents, inputs.affected, window.start_ts, window.end_ts, config, snapshots=inputs.snapshots
    )
    check = start_check(DAILY_UPTIME_CHECK, mart, daily_uptime_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.COMPONENT_DAILY_UPTIME, mart)
    providers = mart.filter(pl.col("component") == COMPONENT_PROVIDER)
    days_without = providers.filter(pl.col("evidence_state") == NO_EVIDENCE).group_by("provider").len()
    return dg.MaterializeResult(
        metadata={
            **table_metadata(mart, docs_of(DAILY_UPTIME_COLUMNS)),
            "window": f"{window.start} .. {window.end} ({window.source})",
            "days_without_evidence": dg.MetadataValue.json(dict(days_without.sort("provider").iter_rows())),
        },
        check_results=[check.result()],
    )
