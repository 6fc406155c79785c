"""The migration_signals asset: read the hourly aggregates, build the signals, write, check."""

import dagster as dg
import polars as pl

from assets.marts.migration.inputs import read_inputs
from assets.marts.migration.schema import COLUMN_DOCS, GRAINS, MIGRATION_SCHEMA
from assets.marts.migration.signals import build_migration_signals
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.quality import (
    between,
    check_result,
    check_spec,
    has_columns,
    in_set,
    not_null,
    unique_together,
)
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import replace_table

MIGRATION_CHECK = "migration_signals_are_well_formed"


def migration_expectations() -> list:
    return [
        has_columns(*MIGRATION_SCHEMA),
        not_null("grain"),
        not_null("provider"),
        not_null("period_start"),
        in_set("grain", GRAINS),
        unique_together("grain", "provider", "period_start", "country", "chart"),
        between("traffic_share", 0, 1),
        between("crowd_share", 0, 1),
        between("best_rank", 1, None),
        between("requests", 0, None),
        between("new_clients", 0, None),
    ]


def _checkable(frame: pl.DataFrame) -> pl.DataFrame:
    # GX's compound-uniqueness check skips rows with a null in the key; provider rows have null country/chart
    return frame.with_columns(pl.col("country", "chart").fill_null("-"))


def _max_growth_by_provider(hourly: pl.DataFrame) -> dict[str, float | None]:
    return {
        p: (round(float(v), 1) if v is not None else None)
        for p, v in hourly.group_by("provider").agg(pl.col("growth_48h_pct").max()).iter_rows()
    }


@dg.asset(
    key=tables.MIGRATION_SIGNALS,
    deps=[tables.MINUTE_SLI, tables.REQUEST_LOGS, tables.CROWD_REPORTS, tables.APP_RANKS],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(MIGRATION_CHECK, tables.MIGRATION_SIGNALS, migration_expectations())],
)
def migration_signals(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Signals that users are moving between providers, hourly and daily: our own traffic and its growth,
    new client ids, crowd-report share and App Store ranks.

    Columns (details and formulas in assets/marts/migration/signals.py):
    grain, provider, period_start, country, chart (rank rows only), requests, traffic_share,
    requests_baseline_7d, growth_pct, requests_week_ago, growth_48h_pct, new_clients, crowd_reports,
    crowd_share, best_rank, rank_change_1d, rank_change_7d (positive = moved up), days_at_1,
    first_day_at_1, warm_up.
    """
    with workspace.warehouse() as con:
        inputs = read_inputs(con)
    for name, frame in inputs.items():
        if frame is None:
            context.log.warning(
                f"migration_signals: input for {name} does not exist yet; its columns stay empty"
            )
    result = build_migration_signals(
        inputs["traffic"], inputs["first_seen"], inputs["crowd"], inputs["ranks"]
    )
    with workspace.warehouse() as con:
        replace_table(con, tables.MIGRATION_SIGNALS, result)
    hourly = result.filter(pl.col("grain") == "hour")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(result, COLUMN_DOCS),
            "rows": result.height,
            "hourly_rows": hourly.height,
            "rank_rows": result.filter(pl.col("country").is_not_null()).height,
            "providers": dg.MetadataValue.json(sorted(result["provider"].unique().to_list())),
            "max_growth_48h_pct": dg.MetadataValue.json(_max_growth_by_provider(hourly)),
        },
        check_results=[check_result(MIGRATION_CHECK, _checkable(result), migration_expectations())],
    )
