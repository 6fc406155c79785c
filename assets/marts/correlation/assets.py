"""The migration_correlation and load_error_curve assets: read, call the pure builders, write, check."""

import dagster as dg
import polars as pl

from assets.marts.correlation.mart import CORRELATION_SCHEMA, build_migration_correlation
from assets.marts.correlation.saturation import LOAD_CURVE_SCHEMA, N_DECILES, build_load_error_curve
from assets.marts.correlation.significance import CorrelationParams
from pipelines.core import tables
from pipelines.core.quality import between, check_result, has_columns, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import read_table_if_exists, replace_table

CORRELATION_CHECK = "migration_correlation_is_well_formed"
LOAD_CURVE_CHECK = "load_error_curve_is_well_formed"
SLI_COLUMNS = "provider, minute, requests, errors_5xx, errors_529, errors_429, timeouts"


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
    check_specs=[dg.AssetCheckSpec(CORRELATION_CHECK, asset=tables.MIGRATION_CORRELATION, blocking=True)],
)
def migration_correlation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Do error rates follow user migration? One row per provider x migration signal x error series.

    Columns: provider; signal (traffic_growth, new_clients, rank_improvement, crowd_share); error_series
    (error_5xx_ratio, error_529_ratio, error_429_ratio, timeout_ratio); lag_hours / pearson_r_by_lag /
    spearman_rho_by_lag (the profile at lags -72..+72 h, lag > 0 = errors follow the signal; Pearson
    weights each hour's error ratio by its requests, capped at the median hour, so thin hours do not
    drown the signal at low traffic); best_lag_hours (largest |r|); pearson_r and spearman_rho at that
    lag; pairs (hours used); r_ci_low / r_ci_high (95 % moving-block bootstrap CI); p_value
    (moving-block surrogate test of max |r| over all lags, (1 + hits) / (1 + surrogates)); significant
    (p < 0.05); n_permutations, n_bootstrap; sentence (the finding in words).
    """
    params = CorrelationParams()
    with workspace.warehouse() as con:
        signals = read_table_if_exists(con, tables.MIGRATION_SIGNALS)
        sli = read_table_if_exists(con, tables.MINUTE_SLI, SLI_COLUMNS)
    for table, frame in ((tables.MIGRATION_SIGNALS, signals), (tables.MINUTE_SLI, sli)):
        if frame is None:
            context.log.warning(f"{sql_name(table)} does not exist yet: migration_correlation will be empty")
    result = build_migration_correlation(
        signals if signals is not None else pl.DataFrame(), sli if sli is not None else pl.DataFrame(), params
    )
    with workspace.warehouse() as con:
        replace_table(con, tables.MIGRATION_CORRELATION, result)
    significant = result.filter(pl.col("significant")).sort(pl.col("pearson_r").abs(), descending=True)
    return dg.MaterializeResult(
        metadata={
            "pairs": result.height,
            "significant_pairs": significant.height,
            "top_findings": dg.MetadataValue.json(
                [f"{r['provider']}: {r['sentence']}" for r in significant.head(5).iter_rows(named=True)]
            ),
        },
        check_results=[check_result(CORRELATION_CHECK, _checkable(result), correlation_expectations())],
    )


@dg.asset(
    key=tables.LOAD_ERROR_CURVE,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(LOAD_CURVE_CHECK, asset=tables.LOAD_ERROR_CURVE, blocking=True)],
)
def load_error_curve(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How each provider's error ratio grows with our load: ten load deciles and a saturation point.

    Columns: provider; load_decile (1 = quietest tenth of minutes); minutes; requests; failed_requests
    (5xx + 529 + timeouts); load_min_rpm / load_max_rpm / load_mean_rpm (requests per minute in the
    decile); error_ratio (failed / requests); lower_half_median_error_ratio (median of deciles 1-5);
    saturation_decile / saturation_load_rpm (first upper-half decile above max(2 x that median, 0.001));
    hinge_load_rpm / hinge_slope_per_rpm (piecewise-linear fit, second opinion); above_saturation.
    """
    with workspace.warehouse() as con:
        sli = read_table_if_exists(con, tables.MINUTE_SLI, SLI_COLUMNS)
    if sli is None:
        context.log.warning(
            f"{sql_name(tables.MINUTE_SLI)} does not exist yet: load_error_curve will be empty"
        )
        sli = pl.DataFrame()
    result = build_load_error_curve(sli)
    with workspace.warehouse() as con:
        replace_table(con, tables.LOAD_ERROR_CURVE, result)
    saturation = result.group_by("provider").agg(pl.col("saturation_load_rpm").first()).sort("provider")
    return dg.MaterializeResult(
        metadata={
            "rows": result.height,
            "saturation_load_rpm": dg.MetadataValue.json(dict(saturation.iter_rows())),
        },
        check_results=[check_result(LOAD_CURVE_CHECK, result, load_curve_expectations())],
    )
