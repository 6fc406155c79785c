"""The retrospective's first screen: what broke, for whom, how long, failed requests, cost with its range,
who recovered first, how late the vendor was and what failover would have saved; each tile a mart cell."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from assets.reports.costs import CostRow
from assets.reports.facts import best_failover
from assets.reports.figures import Figures
from assets.reports.formats import fmt_count, fmt_minutes, fmt_money, fmt_ts
from assets.reports.retrospective.subjects import Subject
from assets.reports.retrospective.summary import GROUP_KEY, INCIDENT_KEY
from assets.reports.tiles import missing, tile
from pipelines.core import tables

RECOVERY = (  # reconciliation column -> who recovered
    ("telemetry_recovered_at", "our requests"),
    ("crowd_recovered_at", "crowd reports"),
    ("vendor_resolved_at", "the vendor's status page"),
)
FAILOVER_KEY = ("policy", "provider")
BASIS_WORDS = {  # marts.downtime_cost impact_basis: what the cost was scaled by
    "telemetry": "; priced on our failed requests",
    "crowd": "; priced on crowd-reported impact",
    "no_evidence": "; no observed impact, so the vendor's label alone",
}


def _what_broke(subject: Subject) -> dict:
    components = sorted({c for i in subject.incidents for c in (i.get("components") or [])})
    value = ", ".join(components) if components else "not stated"
    return tile("What broke", value, f"{subject.title}.", "bad")


def _for_whom(subject: Subject) -> dict:
    group = subject.group or {}
    countries = group.get("crowd_countries") or []
    capabilities = sorted({c for i in subject.incidents for c in (i.get("capabilities") or [])})
    if not (countries or capabilities):
        return missing("For whom", "no crowd countries or mapped capabilities in the evidence")
    value = ", ".join(str(c).upper() for c in countries) if countries else ", ".join(capabilities)
    sentence = (
        "countries whose crowd reports rose" if countries else "capabilities of the affected components"
    )
    if countries and capabilities:
        sentence += f"; capabilities: {', '.join(capabilities)}"
    return tile("For whom", value, sentence + ".")


def _how_long(figures: Figures, subject: Subject) -> dict:
    group = subject.group or {}
    primary = subject.incidents[0] if subject.incidents else {}
    if group.get("observed_impact_minutes") is not None:
        value = figures.quote(tables.RECONCILIATION, group, "observed_impact_minutes", GROUP_KEY, fmt_minutes)
        return tile("How long", value, "impact our own evidence observed.")
    if primary.get("duration_minutes") is not None:
        value = figures.quote(tables.INCIDENTS, primary, "duration_minutes", INCIDENT_KEY, fmt_minutes)
        return tile("How long", value, "start to resolution by the vendor's status page.")
    return missing("How long", "no resolution time in the evidence")


def _failed(figures: Figures, cost: CostRow | None) -> dict:
    if cost is None or cost.row.get("failed_requests") is None:
        return missing("Failed requests", "no request telemetry priced for this incident")
    value = figures.quote(tables.DOWNTIME_COST, cost.row, "failed_requests", cost.key_columns, fmt_count)
    return tile("Failed requests", value, "of our requests failed in the incident window.", "bad")


def _cost(figures: Figures, by_scenario: dict[str, CostRow]) -> dict:
    if "base" not in by_scenario:
        return missing("Cost", "marts.downtime_cost has no row for this incident")

    def q(c: CostRow) -> str:
        return figures.quote(tables.DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money)

    spread = "no range"
    if {"low", "high"} <= by_scenario.keys():
        spread = f"low {q(by_scenario['low'])} to high {q(by_scenario['high'])}"
    basis = BASIS_WORDS.get(str(by_scenario["base"].row.get("impact_basis")), "")
    state = "missing" if by_scenario["base"].row.get("impact_basis") == "no_evidence" else "ok"
    return tile(
        "Cost (base)", q(by_scenario["base"]), f"{spread} under the cost model's scenarios{basis}.", state
    )


def _recovered_first(figures: Figures, subject: Subject) -> dict:
    group = subject.group or {}
    times = [(group[c], c, who) for c, who in RECOVERY if group.get(c) is not None]
    if len(times) >= 2:  # one time alone says nothing about who was first
        _, column, who = min(times)
        text = figures.quote(tables.RECONCILIATION, group, column, GROUP_KEY, fmt_ts)
        return tile("Who recovered first", who, f"recovered at {text}.")
    lag = group.get("resolution_lag_minutes")
    if lag is None:
        return missing("Who recovered first", "no recovery time from our telemetry to compare")
    text = figures.quote(
        tables.RECONCILIATION, group, "resolution_lag_minutes", GROUP_KEY, lambda v: fmt_minutes(abs(v))
    )
    if lag >= 0:
        return tile("Who recovered first", "our requests", f"the vendor declared resolution {text} later.")
    return tile("Who recovered first", "the vendor's status page", f"our requests recovered {text} later.")


def _vendor_lateness(figures: Figures, subject: Subject) -> dict:
    group = subject.group or {}
    if group.get("acknowledgement_lag_minutes") is None:
        return missing("Vendor lateness", "no vendor post to compare with our first signal")
    value = figures.quote(tables.RECONCILIATION, group, "acknowledgement_lag_minutes", GROUP_KEY, fmt_minutes)
    state = "bad" if group["acknowledgement_lag_minutes"] > 30 else "ok"
    return tile(
        "Vendor lateness", value, "from the first signal in our evidence to the vendor's first post.", state
    )


def _failover(figures: Figures, subject: Subject, failover: pl.DataFrame | None, name) -> dict:
    best = best_failover(failover, subject.provider)
    if best is None:
        return missing(
            "Failover would have saved", f"no simulated policy avoided any cost for {name(subject.provider)}"
        )
    keys = [k for k in FAILOVER_KEY if k in best]
    value = figures.quote(tables.FAILOVER, best, "downtime_cost_avoided_usd", keys, fmt_money)
    return tile(
        "Failover would have saved",
        value,
        f"over the whole window (not this incident alone), policy \u201c{best.get('policy', '?')}\u201d.",
        "good",
    )


def retrospective_tiles(
    figures: Figures,
    subject: Subject,
    by_scenario: dict[str, CostRow],
    failover: pl.DataFrame | None,
    name,
) -> list[dict]:
    return [
        _what_broke(subject),
        _for_whom(subject),
        _how_long(figures, subject),
        _failed(figures, by_scenario.get("base")),
        _cost(figures, by_scenario),
        _recovered_first(figures, subject),
        _vendor_lateness(figures, subject),
        _failover(figures, subject, failover, name),
    ]


def primary_costs(subject: Subject, mine: Sequence[CostRow]) -> dict[str, CostRow]:
    """scenario -> cost row of the subject's group (or its primary incident)."""
    group_id = str((subject.group or {}).get("group_id"))
    by_group = {c.scenario: c for c in mine if str(c.row.get("group_id")) == group_id}
    if by_group:
        return by_group
    primary = str(subject.incidents[0]["incident_id"]) if subject.incidents else None
    return {c.scenario: c for c in mine if str(c.incident_id) == primary}
