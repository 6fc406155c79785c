"""The migration_signals asset: read the hourly aggregates, build the signals, write, check."""

import dagster as dg
import polars as pl

from assets.marts.migration.inputs import history_before, read_inputs
from assets.marts.migration.schema import COLUMN_DOCS, GRAINS, MIGRATION_SCHEMA
from assets.marts.migration.signals import LOOK_BACK, build_migration_signals
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.quality import (
    between,
    check_spec,
    has_columns,
    in_set,
    not_null,
    start_check,
    unique_together,
)
from pipelines.core.resources import Workspace
from pipelines.core.since import recompute_start, replace_since, rows_since

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

    A run naming its window rewrites the rows from the window's start on, from the inputs of the 10 days
    before it on (LOOK_BACK) plus what the whole history adds (inputs.history_before: the grid's providers
    and start, first active hours, days at #1); earlier rows stay as written (see `since`).
    """
    window_start = recompute_start(workspace.providers(), context.run.tags)
    since = window_start - LOOK_BACK if window_start is not None else None
    with workspace.warehouse() as con:
        inputs = read_inputs(con, since)
        history = history_before(con, since) if since is not None else None
    for name, frame in inputs.items():
        if frame is None:
            context.log.warning(
                f"migration_signals: input for {name} does not exist yet; its columns stay empty"
            )
    result = build_migration_signals(
        inputs["traffic"], inputs["first_seen"], inputs["crowd"], inputs["ranks"], history
    )
    result = rows_since(result, "period_start", window_start)
    check = start_check(MIGRATION_CHECK, _checkable(result), migration_expectations())
    with workspace.warehouse() as con:
        replace_since(con, tables.MIGRATION_SIGNALS, result, "period_start", window_start)
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
        check_results=[check.result()],
    )
