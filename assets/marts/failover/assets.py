"""The failover_simulation asset: read our minute SLI, replay it under each policy, write, check."""

import dagster as dg
import polars as pl

from assets.marts.failover.policies import POLICIES
from assets.marts.failover.replay import FAILOVER_SCHEMA, simulate_failover
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.cost_model import load_cost_model
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
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import read_table_if_exists, replace_table

FAILOVER_CHECK = "failover_simulation_is_well_formed"

FAILOVER_COLUMN_DOCS = {
    "policy": "none (no failover), cooldown or avoid_recent_outage (policies.py)",
    "provider": "the primary provider",
    "fallback_provider": "the provider requests are sent to instead (cost model `fallback`)",
    "minutes": "minutes with traffic to the primary",
    "requests": "our requests to the primary",
    "rerouted_minutes": "minutes the policy sent to the fallback",
    "rerouted_requests": "requests the policy sent to the fallback",
    "failed_requests": "expected provider errors (5xx, 529, timeouts) under the policy",
    "saved_requests": "failed requests under 'none' minus under this policy (negative = the policy lost some)",
    "downtime_cost_avoided_usd": "saved_requests x the value of a failed request (base scenario)",
    "downtime_cost_avoided_usd_low": "the same, low scenario",
    "downtime_cost_avoided_usd_high": "the same, high scenario",
    "extra_cost_usd": "rerouted_requests x the price difference per request (base scenario)",
    "extra_cost_usd_low": "the same, low scenario",
    "extra_cost_usd_high": "the same, high scenario",
    "extra_latency_ms": "mean fallback p50 - primary p50 over rerouted requests, ms",
    "correlated_failure_minutes": "minutes both vendors were above the threshold: no fallback could help",
    "correlated_failed_requests": "the primary's failed requests in those minutes",
    "fallback_minutes_without_data": "rerouted minutes without fallback traffic to measure",
    "cost_terms_source": "provider, or default when a side is priced with the cost model's defaults",
}
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
    check_specs=[check_spec(FAILOVER_CHECK, tables.FAILOVER, failover_expectations())],
)
def failover_simulation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Our request history replayed with a second vendor: requests saved, money saved and spent, latency
    added, and the correlated minutes no fallback could have saved, per failover policy and provider.
    Under 'none', failed_requests is the same count as marts.downtime_cost's provider_errors, and a
    saved request is priced as downtime_cost prices a failed one. Column meanings: see the column schema
    (FAILOVER_COLUMN_DOCS); policy semantics: assets/marts/failover/policies.py and replay.py.
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
    check = start_check(FAILOVER_CHECK, result, failover_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.FAILOVER, result)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(result, FAILOVER_COLUMN_DOCS),
            "rows": result.height,
            "saved_requests_by_policy": dg.MetadataValue.json(
                {
                    p: round(float(v), 1)
                    for p, v in result.group_by("policy").agg(pl.col("saved_requests").sum()).iter_rows()
                }
            ),
        },
        check_results=[check.result()],
    )
