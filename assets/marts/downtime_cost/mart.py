"""marts.downtime_cost as one frame: incident, month and provider rows for each cost-model scenario."""

import polars as pl

from assets.marts.downtime_cost.schema import DOWNTIME_COST_SCHEMA, LEVELS, WINDOW_SCHEMA
from assets.marts.downtime_cost.terms import incident_costs, month_costs, provider_costs
from assets.marts.downtime_cost.windows import (
    failed_requests_in_windows,
    incident_windows,
    monthly_availability,
)
from pipelines.core.cost_model import SCENARIOS, CostModel
from pipelines.core.mart_columns import conform_to


def build_downtime_cost(
    reconciliation: pl.DataFrame, incidents: pl.DataFrame, minute_sli: pl.DataFrame, model: CostModel
) -> pl.DataFrame:
    """The whole mart: incident, month and provider rows for each scenario."""
    if reconciliation.is_empty():
        windows = pl.DataFrame(schema=WINDOW_SCHEMA)
    else:
        windows = incident_windows(reconciliation, incidents)
    failed = failed_requests_in_windows(windows, minute_sli)
    months = monthly_availability(minute_sli)
    parts = []
    for scenario in SCENARIOS:
        per_incident = incident_costs(windows, failed, model, scenario)
        per_month = month_costs(per_incident, months, model, scenario)
        parts += [per_incident, per_month, provider_costs(per_month, scenario)]
    frame = pl.concat([conform_to(p, DOWNTIME_COST_SCHEMA) for p in parts])
    order = {level: i for i, level in enumerate(LEVELS)}
    return frame.sort(
        pl.col("level").replace_strict(order, return_dtype=pl.Int64),
        pl.col("scenario").replace_strict({s: i for i, s in enumerate(SCENARIOS)}, return_dtype=pl.Int64),
        "provider",
        "month",
        "window_start",
        "group_id",
    )
