"""The failover_simulation asset: read our minute SLI, replay it under each policy, write, check."""

import dagster as dg
import polars as pl

from assets.marts.failover.policies import POLICIES
from assets.marts.failover.replay import FAILOVER_SCHEMA, simulate_failover
from pipelines.core import tables
from pipelines.core.cost_model import load_cost_model
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import read_table_if_exists, replace_table

FAILOVER_CHECK = "failover_simulation_is_well_formed"
SLI_COLUMNS = (
    "provider, minute, requests, errors_5xx, errors_529, errors_429, timeouts, error_ratio, latency_p50_ms"
)


def failover_expectations() -> list:
    return [
        has_columns(*FAILOVER_SCHEMA),
        not_null("provider"),
        in_set("policy", POLICIES),
        in_set("cost_terms_source", ("provider", "default")),
        unique_together("policy", "provider"),
        between("requests", 0, None),
        between("failed_requests", 0, None),
        between("rerouted_requests", 0, None),
        between("correlated_failure_minutes", 0, None),
    ]


@dg.asset(
    key=tables.FAILOVER,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(FAILOVER_CHECK, asset=tables.FAILOVER, blocking=True)],
)
def failover_simulation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Our request history replayed with a second vendor: requests saved, money saved and spent, latency
    added, and the correlated minutes no fallback could have saved, per failover policy and provider.

    Columns: policy (none | cooldown | avoid_recent_outage), provider (primary), fallback_provider,
    minutes / requests (primary's traffic), rerouted_minutes / rerouted_requests, failed_requests (expected
    provider errors - 5xx, 529, timeouts - under the policy; under 'none' the same count as
    marts.downtime_cost's provider_errors), saved_requests (vs 'none'), downtime_cost_avoided_usd[_low|_high]
    (saved x value of a failed request, as downtime_cost prices it), extra_cost_usd[_low|_high] (rerouted x
    price difference per request),
    extra_latency_ms (mean fallback p50 - primary p50 over rerouted requests), correlated_failure_minutes /
    correlated_failed_requests (both vendors above the threshold in the same minute),
    fallback_minutes_without_data (rerouted minutes in which we had no fallback traffic to measure),
    cost_terms_source (default when a side is priced with the cost model's `defaults` block).
    Policy semantics: assets/marts/failover/policies.py and replay.py.
    """
    settings = workspace.settings
    model = load_cost_model(settings.cost_model_path)
    with workspace.warehouse() as con:
        sli = read_table_if_exists(con, tables.MINUTE_SLI, SLI_COLUMNS)
    if sli is None:
        context.log.warning(
            f"{sql_name(tables.MINUTE_SLI)} does not exist yet: failover_simulation will be empty"
        )
        sli = pl.DataFrame()
    if sli.height:
        model.check_covers(sli["provider"].unique().to_list(), settings.cost_model_path)
    result = simulate_failover(sli, model)
    with workspace.warehouse() as con:
        replace_table(con, tables.FAILOVER, result)
    return dg.MaterializeResult(
        metadata={
            "rows": result.height,
            "saved_requests_by_policy": dg.MetadataValue.json(
                {
                    p: round(float(v), 1)
                    for p, v in result.group_by("policy").agg(pl.col("saved_requests").sum()).iter_rows()
                }
            ),
        },
        check_results=[check_result(FAILOVER_CHECK, result, failover_expectations())],
    )
