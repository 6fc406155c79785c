"""marts.downtime_cost as one row per (cost row, scenario), whatever the mart's exact layout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from assets.reports.marts_data import first_column

SCENARIOS = ("low", "base", "high")
_TOTAL_CANDIDATES = ("total_cost", "total", "total_usd", "cost_total", "total_cost_usd", "cost_usd", "cost")
_KEY_CANDIDATES = ("provider", "incident_id", "group_id", "month", "period", "scenario", "grain", "level")


@dataclass(frozen=True)
class CostRow:
    """One downtime-cost figure: its mart row, the scenario and which column holds its total."""

    row: dict
    scenario: str
    total_column: str
    key_columns: tuple[str, ...]

    @property
    def total(self) -> Any:
        return self.row.get(self.total_column)

    @property
    def incident_id(self) -> Any:
        return self.row.get("incident_id")

    @property
    def provider(self) -> Any:
        return self.row.get("provider")

    @property
    def month(self) -> Any:
        return self.row.get("month") or self.row.get("period")


def cost_rows(cost: pl.DataFrame | None) -> list[CostRow]:
    """marts.downtime_cost as CostRow per (row, scenario): long layout (a `scenario` column and a total
    column) or wide layout (`total_low`/`total_base`/`total_high`, `cost_base_usd`, ...)."""
    if cost is None or cost.height == 0:
        return []
    keys = tuple(c for c in _KEY_CANDIDATES if c in cost.columns)
    if "scenario" in cost.columns:
        return _long_rows(cost, keys)
    wide: dict[str, str] = {}
    for scenario in SCENARIOS:
        pattern = re.compile(
            rf"^(total|cost)(_cost)?_{scenario}(_usd)?$|^{scenario}(_total)?(_cost)?(_usd)?$"
        )
        column = next((c for c in cost.columns if pattern.match(c)), None)
        if column is not None:
            wide[scenario] = column
    return [
        CostRow(row, scenario, column, keys)
        for row in cost.iter_rows(named=True)
        for scenario, column in wide.items()
    ]


def _long_rows(cost: pl.DataFrame, keys: tuple[str, ...]) -> list[CostRow]:
    total = first_column(cost, *_TOTAL_CANDIDATES)
    if total is None:
        return []
    out = []
    for row in cost.iter_rows(named=True):
        scenario = str(row["scenario"]).lower() if row["scenario"] is not None else ""
        if scenario in SCENARIOS:
            out.append(CostRow(row, scenario, total, keys))
    return out


def is_incident_cost(item: CostRow) -> bool:
    level = item.row.get("grain") or item.row.get("level")
    if level is not None:
        return "incident" in str(level).lower()
    return item.incident_id is not None


def is_provider_cost(item: CostRow) -> bool:
    """A provider's total over the window (marts.downtime_cost level 'provider')."""
    level = item.row.get("grain") or item.row.get("level")
    return level is not None and "provider" in str(level).lower()


def is_month_cost(item: CostRow) -> bool:
    level = item.row.get("grain") or item.row.get("level")
    if level is not None:
        return "month" in str(level).lower()
    return item.incident_id is None and item.month is not None


def breakdown_columns(item: CostRow) -> list[str]:
    """Numeric cost components of a cost row other than its total (e.g. lost_revenue_usd)."""
    skip = set(item.key_columns) | {item.total_column}
    return [
        k
        for k, v in item.row.items()
        if k not in skip
        and isinstance(v, int | float)
        and not isinstance(v, bool)
        and re.search(r"cost|usd|revenue|productivity|penalt|credit|loss", k)
        and not re.search(r"_(low|high)(_usd)?$", k)
    ]
