"""Per provider, the window-wide rows the first screens quote, and which evidence exists at all.

Evidence comes in two kinds: our own traffic (marts.slo_budget's window row with requests > 0) and the
vendor's status page (a provider row of marts.component_reliability with a non-null uptime, for a
provider marts.incidents has ever seen: a page never read would otherwise read as 100% uptime).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from assets.reports.costs import CostRow, is_provider_cost
from assets.reports.marts_data import COMPONENT_PROVIDER, PERIOD_ALL, has
from assets.reports.scope import Scope


@dataclass
class ProviderFacts:
    """What the marts hold about one provider over the analysed window."""

    provider: str
    reliability: dict | None = None  # marts.component_reliability, provider row, period 'all'
    budget: dict | None = None  # marts.slo_budget, window row
    costs: dict[str, CostRow] = field(default_factory=dict)  # scenario -> provider-level cost row
    ack_row: dict | None = None  # marts.acknowledgement_lag, the provider's row (when a lag was measured)
    status_seen: bool = False

    @property
    def requests(self) -> int:
        return int((self.budget or {}).get("requests") or 0)

    @property
    def has_traffic(self) -> bool:
        return self.requests > 0 and (self.budget or {}).get("availability") is not None

    @property
    def has_status(self) -> bool:
        return self.status_seen and (self.reliability or {}).get("uptime_pct") is not None


def _window_rows(frame: pl.DataFrame | None, column: str, value: str) -> dict[str, dict]:
    if not has(frame, "provider", column):
        return {}
    return {r["provider"]: r for r in frame.filter(pl.col(column) == value).to_dicts()}


def _budget_rows(budget: pl.DataFrame | None) -> dict[str, dict]:
    column = "period_kind" if has(budget, "period_kind") else "period"
    return _window_rows(budget, column, "window")


def _ack_rows(ack_lag: pl.DataFrame | None) -> dict[str, dict]:
    """marts.acknowledgement_lag's rows by provider, for providers whose lag was measured."""
    if not has(ack_lag, "provider", "ack_lag_median_minutes"):
        return {}
    return {r["provider"]: r for r in ack_lag.to_dicts() if r["ack_lag_median_minutes"] is not None}


def provider_facts(
    providers: Sequence[str],
    scope: Scope | None,
    reliability: pl.DataFrame | None,
    budget: pl.DataFrame | None,
    costs: Sequence[CostRow],
    ack_lag: pl.DataFrame | None,
    incidents: pl.DataFrame | None,
) -> list[ProviderFacts]:
    """One ProviderFacts per provider (config order, then any other provider a mart names)."""
    overall = {}
    if has(reliability, "provider", "component", "period"):
        overall = _window_rows(
            reliability.filter(pl.col("component") == COMPONENT_PROVIDER), "period", PERIOD_ALL
        )
    budgets = _budget_rows(budget)
    seen = set(incidents["provider"].to_list()) if has(incidents, "provider") else set()
    acks = _ack_rows(ack_lag)
    named = [*providers, *sorted((set(overall) | set(budgets)) - set(providers))]
    out = []
    for provider in named:
        out.append(
            ProviderFacts(
                provider,
                overall.get(provider),
                budgets.get(provider),
                {c.scenario: c for c in costs if is_provider_cost(c) and c.provider == provider},
                acks.get(provider),
                provider in seen,
            )
        )
    return out


def best_failover(failover: pl.DataFrame | None, provider: str) -> dict | None:
    """The simulated policy for `provider` that avoids the most downtime cost (None when none avoids any)."""
    if not has(failover, "provider", "downtime_cost_avoided_usd"):
        return None
    rows = [
        r
        for r in failover.filter(pl.col("provider") == provider).to_dicts()
        if (r.get("downtime_cost_avoided_usd") or 0) > 0  # "none", or a policy that saved nothing
    ]
    return max(rows, key=lambda r: r["downtime_cost_avoided_usd"], default=None)
