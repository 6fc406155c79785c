"""marts.downtime_cost: what each incident, provider and month cost us, in scenarios low/base/high.

Inputs: marts.incident_reconciliation (one row per incident group), marts.incidents (capabilities of
each vendor incident), marts.provider_minute_sli (our requests per minute) and the cost model file
(data/config/cost_model.yaml, pipelines/core/cost_model.py).

Per incident group (level 'incident'; group_id, plus incident_ids = the group's vendor incidents and
incident_id = the first of them, null for a group no vendor incident covers):
- window_start = triangulated_start; window_end = the later of vendor_resolved_at and
  telemetry_recovered_at (else the group's ended_at when the mart has it, else window_start).
  impacted_minutes = window_end - window_start.
- failed_requests = provider errors (errors_5xx + errors_529 + timeouts; our own 429/4xx excluded) in the
  SLI minutes that start inside [window_start, window_end).
- failed_request_value_usd = failed_requests x failed_request_value_usd[request_category].
- retry_tokens = failed_requests x retries_per_failed_request x tokens_per_retry;
  retry_token_cost_usd = retry_tokens / 1000 x the provider's token_price_usd_per_1k.
- capabilities = union of the capabilities of the group's vendor incidents (marts.incidents); a group
  no vendor incident covers gets 'api' when our telemetry saw it (telemetry_recovered_at set) and
  'consumer_app' when crowd reports did (when the reconciliation lists its sources).
  impacted_minutes_<cat> = impacted_minutes for each such category (api, consumer_app, coding_agent).
- productivity_loss_<cat>_usd = seats[provider][cat] x loaded_hourly_cost_usd[cat]
  x productivity_loss_fraction[cat] x impacted_minutes_<cat> / 60.
- total_cost_usd = failed_request_value_usd + retry_token_cost_usd + productivity_loss_usd.
Per provider and month (level 'month'): the sums of its incidents starting that month, plus the SLA:
availability_pct = 100 x (1 - provider errors / requests) over the month's SLI minutes; sla_credit_pct =
the largest tier whose availability_below_pct the month is below; sla_credit_usd = monthly_spend_usd x
sla_credit_pct / 100 (money the provider owes us back); net_cost_usd = total_cost_usd - sla_credit_usd.
Per provider (level 'provider'): the sums over its months; availability_pct over all its minutes.
"""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl

from assets.marts.migration import utc_columns
from pipelines.core.cost_model import CATEGORIES, SCENARIOS, CostModel, load_cost_model
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

DOWNTIME_COST_TABLE = "marts.downtime_cost"
RECONCILIATION_TABLE = "marts.incident_reconciliation"
INCIDENTS_TABLE = "marts.incidents"
MINUTE_SLI_TABLE = "marts.provider_minute_sli"
DOWNTIME_COST_CHECK = "downtime_cost_is_well_formed"

UTC = pl.Datetime("us", "UTC")
LEVELS = ("incident", "month", "provider")
PROVIDER_ERRORS = ("errors_5xx", "errors_529", "timeouts")

DOWNTIME_COST_SCHEMA = {
    "level": pl.String,
    "scenario": pl.String,
    "provider": pl.String,
    "month": pl.Date,
    "group_id": pl.String,
    "incident_id": pl.String,
    "incident_ids": pl.List(pl.String),
    "classification": pl.String,
    "window_start": UTC,
    "window_end": UTC,
    "impacted_minutes": pl.Float64,
    "capabilities": pl.List(pl.String),
    "failed_requests": pl.Int64,
    "failed_request_value_usd": pl.Float64,
    "retry_tokens": pl.Float64,
    "retry_token_cost_usd": pl.Float64,
    **{f"impacted_minutes_{c}": pl.Float64 for c in CATEGORIES},
    **{f"productivity_loss_{c}_usd": pl.Float64 for c in CATEGORIES},
    "productivity_loss_usd": pl.Float64,
    "total_cost_usd": pl.Float64,
    "requests": pl.Int64,
    "provider_errors": pl.Int64,
    "availability_pct": pl.Float64,
    "sla_credit_pct": pl.Float64,
    "monthly_spend_usd": pl.Float64,
    "sla_credit_usd": pl.Float64,
    "net_cost_usd": pl.Float64,
}

SUMMED = [
    "impacted_minutes",
    "failed_requests",
    "failed_request_value_usd",
    "retry_tokens",
    "retry_token_cost_usd",
    *[f"impacted_minutes_{c}" for c in CATEGORIES],
    *[f"productivity_loss_{c}_usd" for c in CATEGORIES],
    "productivity_loss_usd",
    "total_cost_usd",
]


def _list_column(frame: pl.DataFrame, *names: str) -> pl.Expr:
    for name in names:
        if name in frame.columns:
            return pl.col(name).cast(pl.List(pl.String))
    return pl.lit([], pl.List(pl.String))


def incident_windows(reconciliation: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """One row per group: provider, window, impacted minutes and the capabilities it hit."""
    recon = utc_columns(reconciliation)
    end = pl.max_horizontal("vendor_resolved_at", "telemetry_recovered_at")
    if "ended_at" in recon.columns:
        end = pl.coalesce(end, pl.col("ended_at"))
    windows = recon.select(
        "group_id",
        "provider",
        (pl.col("classification") if "classification" in recon.columns else pl.lit(None, pl.String)).alias(
            "classification"
        ),
        pl.col("triangulated_start").alias("window_start"),
        pl.coalesce(end, pl.col("triangulated_start")).alias("window_end"),
        _list_column(recon, "vendor_incident_ids", "incident_ids").alias("incident_ids"),
        _list_column(recon, "sources").alias("sources"),
        pl.col("telemetry_recovered_at").is_not_null().alias("telemetry_saw_it"),
    ).filter(pl.col("window_start").is_not_null())
    windows = windows.with_columns(
        window_end=pl.max_horizontal("window_start", "window_end"),
    ).with_columns(impacted_minutes=(pl.col("window_end") - pl.col("window_start")).dt.total_seconds() / 60.0)

    if incidents.is_empty() or "capabilities" not in incidents.columns:
        caps = pl.DataFrame(schema={"group_id": pl.String, "vendor_capabilities": pl.List(pl.String)})
    else:
        caps = (
            windows.select("group_id", "provider", "incident_ids")
            .explode("incident_ids")
            .join(
                incidents.select("provider", pl.col("incident_id").alias("incident_ids"), "capabilities"),
                on=["provider", "incident_ids"],
                how="inner",
            )
            .explode("capabilities")
            .group_by("group_id")
            .agg(pl.col("capabilities").drop_nulls().unique().sort().alias("vendor_capabilities"))
        )
    fallback = pl.concat_list(
        pl.when(pl.col("telemetry_saw_it")).then(pl.lit(["api"])).otherwise(pl.lit([], pl.List(pl.String))),
        pl.when(pl.col("sources").list.contains("crowd"))
        .then(pl.lit(["consumer_app"]))
        .otherwise(pl.lit([], pl.List(pl.String))),
    )
    windows = windows.join(caps, on="group_id", how="left").with_columns(
        capabilities=pl.when(pl.col("vendor_capabilities").list.len() > 0)
        .then(pl.col("vendor_capabilities"))
        .otherwise(fallback)
        .list.unique()
        .list.sort()
    )
    return windows.select(
        "group_id",
        "provider",
        pl.col("incident_ids").list.first().alias("incident_id"),
        "incident_ids",
        "classification",
        "window_start",
        "window_end",
        "impacted_minutes",
        "capabilities",
    )


def failed_requests_in_windows(windows: pl.DataFrame, minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Provider errors in SLI minutes starting inside each [window_start, window_end): cumulative sums."""
    out = []
    sli = (
        utc_columns(minute_sli).with_columns(provider_errors=pl.sum_horizontal(*PROVIDER_ERRORS))
        if (not minute_sli.is_empty())
        else None
    )
    for (provider,), part in windows.group_by("provider", maintain_order=True):
        counts = np.zeros(part.height, dtype=np.int64)
        if sli is not None:
            minutes = sli.filter(pl.col("provider") == provider).sort("minute")
            if minutes.height:
                t = minutes["minute"].dt.epoch("us").to_numpy()
                cum = np.concatenate([[0], np.cumsum(minutes["provider_errors"].to_numpy())])
                lo = np.searchsorted(t, part["window_start"].dt.epoch("us").to_numpy(), side="left")
                hi = np.searchsorted(t, part["window_end"].dt.epoch("us").to_numpy(), side="left")
                counts = cum[hi] - cum[lo]
        out.append(pl.DataFrame({"group_id": part["group_id"], "failed_requests": counts}))
    if not out:
        return pl.DataFrame(schema={"group_id": pl.String, "failed_requests": pl.Int64})
    return pl.concat(out)


def monthly_availability(minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Per provider and UTC month: requests, provider errors and availability_pct from our own requests."""
    if minute_sli.is_empty():
        return pl.DataFrame(
            schema={
                "provider": pl.String,
                "month": pl.Date,
                "requests": pl.Int64,
                "provider_errors": pl.Int64,
            }
        )
    return (
        utc_columns(minute_sli)
        .group_by("provider", month=pl.col("minute").dt.truncate("1mo").dt.date())
        .agg(
            requests=pl.col("requests").sum().cast(pl.Int64),
            provider_errors=pl.sum_horizontal(*PROVIDER_ERRORS).sum().cast(pl.Int64),
        )
    )


def _availability() -> pl.Expr:
    return pl.when(pl.col("requests") > 0).then(
        100.0 * (1.0 - pl.col("provider_errors") / pl.col("requests"))
    )


def incident_costs(
    windows: pl.DataFrame, failed: pl.DataFrame, model: CostModel, scenario: str
) -> pl.DataFrame:
    """The incident rows of one scenario: every term from the window, the failed requests and the model."""
    value_each = model.failed_request_value_usd[model.request_category].get(scenario)
    retries = model.retry.retries_per_failed_request.get(scenario)
    tokens = model.retry.tokens_per_retry.get(scenario)
    token_price = {p: c.token_price_usd_per_1k.get(scenario) for p, c in model.providers.items()}
    frame = windows.join(failed, on="group_id", how="left").with_columns(
        pl.col("failed_requests").fill_null(0).cast(pl.Int64)
    )
    frame = frame.with_columns(
        level=pl.lit("incident"),
        scenario=pl.lit(scenario),
        month=pl.col("window_start").dt.truncate("1mo").dt.date(),
        failed_request_value_usd=pl.col("failed_requests") * value_each,
        retry_tokens=pl.col("failed_requests") * retries * tokens,
    ).with_columns(
        retry_token_cost_usd=pl.col("retry_tokens")
        / 1000.0
        * pl.col("provider").replace_strict(token_price, default=None)
    )
    losses = []
    for category in CATEGORIES:
        seats = {p: model.seats(p, category, scenario) for p in model.providers}
        cost = model.categories[category].loaded_hourly_cost_usd.get(scenario)
        fraction = model.categories[category].productivity_loss_fraction.get(scenario)
        minutes = (
            pl.when(pl.col("capabilities").list.contains(category))
            .then(pl.col("impacted_minutes"))
            .otherwise(0.0)
        )
        frame = frame.with_columns(minutes.alias(f"impacted_minutes_{category}")).with_columns(
            (
                pl.col("provider").replace_strict(seats, default=None)
                * cost
                * fraction
                * pl.col(f"impacted_minutes_{category}")
                / 60.0
            ).alias(f"productivity_loss_{category}_usd")
        )
        losses.append(f"productivity_loss_{category}_usd")
    frame = frame.with_columns(productivity_loss_usd=pl.sum_horizontal(losses)).with_columns(
        total_cost_usd=pl.col("failed_request_value_usd")
        + pl.col("retry_token_cost_usd")
        + pl.col("productivity_loss_usd")
    )
    return frame.with_columns(net_cost_usd=pl.col("total_cost_usd"))


def month_costs(
    incidents: pl.DataFrame, months: pl.DataFrame, model: CostModel, scenario: str
) -> pl.DataFrame:
    """Provider-month rows: incident sums plus SLA credits from the month's availability."""
    sums = incidents.group_by("provider", "month").agg([pl.col(c).sum() for c in SUMMED])
    keys = pl.concat([sums.select("provider", "month"), months.select("provider", "month")]).unique()
    frame = keys.join(sums, on=["provider", "month"], how="left").join(
        months, on=["provider", "month"], how="left"
    )
    frame = frame.with_columns([pl.col(c).fill_null(0) for c in SUMMED]).with_columns(
        availability_pct=_availability()
    )
    credit_pct = [
        model.providers[p].sla.credit_pct(a) if p in model.providers else None
        for p, a in zip(frame["provider"].to_list(), frame["availability_pct"].to_list())
    ]
    spend = {p: c.sla.monthly_spend_usd.get(scenario) for p, c in model.providers.items()}
    return (
        frame.with_columns(
            level=pl.lit("month"),
            scenario=pl.lit(scenario),
            sla_credit_pct=pl.Series(credit_pct, dtype=pl.Float64),
            monthly_spend_usd=pl.col("provider").replace_strict(spend, default=None),
        )
        .with_columns(
            sla_credit_usd=pl.col("monthly_spend_usd") * pl.col("sla_credit_pct") / 100.0,
        )
        .with_columns(net_cost_usd=pl.col("total_cost_usd") - pl.col("sla_credit_usd"))
    )


def provider_costs(months: pl.DataFrame, scenario: str) -> pl.DataFrame:
    return (
        months.group_by("provider")
        .agg(
            [pl.col(c).sum() for c in [*SUMMED, "sla_credit_usd", "net_cost_usd"]]
            + [pl.col("requests").sum(), pl.col("provider_errors").sum()]
        )
        .with_columns(level=pl.lit("provider"), scenario=pl.lit(scenario), availability_pct=_availability())
    )


def build_downtime_cost(
    reconciliation: pl.DataFrame, incidents: pl.DataFrame, minute_sli: pl.DataFrame, model: CostModel
) -> pl.DataFrame:
    """The whole mart: incident, month and provider rows for each scenario."""
    if reconciliation.is_empty():
        windows = pl.DataFrame(
            schema={
                "group_id": pl.String,
                "provider": pl.String,
                "incident_id": pl.String,
                "incident_ids": pl.List(pl.String),
                "classification": pl.String,
                "window_start": UTC,
                "window_end": UTC,
                "impacted_minutes": pl.Float64,
                "capabilities": pl.List(pl.String),
            }
        )
    else:
        windows = incident_windows(reconciliation, incidents)
    failed = failed_requests_in_windows(windows, minute_sli)
    months = monthly_availability(minute_sli)
    parts = []
    for scenario in SCENARIOS:
        per_incident = incident_costs(windows, failed, model, scenario)
        per_month = month_costs(per_incident, months, model, scenario)
        parts += [per_incident, per_month, provider_costs(per_month, scenario)]
    frame = pl.concat(
        [
            p.select(
                [
                    (pl.col(c) if c in p.columns else pl.lit(None)).cast(t).alias(c)
                    for c, t in DOWNTIME_COST_SCHEMA.items()
                ]
            )
            for p in parts
        ]
    )
    order = {level: i for i, level in enumerate(LEVELS)}
    return frame.sort(
        pl.col("level").replace_strict(order, return_dtype=pl.Int64),
        pl.col("scenario").replace_strict({s: i for i, s in enumerate(SCENARIOS)}, return_dtype=pl.Int64),
        "provider",
        "month",
        "window_start",
        "group_id",
    )


def downtime_expectations() -> list:
    return [
        has_columns(*DOWNTIME_COST_SCHEMA),
        not_null("provider"),
        in_set("level", LEVELS),
        in_set("scenario", SCENARIOS),
        unique_together("level", "scenario", "provider", "month", "group_id"),
        not_null("total_cost_usd"),
        between("total_cost_usd", 0, None),
        between("failed_requests", 0, None),
        between("sla_credit_pct", 0, 100),
        between("availability_pct", 0, 100),
    ]


def _checkable(frame: pl.DataFrame) -> pl.DataFrame:
    # compound uniqueness with nulls: month is null on provider rows, group_id off incident rows
    return frame.with_columns(
        pl.col("group_id").fill_null("-"), pl.col("month").fill_null(dt.date(1970, 1, 1))
    )


@dg.asset(
    key=["marts", "downtime_cost"],
    deps=[
        dg.AssetKey(["marts", "incident_reconciliation"]),
        dg.AssetKey(["marts", "incidents"]),
        dg.AssetKey(["marts", "provider_minute_sli"]),
    ],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(DOWNTIME_COST_CHECK, asset=["marts", "downtime_cost"], blocking=True)],
)
def downtime_cost(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """What downtime cost us, per incident group, per provider and month, and per provider, for the low,
    base and high scenarios of the cost model (data/config/cost_model.yaml).

    Columns: level (incident | month | provider), scenario (low | base | high), provider, month (UTC
    month; null on provider rows), group_id / classification (incident rows), window_start /
    window_end / impacted_minutes (incident window), incident_ids (the group's vendor incidents) and
    incident_id (the first of them, for joining to marts.incidents), capabilities (categories hit), failed_requests
    (provider errors in the window's SLI minutes), failed_request_value_usd, retry_tokens,
    retry_token_cost_usd, impacted_minutes_<api|consumer_app|coding_agent>,
    productivity_loss_<category>_usd (seats x loaded hourly cost x loss fraction x impacted hours),
    productivity_loss_usd, total_cost_usd (value + retries + productivity), requests / provider_errors /
    availability_pct (month and provider rows, from our own requests), sla_credit_pct, monthly_spend_usd,
    sla_credit_usd (credit the provider owes for the month), net_cost_usd (total - credits).
    Formulas: assets/marts/downtime_cost.py.
    """
    settings = workspace.settings
    model = load_cost_model(settings.cost_model_path)
    with workspace.warehouse() as con:
        recon = read_table_if_exists(con, RECONCILIATION_TABLE)
        incidents = read_table_if_exists(con, INCIDENTS_TABLE)
        sli = read_table_if_exists(
            con,
            MINUTE_SLI_TABLE,
            f"provider, minute, requests, {', '.join(PROVIDER_ERRORS)}",
        )
    for table, frame in (
        (RECONCILIATION_TABLE, recon),
        (INCIDENTS_TABLE, incidents),
        (MINUTE_SLI_TABLE, sli),
    ):
        if frame is None:
            context.log.warning(f"{table} does not exist yet: downtime_cost is built without it")
    recon, incidents, sli = (f if f is not None else pl.DataFrame() for f in (recon, incidents, sli))
    seen = set(recon["provider"].to_list() if recon.height else []) | set(
        sli["provider"].to_list() if sli.height else []
    )
    model.check_covers(seen, settings.cost_model_path)
    result = build_downtime_cost(recon, incidents, sli, model)
    with workspace.warehouse() as con:
        replace_table(con, DOWNTIME_COST_TABLE, result)
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
            "cost_model": str(settings.cost_model_path),
        },
        check_results=[check_result(DOWNTIME_COST_CHECK, _checkable(result), downtime_expectations())],
    )
