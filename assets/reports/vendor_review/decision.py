"""The vendor review's first screen: the recommendation with its reasons, its uncertainty and the evidence
it rests on (our own traffic first, the vendors' status pages second), or "not enough data".

Primary = the provider that failed the fewest of our requests over the analysed window (measured
availability, marts.slo_budget); the runner-up is the failover target. When the two are statistically
tied on our requests, their status pages break the tie and the page says so. Without our traffic for two
providers the vendors' own uptime decides, and the page says the evidence is weaker. With neither, no
provider is recommended.
"""

from __future__ import annotations

import math

import polars as pl

from assets.reports.facts import ProviderFacts, best_failover
from assets.reports.formats import fmt_count, fmt_minutes, fmt_money, fmt_pct, fmt_share
from assets.reports.vendor_review.review import BUDGET_KEY, REL_KEY, Review
from pipelines.core import tables

NOT_ENOUGH_DATA = "Not enough data to recommend a provider"
TRAFFIC_EVIDENCE = "our own requests (measured availability), then the vendors' status pages"
STATUS_EVIDENCE = (
    "the vendors' own status pages only (none of our traffic reached two providers): weaker evidence"
)
FAILOVER_KEY = ("policy", "provider")


def _availability(review: Review, f: ProviderFacts) -> str:
    return review.figures.quote(
        tables.SLO_BUDGET, f.budget, "availability", BUDGET_KEY, lambda v: fmt_share(v, 3)
    )


def _uptime(review: Review, f: ProviderFacts) -> str:
    return review.figures.quote(tables.COMPONENT_RELIABILITY, f.reliability, "uptime_pct", REL_KEY, fmt_pct)


def _cost_range(review: Review, f: ProviderFacts) -> str | None:
    if "base" not in f.costs:
        return None

    def q(scenario: str) -> str:
        c = f.costs[scenario]
        return review.figures.quote(tables.DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money)

    text = f"{q('base')} (base)"
    if {"low", "high"} <= f.costs.keys():
        text += f", between {q('low')} and {q('high')}"
    return text


def _failover_reason(review: Review, failover: pl.DataFrame | None, primary: str) -> str | None:
    best = best_failover(failover, primary)
    if best is None:
        return None
    keys = [k for k in FAILOVER_KEY if k in best]

    def q(column, fmt):
        return review.figures.quote(tables.FAILOVER, best, column, keys, fmt)

    text = (
        f"For {review.name(primary)}, the failover policy \u201c{best.get('policy', '?')}\u201d would have avoided "
        f"{q('downtime_cost_avoided_usd', fmt_money)} of downtime cost"
    )
    if (
        best.get("downtime_cost_avoided_usd_low") is not None
        and best.get("downtime_cost_avoided_usd_high") is not None
    ):
        text += f" ({q('downtime_cost_avoided_usd_low', fmt_money)} to {q('downtime_cost_avoided_usd_high', fmt_money)})"
    if best.get("extra_cost_usd") is not None:
        text += f" for {q('extra_cost_usd', fmt_money)} of extra spend"
    if best.get("correlated_failure_minutes"):
        text += f"; {q('correlated_failure_minutes', fmt_minutes)} of failures hit both providers at once, which no failover covers"
    return text + "."


def statistically_tied(a: ProviderFacts, b: ProviderFacts, z: float = 1.96) -> bool:
    """Whether two measured availabilities differ by less than `z` standard errors of the difference
    (normal approximation of two binomial proportions): the ranking of the two is then noise."""
    pa, pb = a.budget["availability"], b.budget["availability"]
    se = math.sqrt(pa * (1 - pa) / a.requests + pb * (1 - pb) / b.requests)
    return abs(pa - pb) <= z * se


def _missing_evidence(review: Review, facts: list[ProviderFacts], window: str) -> list[str]:
    if not facts:
        return [f"No provider is configured or named by any mart for {window}."]
    out = []
    for f in facts:
        lacks = [
            what
            for what, ok in (("none of our requests", f.has_traffic), ("no status-page data", f.has_status))
            if not ok
        ]
        if lacks:
            out.append(f"{review.name(f.provider)}: {' and '.join(lacks)} in {window}.")
    return out


def rank_providers(
    traffic: list[ProviderFacts], status: list[ProviderFacts]
) -> tuple[list[ProviderFacts], bool]:
    """Best first: by measured availability when two providers carry our traffic (a statistical tie at
    the top broken by their status pages), else by status-page uptime. Returns (ranked, tied)."""
    if len(traffic) < 2:
        return sorted(status, key=lambda f: (-f.reliability["uptime_pct"], f.provider)), False
    ranked = sorted(traffic, key=lambda f: (-f.budget["availability"], f.provider))
    tie = statistically_tied(ranked[0], ranked[1])
    if tie and ranked[0].has_status and ranked[1].has_status:
        ranked[:2] = sorted(ranked[:2], key=lambda f: -f.reliability["uptime_pct"])
    return ranked, tie


def decide(review: Review, facts: list[ProviderFacts], failover: pl.DataFrame | None, window: str) -> dict:
    """{state, headline, reasons, uncertainty, evidence}: a recommendation or "not enough data"."""
    traffic = [f for f in facts if f.has_traffic]
    status = [f for f in facts if f.has_status]
    if len(traffic) < 2 and len(status) < 2:
        return {
            "state": "missing",
            "headline": f"{NOT_ENOUGH_DATA} for {window}.",
            "reasons": _missing_evidence(review, facts, window),
            "uncertainty": None,
            "evidence": "neither our traffic nor status-page data for two providers",
        }
    ranked, tie = rank_providers(traffic, status)
    primary, fallback = ranked[0], ranked[1]
    reasons = [
        f"Of our requests, {review.name(f.provider)} served {_availability(review, f)} without failure "
        f"({review.figures.quote(tables.SLO_BUDGET, f.budget, 'requests', BUDGET_KEY, fmt_count)} requests)."
        for f in ranked
        if f.has_traffic
    ]
    reasons += [
        f"{review.name(f.provider)}'s status page claims {_uptime(review, f)} uptime."
        for f in ranked
        if f.has_status
    ]
    failover_text = _failover_reason(review, failover, primary.provider)
    if failover_text:
        reasons.append(failover_text)
    cost = _cost_range(review, primary)
    uncertainty = (
        f"Downtime cost of {review.name(primary.provider)} over the window: {cost}; the range comes from the "
        "cost model's low and high assumptions."
        if cost
        else "No downtime cost is available to bound the decision."
    )
    if tie:
        uncertainty = (
            f"{review.name(primary.provider)} and {review.name(fallback.provider)} are tied on our requests: "
            "the gap is inside the 95% noise band of that many requests, so their status pages decide the "
            "order and the choice could swap with more data. " + uncertainty
        )
    return {
        "state": "ok",
        "headline": f"Make {review.name(primary.provider)} the primary provider and keep "
        f"{review.name(fallback.provider)} as the failover target.",
        "reasons": reasons,
        "uncertainty": uncertainty,
        "evidence": TRAFFIC_EVIDENCE if len(traffic) >= 2 else STATUS_EVIDENCE,
    }
