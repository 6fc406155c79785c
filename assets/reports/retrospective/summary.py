"""The retrospective's written summary, assembled from quoted mart figures only."""

from __future__ import annotations

from collections.abc import Mapping

from assets.reports.costs import CostRow
from assets.reports.figures import Figures
from assets.reports.formats import fmt_count, fmt_minutes, fmt_money, fmt_share, fmt_ts
from pipelines.core import tables

INCIDENT_KEY = ("provider", "incident_id")
# marts.incident_reconciliation's classes, in words a reader needs no glossary for
CLASS_WORDS = {
    "matched": "the vendor reported it and our evidence agrees",
    "unreported_impact": "our evidence saw impact the vendor never reported",
    "vendor_only": "only the vendor reported it; our evidence saw nothing",
    "severity_understated": "the vendor rated it milder than the impact we saw",
}
GROUP_KEY = ("group_id",)


def lead(value) -> str:
    """A lead over the vendor's first post: positive = our signal came first."""
    if value is None:
        return "n/a"
    return f"{fmt_minutes(abs(value))} {'before' if value >= 0 else 'after'}"


def lag(value) -> str:
    """A lag behind our telemetry: positive = the vendor was later."""
    if value is None:
        return "n/a"
    return f"{fmt_minutes(abs(value))} {'after' if value >= 0 else 'before'}"


def incident_sentence(figures: Figures, primary: dict, provider_name: str) -> str:
    def q(column, fmt):
        return figures.quote(tables.INCIDENTS, primary, column, INCIDENT_KEY, fmt)

    impact = primary.get("impact") or "not stated"
    text = (
        f"{provider_name}'s incident \u201c{primary.get('title')}\u201d (vendor impact: {impact}) "
        f"started at {q('started_at', fmt_ts)}"
    )
    if primary.get("resolved_at") is None:
        return text + "; the data holds no resolution for it."
    return text + (
        f" and was resolved at {q('resolved_at', fmt_ts)}, "
        f"{q('duration_minutes', fmt_minutes)} later by the status page's account."
    )


def _leads(group: dict, q) -> str | None:
    leads = []
    if group.get("crowd_lead_minutes") is not None:
        leads.append(f"crowd reports rose {q('crowd_lead_minutes', lead)} the vendor's first post")
    if group.get("telemetry_lead_minutes") is not None:
        leads.append(f"our own telemetry saw it {q('telemetry_lead_minutes', lead)} that post")
    if not leads:
        return None
    text = " and ".join(leads)
    return text[0].upper() + text[1:] + "."


def group_sentences(figures: Figures, group: dict) -> str:
    """What our evidence says about the reconciled group: start, leads, lags, peaks, class."""

    def q(column, fmt):
        return figures.quote(tables.RECONCILIATION, group, column, GROUP_KEY, fmt)

    parts = []
    if group.get("triangulated_start") is not None:
        parts.append(f"Our evidence puts the start at {q('triangulated_start', fmt_ts)}.")
    leads = _leads(group, q)
    if leads:
        parts.append(leads)
    if group.get("acknowledgement_lag_minutes") is not None:
        parts.append(
            f"The vendor acknowledged {q('acknowledgement_lag_minutes', fmt_minutes)} after the triangulated start."
        )
    if group.get("resolution_lag_minutes") is not None:
        parts.append(f"It declared resolution {q('resolution_lag_minutes', lag)} our telemetry recovered.")
    if group.get("under_reporting_minutes"):
        parts.append(
            f"{q('under_reporting_minutes', fmt_minutes)} of the impact we observed were "
            "covered by no vendor incident."
        )
    if group.get("peak_error_ratio") is not None:
        parts.append(f"Our requests peaked at an error ratio of {q('peak_error_ratio', fmt_share)}.")
    if group.get("peak_crowd_reports") is not None:
        parts.append(f"Crowd reports peaked at {q('peak_crowd_reports', fmt_count)} in one bin.")
    if group.get("classification"):
        words = q("classification", lambda v: CLASS_WORDS.get(str(v), str(v).replace("_", " ")))
        parts.append(f"In short: {words}.")
    return " ".join(parts)


def cost_sentence(figures: Figures, by_scenario: Mapping[str, CostRow]) -> str | None:
    """The primary incident's base cost with its low-high range (None without a base row)."""
    if "base" not in by_scenario:
        return None

    def q(c: CostRow) -> str:
        return figures.quote(tables.DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money)

    text = f"Estimated downtime cost: {q(by_scenario['base'])} in the base scenario"
    if "low" in by_scenario and "high" in by_scenario:
        text += f" (low {q(by_scenario['low'])}, high {q(by_scenario['high'])})"
    return text + "."
