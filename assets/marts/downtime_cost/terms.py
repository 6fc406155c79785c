"""The cost terms of marts.downtime_cost, per scenario of the cost model (data/config/cost_model.yaml).

Per incident group (windows and failed requests from windows.py, observed impact from impact.py):
- failed_request_value_usd = failed_requests x value_per_failed_request_usd
  (= failed_request_value_usd[request_category]; no request of ours in the window: 0).
- retry_tokens = failed_requests x retries_per_failed_request x tokens_per_retry;
  retry_token_cost_usd = retry_tokens / 1000 x the provider's token_price_usd_per_1k.
- impacted_minutes_<cat> = outage_equivalent_minutes (what we observed, impact.py) for each category the
  group hit (api, consumer_app, coding_agent), 0 for the others.
- productivity_loss_<cat>_usd = seats[provider][cat] x loaded_hourly_cost_usd[cat]
  x productivity_loss_fraction[cat] x impacted_minutes_<cat> / 60.
- total_cost_usd = failed_request_value_usd + retry_token_cost_usd + productivity_loss_usd; null (not
  priced) when impact_basis is 'no_evidence'.
- cost_terms_source: 'provider' (its own entry in the cost model) or 'default' (the `defaults` block);
  assumptions: the figures above in words.
Per provider and month (level 'month'): the sums of its incidents starting that month, plus the SLA:
availability_pct = 100 x (1 - provider errors / requests) over the month's SLI minutes; sla_credit_pct =
the largest tier whose availability_below_pct the month is below; sla_credit_usd = monthly_spend_usd x
sla_credit_pct / 100 (money the provider owes us back); net_cost_usd = total_cost_usd - sla_credit_usd.
Per provider (level 'provider'): the sums over its months; availability_pct over all its minutes.
"""

import polars as pl

from assets.marts.downtime_cost.impact import assumption_text, with_observed_impact
from assets.marts.downtime_cost.schema import SUMMED
from pipelines.core.cost_model import CATEGORIES, CostModel


def _availability() -> pl.Expr:
    return pl.when(pl.col("requests") > 0).then(
        100.0 * (1.0 - pl.col("provider_errors") / pl.col("requests"))
    )


def _per_provider(values: dict[str, float]) -> pl.Expr:
    return pl.col("provider").replace_strict(values, default=None, return_dtype=pl.Float64)


def _with_productivity_loss(frame: pl.DataFrame, model: CostModel, scenario: str) -> pl.DataFrame:
    """impacted_minutes_<cat>, productivity_loss_<cat>_usd per category and their sum (null: not priced)."""
    losses = []
    providers = frame["provider"].unique().to_list()
    for category in CATEGORIES:
        seats = {p: model.seats(p, category, scenario) for p in providers}
        cost = model.categories[category].loaded_hourly_cost_usd.get(scenario)
        fraction = model.categories[category].productivity_loss_fraction.get(scenario)
        minutes = (
            pl.when(pl.col("capabilities").list.contains(category))
            .then(pl.col("outage_equivalent_minutes"))
            .otherwise(pl.when(pl.col("outage_equivalent_minutes").is_not_null()).then(0.0))
        )
        frame = frame.with_columns(minutes.alias(f"impacted_minutes_{category}")).with_columns(
            (_per_provider(seats) * cost * fraction * pl.col(f"impacted_minutes_{category}") / 60.0).alias(
                f"productivity_loss_{category}_usd"
            )
        )
        losses.append(pl.col(f"productivity_loss_{category}_usd"))
    return frame.with_columns(productivity_loss_usd=pl.sum_horizontal(losses, ignore_nulls=False))


def incident_costs(
    windows: pl.DataFrame, failed: pl.DataFrame, model: CostModel, scenario: str
) -> pl.DataFrame:
    """The incident rows of one scenario: every term from the window, the observed impact and the model."""
    value_each = model.failed_request_value_usd[model.request_category].get(scenario)
    retries = model.retry.retries_per_failed_request.get(scenario)
    tokens = model.retry.tokens_per_retry.get(scenario)
    providers = windows["provider"].unique().to_list()
    token_price = {p: model.terms(p).token_price_usd_per_1k.get(scenario) for p in providers}
    source = {p: model.terms_source(p) for p in providers}
    frame = windows.join(failed, on="group_id", how="left").with_columns(
        pl.col("window_requests").fill_null(0).cast(pl.Int64), pl.col("failed_requests").cast(pl.Int64)
    )
    frame = with_observed_impact(frame, model, scenario).with_columns(
        level=pl.lit("incident"),
        scenario=pl.lit(scenario),
        month=pl.col("window_start").dt.truncate("1mo").dt.date(),
        value_per_failed_request_usd=pl.lit(value_each),
        cost_terms_source=pl.col("provider").replace_strict(source, default=None, return_dtype=pl.String),
        failed_request_value_usd=pl.col("failed_requests").fill_null(0) * value_each,
        retry_tokens=pl.col("failed_requests").fill_null(0) * retries * tokens,
    )
    frame = frame.with_columns(
        retry_token_cost_usd=pl.col("retry_tokens") / 1000.0 * _per_provider(token_price)
    )
    frame = _with_productivity_loss(frame, model, scenario).with_columns(
        total_cost_usd=pl.col("failed_request_value_usd")
        + pl.col("retry_token_cost_usd")
        + pl.col("productivity_loss_usd")
    )
    frame = frame.with_columns(net_cost_usd=pl.col("total_cost_usd"))
    texts = [assumption_text(row, model, scenario) for row in frame.iter_rows(named=True)]
    return frame.with_columns(assumptions=pl.Series(texts, dtype=pl.String))


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
        model.terms(p).sla.credit_pct(a)
        for p, a in zip(frame["provider"].to_list(), frame["availability_pct"].to_list())
    ]
    providers = frame["provider"].unique().to_list()
    spend = {p: model.terms(p).sla.monthly_spend_usd.get(scenario) for p in providers}
    source = {p: model.terms_source(p) for p in providers}
    return (
        frame.with_columns(
            level=pl.lit("month"),
            scenario=pl.lit(scenario),
            sla_credit_pct=pl.Series(credit_pct, dtype=pl.Float64),
            monthly_spend_usd=_per_provider(spend),
            cost_terms_source=pl.col("provider").replace_strict(source, default=None, return_dtype=pl.String),
        )
        .with_columns(
            sla_credit_usd=pl.col("monthly_spend_usd") * pl.col("sla_credit_pct") / 100.0,
        )
        .with_columns(net_cost_usd=pl.col("total_cost_usd") - pl.col("sla_credit_usd"))
    )


def provider_costs(months: pl.DataFrame, scenario: str) -> pl.DataFrame:
    """Provider rows: the sums over its months, availability over all its minutes."""
    return (
        months.group_by("provider")
        .agg(
            [pl.col(c).sum() for c in [*SUMMED, "sla_credit_usd", "net_cost_usd"]]
            + [pl.col("requests").sum(), pl.col("provider_errors").sum(), pl.col("cost_terms_source").first()]
        )
        .with_columns(level=pl.lit("provider"), scenario=pl.lit(scenario), availability_pct=_availability())
    )
