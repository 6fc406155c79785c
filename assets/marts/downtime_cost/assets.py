"""The downtime_cost asset: read reconciliation, incidents and minute SLI, price them, write, check."""

import datetime as dt

import dagster as dg
import polars as pl

from assets.marts.downtime_cost.mart import build_downtime_cost
from assets.marts.downtime_cost.schema import DOWNTIME_COST_SCHEMA, IMPACT_BASES, LEVELS, TERMS_SOURCES
from pipelines.core import tables
from pipelines.core.cost_model import SCENARIOS, load_cost_model
from pipelines.core.minute_sli import PROVIDER_ERROR_COLUMNS
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import read_table_if_exists, replace_table

DOWNTIME_COST_CHECK = "downtime_cost_is_well_formed"
SLI_COLUMNS = f"provider, minute, requests, {', '.join(PROVIDER_ERROR_COLUMNS)}"


def downtime_expectations() -> list:
    return [
        has_columns(*DOWNTIME_COST_SCHEMA),
        not_null("provider"),
        in_set("level", LEVELS),
        in_set("scenario", SCENARIOS),
        unique_together("level", "scenario", "provider", "month", "group_id"),
        in_set("impact_basis", IMPACT_BASES),
        in_set("cost_terms_source", TERMS_SOURCES),
        not_null("cost_terms_source"),
        between("total_cost_usd", 0, None),
        between("failed_requests", 0, None),
        between("observed_error_ratio", 0, 1),
        between("sla_credit_pct", 0, 100),
        between("availability_pct", 0, 100),
    ]


def _checkable(frame: pl.DataFrame) -> pl.DataFrame:
    # compound uniqueness with nulls: month is null on provider rows, group_id off incident rows
    return frame.with_columns(
        pl.col("group_id").fill_null("-"), pl.col("month").fill_null(dt.date(1970, 1, 1))
    )


def _read_inputs(
    context: dg.AssetExecutionContext, workspace: Workspace
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Reconciliation, incidents and minute SLI (empty frames, with a warning, where not written yet)."""
    with workspace.warehouse() as con:
        frames = {
            tables.RECONCILIATION: read_table_if_exists(con, tables.RECONCILIATION),
            tables.INCIDENTS: read_table_if_exists(con, tables.INCIDENTS),
            tables.MINUTE_SLI: read_table_if_exists(con, tables.MINUTE_SLI, SLI_COLUMNS),
        }
    for table, frame in frames.items():
        if frame is None:
            context.log.warning(f"{sql_name(table)} does not exist yet: downtime_cost is built without it")
    recon, incidents, sli = (f if f is not None else pl.DataFrame() for f in frames.values())
    return recon, incidents, sli


@dg.asset(
    key=tables.DOWNTIME_COST,
    deps=[tables.RECONCILIATION, tables.INCIDENTS, tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(DOWNTIME_COST_CHECK, asset=tables.DOWNTIME_COST, blocking=True)],
)
def downtime_cost(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """What downtime cost us, per incident group, per provider and month, and per provider, for the low,
    base and high scenarios of the cost model (data/config/cost_model.yaml). The price follows the impact
    we observed (our failed requests, crowd reports), never the vendor's label alone.

    Columns: level (incident | month | provider), scenario (low | base | high), provider, month (UTC
    month; null on provider rows), group_id / classification (incident rows), window_start /
    window_end / impacted_minutes (the incident's span), incident_ids (the group's vendor incidents) and
    incident_id (the first of them, for joining to marts.incidents), capabilities (categories hit);
    observed impact: window_requests (our requests in the window), failed_requests (provider errors in
    them; null without requests), observed_error_ratio, crowd_minutes (minutes the crowd reported it),
    crowd_outage_share (assumed share of seats blocked then), telemetry_outage_minutes /
    crowd_outage_minutes / outage_equivalent_minutes (minutes of full outage observed), impact_basis
    (telemetry | crowd | no_evidence: not priced, cost null); money: value_per_failed_request_usd,
    failed_request_value_usd, retry_tokens, retry_token_cost_usd, impacted_minutes_<api|consumer_app|
    coding_agent> (outage-equivalent minutes per category hit), productivity_loss_<category>_usd (seats x
    loaded hourly cost x loss fraction x those hours), productivity_loss_usd, total_cost_usd (value +
    retries + productivity); cost_terms_source (provider | default: priced with the cost model's
    `defaults` block); assumptions (the figures in words, for the page); month and provider rows:
    incidents_priced / incidents_without_evidence, requests / provider_errors / availability_pct (from
    our own requests), sla_credit_pct, monthly_spend_usd, sla_credit_usd (credit the provider owes for
    the month), net_cost_usd (total - credits).
    Formulas: assets/marts/downtime_cost/windows.py, impact.py and terms.py.
    """
    settings = workspace.settings
    model = load_cost_model(settings.cost_model_path)
    recon, incidents, sli = _read_inputs(context, workspace)
    seen = set(recon["provider"].to_list() if recon.height else []) | set(
        sli["provider"].to_list() if sli.height else []
    )
    model.check_covers(seen, settings.cost_model_path)
    result = build_downtime_cost(recon, incidents, sli, model)
    with workspace.warehouse() as con:
        replace_table(con, tables.DOWNTIME_COST, result)
    base = result.filter((pl.col("level") == "provider") & (pl.col("scenario") == "base"))
    return dg.MaterializeResult(
        metadata={
            "rows": result.height,
            "incident_groups": result.filter(
                (pl.col("level") == "incident") & (pl.col("scenario") == "base")
            ).height,
            "base_net_cost_usd_by_provider": dg.MetadataValue.json(
                {p: round(float(v), 2) for p, v in base.select("provider", "net_cost_usd").iter_rows()}
            ),
            "incidents_without_evidence": int(
                result.filter((pl.col("level") == "incident") & (pl.col("scenario") == "base"))
                .filter(pl.col("impact_basis") == "no_evidence")
                .height
            ),
            "providers_on_default_terms": dg.MetadataValue.json(
                sorted(set(result.filter(pl.col("cost_terms_source") == "default")["provider"].to_list()))
            ),
            "cost_model": str(settings.cost_model_path),
        },
        check_results=[check_result(DOWNTIME_COST_CHECK, _checkable(result), downtime_expectations())],
    )
