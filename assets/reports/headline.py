"""The index's first screen: per provider, five tiles over the analysed window, each traced to a mart cell.

Downtime minutes (status page), failed requests (our traffic), downtime cost low/base/high, the median
acknowledgement lag and the SLO status against its target. Missing evidence gives a "no data" tile.
"""

from __future__ import annotations

from assets.reports.facts import ProviderFacts
from assets.reports.figures import Figures
from assets.reports.formats import fmt_count, fmt_minutes, fmt_money, fmt_pct, fmt_share
from assets.reports.tiles import missing, tile
from pipelines.core import tables

REL_KEY = ("provider", "component", "period")
BUDGET_KEY = ("provider", "period")
GROUP_KEY = ("group_id",)


def downtime_tile(figures: Figures, f: ProviderFacts) -> dict:
    r = f.reliability or {}
    if not f.has_status or r.get("weighted_down_minutes") is None:
        return missing("Downtime (status page)", "no status-page data covers this window")
    value = figures.quote(tables.COMPONENT_RELIABILITY, r, "weighted_down_minutes", REL_KEY, fmt_minutes)
    weight = r.get("weight_partial")
    partial = f" (a partial outage counts {weight:g})" if weight is not None else ""
    return tile("Downtime (status page)", value, f"minutes the vendor's page showed an outage{partial}.")


def failed_tile(figures: Figures, f: ProviderFacts) -> dict:
    if not f.has_traffic or f.budget.get("bad_requests") is None:
        return missing("Failed requests", "none of our requests to this provider fall in the window")
    q = figures.quoter(tables.SLO_BUDGET, f.budget, BUDGET_KEY)
    failed = q("bad_requests", fmt_count)
    share = fmt_share(1.0 - f.budget["availability"], 2)
    state = "bad" if f.budget["bad_requests"] else "good"
    return tile("Failed requests", failed, f"of {q('requests', fmt_count)} of our requests ({share}).", state)


def cost_tile(figures: Figures, f: ProviderFacts) -> dict:
    if "base" not in f.costs or not (f.has_traffic or f.has_status):
        return missing("Downtime cost", "no evidence of impact to price in this window")

    def q(scenario: str) -> str:
        c = f.costs[scenario]
        return figures.quote(tables.DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money)

    base = q("base")
    spread = f"low {q('low')}, high {q('high')}" if {"low", "high"} <= f.costs.keys() else "no range"
    return tile("Downtime cost (base)", base, f"{spread}: the cost model's scenarios.")


def ack_tile(figures: Figures, f: ProviderFacts) -> dict:
    if f.ack_row is None:
        return missing("Acknowledgement lag", "no impact we saw that the vendor posted in the window")
    value = figures.quote(
        tables.ACKNOWLEDGEMENT_LAG, f.ack_row, "ack_lag_median_minutes", ("provider",), fmt_minutes
    )
    return tile(
        "Acknowledgement lag",
        value,
        f"median over {f.ack_row.get('posted_impacts') or 0} impact(s) the vendor posted, from the first "
        "signal we saw to its first post.",
        "bad" if f.ack_row["ack_lag_median_minutes"] > 30 else "ok",
    )


def slo_tile(figures: Figures, f: ProviderFacts) -> dict:
    b = f.budget or {}
    if not f.has_traffic or b.get("availability_target") is None:
        return missing("SLO (our requests)", "no traffic of ours to measure against the target")
    q = figures.quoter(tables.SLO_BUDGET, b, BUDGET_KEY)
    met = b["availability"] >= b["availability_target"]
    used = (
        f", {q('budget_used_pct', lambda v: fmt_pct(v, 0))} of the error budget used"
        if "budget_used_pct" in b
        else ""
    )
    return tile(
        "SLO (our requests)",
        q("availability", lambda v: fmt_share(v, 3)),
        f"target {q('availability_target', lambda v: fmt_share(v, 2))}: {'met' if met else 'missed'}{used}.",
        "good" if met else "bad",
    )


def provider_tiles(figures: Figures, facts: list[ProviderFacts], name) -> list[dict]:
    """[{provider, tiles}] in provider order."""
    out = []
    for f in facts:
        tiles = [downtime_tile, failed_tile, cost_tile, ack_tile, slo_tile]
        out.append({"provider": name(f.provider), "tiles": [make(figures, f) for make in tiles]})
    return out
