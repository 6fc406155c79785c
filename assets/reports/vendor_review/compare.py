"""The vendor review's side-by-side table: per provider, measured vs claimed uptime, MTTR, acknowledgement
grade, SLA credits, downtime cost and failover value; "no data" where the window has no evidence."""

from __future__ import annotations

import polars as pl

from assets.reports.facts import ProviderFacts, best_failover
from assets.reports.formats import fmt_hours, fmt_money, fmt_pct, fmt_share
from assets.reports.marts_data import has
from assets.reports.scope import Scope
from assets.reports.vendor_review.decision import FAILOVER_KEY
from assets.reports.vendor_review.review import BUDGET_KEY, REL_KEY, Review
from pipelines.core import tables

NO_DATA = "no data"
# StatusGator's status-page accuracy grades: average acknowledgement delay over the incidents, an incident
# the vendor posted first counting 0 and one it never acknowledged 240 minutes
# (https://nimbleindustries.freshdesk.com/support/solutions/articles/47001273242).
GRADES = ((15.0, "A"), (30.0, "B"), (120.0, "C"), (240.0, "D"))
UNACKNOWLEDGED_MINUTES = 240.0
COLUMNS = [
    ("provider", "provider"),
    ("measured", "availability of our requests"),
    ("claimed", "uptime its status page claims"),
    ("mttr", "MTTR median"),
    ("grade", "acknowledgement grade (avg delay)"),
    ("credits", "SLA credits owed (base)"),
    ("received", "SLA credits received"),
    ("cost", "downtime cost base (low to high)"),
    ("failover", "failover would have avoided"),
]


def ack_grade(groups: list[dict]) -> str:
    """Letter grade and average delay over the provider's reconciled groups ("no data" without any)."""
    delays = []
    for g in groups:
        lag = g.get("acknowledgement_lag_minutes")
        if lag is not None:
            delays.append(max(float(lag), 0.0))
        elif g.get("classification") == "unreported_impact":
            delays.append(UNACKNOWLEDGED_MINUTES)
    if not delays:
        return NO_DATA
    mean = sum(delays) / len(delays)
    grade = next((letter for limit, letter in GRADES if mean < limit), "F")
    return f"{grade} ({mean:,.0f} min over {len(delays)})"


def _cost(review: Review, f: ProviderFacts, column: str | None = None) -> str:
    if "base" not in f.costs:
        return NO_DATA

    def q(scenario: str) -> str:
        c = f.costs[scenario]
        return review.figures.quote(
            tables.DOWNTIME_COST, c.row, column or c.total_column, c.key_columns, fmt_money
        )

    if column is not None:
        return q("base") if f.costs["base"].row.get(column) is not None else NO_DATA
    if {"low", "high"} <= f.costs.keys():
        return f"{q('base')} ({q('low')} to {q('high')})"
    return q("base")


def side_by_side(
    review: Review,
    facts: list[ProviderFacts],
    reconciliation: pl.DataFrame | None,
    failover: pl.DataFrame | None,
    scope: Scope | None,
) -> list[dict]:
    groups = reconciliation.to_dicts() if has(reconciliation, "provider") else []
    if scope is not None:
        groups = [g for g in groups if scope.contains(g.get("triangulated_start") or g.get("started_at"))]
    rows = []
    for f in facts:
        rel = review.figures.quoter(tables.COMPONENT_RELIABILITY, f.reliability or {}, REL_KEY)
        measured = NO_DATA
        if f.has_traffic:
            measured = review.figures.quote(
                tables.SLO_BUDGET, f.budget, "availability", BUDGET_KEY, lambda v: fmt_share(v, 3)
            )
        best = best_failover(failover, f.provider)
        rows.append(
            {
                "provider": review.name(f.provider),
                "measured": measured,
                "claimed": rel("uptime_pct", fmt_pct) if f.has_status else NO_DATA,
                "mttr": rel("mttr_median_hours", fmt_hours) if f.has_status else NO_DATA,
                "grade": ack_grade([g for g in groups if g.get("provider") == f.provider]),
                "credits": _cost(review, f, "sla_credit_usd") if f.has_traffic else NO_DATA,
                "received": "not recorded",
                "cost": _cost(review, f) if (f.has_traffic or f.has_status) else NO_DATA,
                "failover": NO_DATA
                if best is None
                else review.figures.quote(
                    tables.FAILOVER,
                    best,
                    "downtime_cost_avoided_usd",
                    [k for k in FAILOVER_KEY if k in best],
                    fmt_money,
                ),
            }
        )
    return rows
