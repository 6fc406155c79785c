"""The marts.acknowledgement_lag asset: per provider, the vendor's delay after the impact users saw."""

import dagster as dg
import polars as pl

from assets.marts.reconciliation.ack_lag import ACK_LAG_COLUMNS, acknowledgement_lag
from pipelines.core import tables
from pipelines.core.catalog_metadata import docs_of, table_metadata
from pipelines.core.quality import between, check_spec, not_null, start_check, unique
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table
from pipelines.core.window import analysis_window

ACK_LAG_CHECK = "acknowledgement_lag_valid"


def ack_lag_expectations() -> list:
    return [
        not_null("provider"),
        unique("provider"),
        between("observed_impacts", 0, None),
        between("never_posted_impacts", 0, None),
        between("ack_lag_median_minutes", 0, None),
        between("ack_lag_graded_mean_minutes", 0, None),
    ]


@dg.asset(
    key=tables.ACKNOWLEDGEMENT_LAG,
    deps=[tables.RECONCILIATION],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(ACK_LAG_CHECK, tables.ACKNOWLEDGEMENT_LAG, ack_lag_expectations())],
)
def acknowledgement_lag_mart(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How late each provider's status page spoke after its users saw impact, over the analysed window:
    median and mean minutes from the crowd or telemetry start of an incident group to the vendor's first
    post, the impacts it never posted, and StatusGator's grading mean (never posted = 240 min) that the
    reports turn into an A-F grade. A provider without observed impacts has null lags. Columns:
    ACK_LAG_COLUMNS in assets/marts/reconciliation/ack_lag.py.
    """
    config = workspace.providers()
    window = analysis_window(config, context.run.tags)
    with workspace.warehouse(read_only=True) as con:
        groups = read_table_if_exists(con, tables.RECONCILIATION)
    if groups is None:
        raise dg.Failure("marts.incident_reconciliation does not exist yet: materialize it first")
    mart = acknowledgement_lag(groups, config.providers, window.start_ts, window.end_ts)
    check = start_check(ACK_LAG_CHECK, mart, ack_lag_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.ACKNOWLEDGEMENT_LAG, mart)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(mart, docs_of(ACK_LAG_COLUMNS)),
            "window": f"{window.start} .. {window.end} ({window.source})",
            "never_posted_impacts": int(mart["never_posted_impacts"].sum()),
            "median_lag_minutes": dg.MetadataValue.json(
                dict(
                    mart.filter(pl.col("ack_lag_median_minutes").is_not_null())
                    .select("provider", "ack_lag_median_minutes")
                    .iter_rows()
                )
            ),
        },
        check_results=[check.result()],
    )
