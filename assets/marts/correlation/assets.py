"""The migration_correlation and load_error_curve assets: read, call the pure builders, write, check."""

import dagster as dg
import polars as pl

from assets.marts.correlation.mart import CORRELATION_SCHEMA, build_migration_correlation
from assets.marts.correlation.saturation import LOAD_CURVE_SCHEMA, N_DECILES, build_load_error_curve
from assets.marts.correlation.significance import CorrelationParams
from assets.marts.correlation.span import lagged_span
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.quality import between, check_spec, has_columns, not_null, start_check, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.since import read_since
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import read_table_if_exists, replace_table
from pipelines.core.window import analysis_window

CORRELATION_CHECK = "migration_correlation_is_well_formed"
LOAD_CURVE_CHECK = "load_error_curve_is_well_formed"
SLI_COLUMNS = "provider, minute, requests, errors_5xx, errors_529, errors_429, timeouts"

CORRELATION_COLUMN_DOCS = {
    "provider": "provider key from the config",
    "signal": "migration signal: traffic_growth, new_clients, rank_improvement or crowd_share",
    "error_series": "error_5xx_ratio, error_529_ratio, error_429_ratio or timeout_ratio",
    "lag_hours": "the lags of the profile, -72..+72 h (lag > 0 = errors follow the signal)",
    "pearson_r_by_lag": "request-weighted Pearson r at each lag (hour weights capped at the median hour)",
    "spearman_rho_by_lag": "Spearman rho at each lag",
    "best_lag_hours": "the lag with the largest |pearson_r|",
    "pearson_r": "Pearson r at best_lag_hours",
    "spearman_rho": "Spearman rho at best_lag_hours",
    "pairs": "hours used",
    "r_ci_low": "95% moving-block bootstrap interval of pearson_r, low end",
    "r_ci_high": "95% moving-block bootstrap interval of pearson_r, high end",
    "p_value": "moving-block surrogate test of max |r| over all lags: (1 + hits) / (1 + surrogates)",
    "significant": "p_value < 0.05",
    "n_permutations": "surrogates drawn for p_value",
    "n_bootstrap": "bootstrap resamples drawn for the interval",
    "sentence": "the finding in words",
}
LOAD_CURVE_COLUMN_DOCS = {
    "provider": "provider key from the config",
    "load_decile": "1 = the quietest tenth of minutes, 10 = the busiest",
    "minutes": "minutes in the decile",
    "requests": "requests in those minutes",
    "failed_requests": "the provider's failures in them: 5xx + 529 + timeouts",
    "load_min_rpm": "lowest load of the decile, requests per minute",
    "load_max_rpm": "highest load of the decile, requests per minute",
    "load_mean_rpm": "mean load of the decile, requests per minute",
    "error_ratio": "failed_requests / requests",
    "lower_half_median_error_ratio": "median error ratio of deciles 1-5",
    "saturation_decile": "first upper-half decile above max(2 x that median, 0.001); null if none",
    "saturation_load_rpm": "the load where that decile starts, requests per minute",
    "hinge_load_rpm": "hinge of a piecewise-linear fit of error ratio on load (a second opinion)",
    "hinge_slope_per_rpm": "error-ratio slope above the hinge, per request per minute",
    "above_saturation": "this decile is at or above the saturation decile",
}


def correlation_expectations() -> list:
    return [
        has_columns(*(c for c, t in CORRELATION_SCHEMA.items() if not isinstance(t, pl.List))),
        not_null("provider"),
        not_null("sentence"),
        unique_together("provider", "signal", "error_series"),
        between("pearson_r", -1, 1),
        between("spearman_rho", -1, 1),
        between("p_value", 0, 1),
        between("best_lag_hours", -72, 72),
    ]


def load_curve_expectations() -> list:
    return [
        has_columns(*LOAD_CURVE_SCHEMA),
        not_null("provider"),
        unique_together("provider", "load_decile"),
        between("load_decile", 1, N_DECILES),
        between("error_ratio", 0, 1),
    ]


def _checkable(frame: pl.DataFrame) -> pl.DataFrame:
    # the lag profiles are long lists: the suite checks the scalar columns
    return frame.select([c for c, t in CORRELATION_SCHEMA.items() if not isinstance(t, pl.List)])


@dg.asset(
    key=tables.MIGRATION_CORRELATION,
    deps=[tables.MIGRATION_SIGNALS, tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(CORRELATION_CHECK, tables.MIGRATION_CORRELATION, correlation_expectations())],
)
def migration_correlation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Do error rates follow user migration? One row per provider x migration signal x error series:
    the hourly correlation profile over lags of -72..+72 h, the best lag, its bootstrap interval and a
    surrogate significance test, so thin hours at low traffic do not drown or fake the signal.
    Over the analysed window widened by the largest lag (72 h) on both sides (`lagged_span`), so a daily run
    reads a week, not the whole history. Column meanings: see the column schema (CORRELATION_COLUMN_DOCS).
    """
    params = CorrelationParams()
    span = lagged_span(analysis_window(workspace.providers(), context.run.tags), params.max_lag_hours)
    with workspace.warehouse() as con:
        signals = read_since(con, tables.MIGRATION_SIGNALS, "*", "period_start", *(span or (None, None)))
        sli = read_since(con, tables.MINUTE_SLI, SLI_COLUMNS, "minute", *(span or (None, None)))
    for table, frame in ((tables.MIGRATION_SIGNALS, signals), (tables.MINUTE_SLI, sli)):
        if frame is None:
            context.log.warning(f"{sql_name(table)} does not exist yet: migration_correlation will be empty")
    result = build_migration_correlation(
        signals if signals is not None else pl.DataFrame(), sli if sli is not None else pl.DataFrame(), params
    )
    check = start_check(CORRELATION_CHECK, _checkable(result), correlation_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.MIGRATION_CORRELATION, result)
    significant = result.filter(pl.col("significant")).sort(pl.col("pearson_r").abs(), descending=True)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(result, CORRELATION_COLUMN_DOCS),
            "pairs": result.height,
            "significant_pairs": significant.height,
            "top_findings": dg.MetadataValue.json(
                [f"{r['provider']}: {r['sentence']}" for r in significant.head(5).iter_rows(named=True)]
            ),
        },
        check_results=[check.result()],
    )


@dg.asset(
    key=tables.LOAD_ERROR_CURVE,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(LOAD_CURVE_CHECK, tables.LOAD_ERROR_CURVE, load_curve_expectations())],
)
def load_error_curve(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How each provider's error ratio grows with our load: ten load deciles and a saturation point
    (the load above which errors at least double). Column meanings: see the column schema
    (LOAD_CURVE_COLUMN_DOCS).
    """
    with workspace.warehouse() as con:
        sli = read_table_if_exists(con, tables.MINUTE_SLI, SLI_COLUMNS)
    if sli is None:
        context.log.warning(
            f"{sql_name(tables.MINUTE_SLI)} does not exist yet: load_error_curve will be empty"
        )
        sli = pl.DataFrame()
    result = build_load_error_curve(sli)
    check = start_check(LOAD_CURVE_CHECK, result, load_curve_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.LOAD_ERROR_CURVE, result)
    saturation = result.group_by("provider").agg(pl.col("saturation_load_rpm").first()).sort("provider")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(result, LOAD_CURVE_COLUMN_DOCS),
            "rows": result.height,
            "saturation_load_rpm": dg.MetadataValue.json(dict(saturation.iter_rows())),
        },
        check_results=[check.result()],
    )
