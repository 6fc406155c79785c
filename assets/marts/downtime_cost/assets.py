"""The downtime_cost asset: read reconciliation, incidents and minute SLI, price them, write, check."""

import datetime as dt

import dagster as dg
import polars as pl

from assets.marts.downtime_cost.mart import build_downtime_cost
from assets.marts.downtime_cost.schema import DOWNTIME_COST_SCHEMA, IMPACT_BASES, LEVELS, TERMS_SOURCES
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.cost_model import SCENARIOS, load_cost_model
from pipelines.core.minute_sli import PROVIDER_ERROR_COLUMNS
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

DOWNTIME_COST_CHECK = "downtime_cost_is_well_formed"
SLI_COLUMNS = f"provider, minute, requests, {', '.join(PROVIDER_ERROR_COLUMNS)}"
CATEGORIES = ("api", "consumer_app", "coding_agent")

DOWNTIME_COST_COLUMN_DOCS = {
    "level": "incident (one incident group), month (provider and month) or provider (the whole window)",
    "scenario": "low, base or high figures of the cost model",
    "provider": "provider key from the config",
    "month": "UTC month of month rows; null on provider rows",
    "group_id": "the incident group (marts.incident_reconciliation) of incident rows",
    "incident_id": "the group's first vendor incident, for joining to marts.incidents",
    "incident_ids": "the group's vendor incidents",
    "classification": "the group's reconciliation classification",
    "window_start": "start of the incident's span (UTC)",
    "window_end": "end of the incident's span (UTC)",
    "impacted_minutes": "length of the incident's span, minutes",
    "capabilities": "capability categories the incident hit",
    "window_requests": "our requests to the provider in the span",
    "failed_requests": "the provider's errors among them; null without requests",
    "observed_error_ratio": "failed_requests / window_requests",
    "crowd_minutes": "minutes the crowd reported the outage",
    "crowd_outage_share": "assumed share of seats blocked while the crowd reports it",
    "telemetry_outage_minutes": "impacted_minutes x observed_error_ratio: full-outage minutes our telemetry saw",
    "crowd_outage_minutes": "crowd_minutes x crowd_outage_share",
    "outage_equivalent_minutes": "the larger of telemetry and crowd outage minutes (null without evidence)",
    "impact_basis": "telemetry, crowd, or no_evidence (not priced: cost null)",
    "incidents_priced": "month and provider rows: incidents with observed impact",
    "incidents_without_evidence": "month and provider rows: incidents not priced for lack of evidence",
    "value_per_failed_request_usd": "what one failed request costs us, USD",
    "cost_terms_source": "provider, or default when priced with the cost model's defaults block",
    "assumptions": "the figures behind the price, in words",
    "failed_request_value_usd": "failed_requests x value_per_failed_request_usd",
    "retry_tokens": "billed tokens burnt by client retries of failed requests",
    "retry_token_cost_usd": "retry_tokens x the token price",
    **{f"impacted_minutes_{c}": f"outage-equivalent minutes of the {c} category" for c in CATEGORIES},
    **{
        f"productivity_loss_{c}_usd": f"{c} seats x loaded hourly cost x loss fraction x those hours, USD"
        for c in CATEGORIES
    },
    "productivity_loss_usd": "sum of the productivity losses, USD",
    "total_cost_usd": "failed-request value + retries + productivity loss, USD",
    "requests": "month and provider rows: our requests to the provider",
    "provider_errors": "month and provider rows: the provider's failures (5xx, 529, timeouts)",
    "availability_pct": "month and provider rows: 100 x (1 - provider_errors / requests)",
    "sla_credit_pct": "SLA credit for that availability, percent of the month's spend",
    "monthly_spend_usd": "our spend with the provider in a month, USD",
    "sla_credit_usd": "credit the provider owes for the month, USD",
    "net_cost_usd": "total_cost_usd - sla_credit_usd",
}


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
    check_specs=[check_spec(DOWNTIME_COST_CHECK, tables.DOWNTIME_COST, downtime_expectations())],
)
def downtime_cost(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """What downtime cost us, per incident group, per provider and month, and per provider, for the low,
    base and high scenarios of the cost model (data/config/cost_model.yaml). The price follows the impact
    we observed (our failed requests, crowd reports), never the vendor's label alone: an incident
    without evidence is not priced (cost null), never $0. Column meanings: see the column schema
    (DOWNTIME_COST_COLUMN_DOCS); formulas: assets/marts/downtime_cost/windows.py, impact.py, terms.py.
    """
    settings = workspace.settings
    model = load_cost_model(settings.cost_model_path)
    recon, incidents, sli = _read_inputs(context, workspace)
    seen = {p for frame in (recon, sli) if frame.height for p in frame["provider"].unique().to_list()}
    model.check_covers(seen, settings.cost_model_path)
    result = build_downtime_cost(recon, incidents, sli, model)
    check = start_check(DOWNTIME_COST_CHECK, _checkable(result), downtime_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.DOWNTIME_COST, result)
    base = result.filter((pl.col("level") == "provider") & (pl.col("scenario") == "base"))
    return dg.MaterializeResult(
        metadata={
            **table_metadata(result, DOWNTIME_COST_COLUMN_DOCS),
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
        check_results=[check.result()],
    )
