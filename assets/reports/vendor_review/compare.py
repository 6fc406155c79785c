"""The vendor review's side-by-side table: per provider, measured vs claimed uptime, MTTR, acknowledgement
grade, SLA credits, downtime cost and failover value; "no data" where the window has no evidence."""

from __future__ import annotations

import polars as pl

from assets.reports.facts import ProviderFacts, best_failover
from assets.reports.formats import fmt_count, fmt_hours, fmt_minutes, fmt_money, fmt_pct, fmt_share
from assets.reports.marts_data import has
from assets.reports.vendor_review.decision import FAILOVER_KEY
from assets.reports.vendor_review.review import BUDGET_KEY, REL_KEY, Review
from pipelines.core import tables

NO_DATA = "no data"
NO_IMPACT = "no observed impact"
# StatusGator's status-page accuracy grades on the average acknowledgement delay, an impact the vendor
# posted first counting 0 and one it never acknowledged 240 minutes
# (https://nimbleindustries.freshdesk.com/support/solutions/articles/47001273242). The delays themselves
# are marts.acknowledgement_lag columns; only the letter is the report's.
GRADES = ((15.0, "A"), (30.0, "B"), (120.0, "C"), (240.0, "D"))
ACK_KEY = ("provider",)
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


def grade_letter(graded_mean_minutes: float) -> str:
    """A under 15 min, B under 30, C under 2 h, D under 4 h, F beyond."""
    return next((letter for limit, letter in GRADES if graded_mean_minutes < limit), "F")


def ack_grade(review: Review, row: dict | None) -> str:
    """The grade with its marts.acknowledgement_lag figures: graded mean over the observed impacts, median
    lag of the posted ones and the never-posted count (quoted); "no data" without the mart's row."""
    if row is None:
        return NO_DATA
    if row.get("ack_lag_graded_mean_minutes") is None:
        return NO_IMPACT
    q = review.figures.quoter(tables.ACKNOWLEDGEMENT_LAG, row, ACK_KEY)
    text = (
        f"{grade_letter(row['ack_lag_graded_mean_minutes'])} ({q('ack_lag_graded_mean_minutes', fmt_minutes)}"
    )
    text += f" over {q('observed_impacts', fmt_count)}"
    if row.get("ack_lag_median_minutes") is not None:
        text += f"; median {q('ack_lag_median_minutes', fmt_minutes)}"
    if row.get("never_posted_impacts"):
        text += f"; {q('never_posted_impacts', fmt_count)} never posted"
    return text + ")"


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
    ack_lag: pl.DataFrame | None,
    failover: pl.DataFrame | None,
) -> list[dict]:
    lags = {r["provider"]: r for r in ack_lag.to_dicts()} if has(ack_lag, "provider") else {}
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
                "grade": ack_grade(review, lags.get(f.provider)),
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
