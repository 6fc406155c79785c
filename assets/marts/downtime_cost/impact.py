"""One model of impact: how much of each incident we OBSERVED, as minutes of full outage.

The vendor's impact label and window say where to look; the price follows what our own evidence saw:
- telemetry: observed_error_ratio = failed_requests / window_requests (our requests in the window);
  telemetry_outage_minutes = impacted_minutes x observed_error_ratio (50 % errors for 120 min = 60).
  Null when we sent no request in the window: no evidence, not zero impact.
- crowd: crowd_outage_minutes = crowd_minutes x crowd_outage_share (cost model `impact`): the share of a
  capability's seats blocked while users report the outage (our telemetry does not see the vendor's
  apps). Null when no crowd episode belongs to the incident.
- outage_equivalent_minutes = the larger of the two; impact_basis names which one ('no_evidence' when
  neither exists: the incident is not priced, its cost is null and months count it in
  incidents_without_evidence). An incident our telemetry watched without errors and the crowd did not
  report costs nothing beyond its failed requests, whatever its label, so it cannot outrank an outage
  that failed half of our requests.
"""

import polars as pl

from pipelines.core.cost_model import CostModel


def with_observed_impact(frame: pl.DataFrame, model: CostModel, scenario: str) -> pl.DataFrame:
    """Add the observed-impact columns (see the module docstring) to incident rows."""
    share = model.impact.crowd_outage_share.get(scenario)
    frame = frame.with_columns(
        observed_error_ratio=pl.when(pl.col("window_requests") > 0).then(
            pl.col("failed_requests") / pl.col("window_requests")
        ),
        crowd_outage_share=pl.lit(share),
    ).with_columns(
        telemetry_outage_minutes=pl.col("impacted_minutes") * pl.col("observed_error_ratio"),
        crowd_outage_minutes=pl.when(pl.col("crowd_minutes") > 0).then(pl.col("crowd_minutes") * share),
    )
    telemetry, crowd = pl.col("telemetry_outage_minutes"), pl.col("crowd_outage_minutes")
    evidence = telemetry.is_not_null() | crowd.is_not_null()
    return frame.with_columns(
        outage_equivalent_minutes=pl.when(evidence).then(pl.max_horizontal(telemetry, crowd)),
        impact_basis=pl.when(~evidence)
        .then(pl.lit("no_evidence"))
        .when(crowd > telemetry.fill_null(-1.0))
        .then(pl.lit("crowd"))
        .otherwise(pl.lit("telemetry")),
        incidents_priced=evidence.cast(pl.Int64),
        incidents_without_evidence=(~evidence).cast(pl.Int64),
    )


def _money(value: float) -> str:
    return f"${value:,.2f}" if value < 10 else f"${value:,.0f}"


def assumption_text(row: dict, model: CostModel, scenario: str) -> str:
    """The assumptions behind one incident row's cost, in words a report can print under the figure."""
    if row["impact_basis"] == "no_evidence":
        return (
            f"not priced: no request of ours in the window and no crowd reports "
            f"({row['window_start']:%Y-%m-%d %H:%M} - {row['window_end']:%Y-%m-%d %H:%M} UTC)"
        )
    if row["impact_basis"] == "telemetry":
        seen = (
            f"{row['observed_error_ratio']:.1%} of our {row['window_requests']:,} requests failed over "
            f"{row['impacted_minutes']:,.0f} min"
        )
    else:
        seen = (
            f"crowd reported the outage for {row['crowd_minutes']:,.0f} min, "
            f"{row['crowd_outage_share']:.0%} of seats assumed blocked"
        )
    seats = []
    for category in row["capabilities"] or []:
        if category not in model.categories:
            continue
        cost = model.categories[category]
        seats.append(
            f"{category} {model.seats(row['provider'], category, scenario):,.0f} seats x "
            f"{_money(cost.loaded_hourly_cost_usd.get(scenario))}/h x "
            f"{cost.productivity_loss_fraction.get(scenario):.0%} lost"
        )
    terms = (
        "default terms (cost_model.yaml 'defaults')"
        if row["cost_terms_source"] == "default"
        else ("the provider's own terms")
    )
    return (
        f"{seen} = {row['outage_equivalent_minutes']:,.1f} full-outage min ({row['impact_basis']}); "
        f"{'; '.join(seats) or 'no seats depend on the capabilities hit'}; "
        f"each failed request {_money(row['value_per_failed_request_usd'])}; {terms}"
    )
