"""The retrospective's tables: the status page's account, detection and response, ranks, cost."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from assets.reports.charts.overview import rank_chart
from assets.reports.costs import CostRow, breakdown_columns
from assets.reports.figures import Figures
from assets.reports.formats import fmt_count, fmt_minutes, fmt_money, fmt_share, fmt_ts
from assets.reports.marts_data import has
from assets.reports.page import Page
from assets.reports.retrospective.evidence import STAGES, Evidence
from assets.reports.retrospective.subjects import Subject
from assets.reports.retrospective.summary import CLASS_WORDS, GROUP_KEY, INCIDENT_KEY, lag, lead
from pipelines.core import tables

DETECTION_MEASURES = (
    ("classification", "what our evidence says", lambda v: CLASS_WORDS.get(str(v), str(v).replace("_", " "))),
    ("triangulated_start", "triangulated start (earliest credible signal)", fmt_ts),
    ("crowd_lead_minutes", "crowd lead over the vendor's first post", lead),
    ("telemetry_lead_minutes", "telemetry lead over the vendor's first post", lead),
    ("acknowledgement_lag_minutes", "acknowledgement lag after triangulated start", fmt_minutes),
    ("resolution_lag_minutes", "vendor resolution vs our telemetry recovery", lag),
    ("under_reporting_minutes", "impact minutes no vendor incident covered", fmt_minutes),
    ("peak_error_ratio", "peak error ratio of our requests", fmt_share),
    ("peak_crowd_reports", "peak crowd reports in one bin", fmt_count),
)
RANK_KEY = ("grain", "provider", "period_start", "country", "chart")


def status_rows(figures: Figures, incidents: Sequence[dict]) -> list[dict]:
    """One row per vendor incident: its stage times and duration as the status page published them."""
    rows = []
    for incident in incidents:
        q = figures.quoter(tables.INCIDENTS, incident, INCIDENT_KEY)
        row = {
            "incident": incident.get("incident_id"),
            "title": incident.get("title"),
            "impact": incident.get("impact") or "-",
            "components": ", ".join(incident.get("components") or []) or "-",
        }
        for column in STAGES:
            row[column] = q(column, fmt_ts)
        row["duration"] = q("duration_minutes", fmt_minutes)
        rows.append(row)
    return rows


def detection_rows(figures: Figures, group: dict) -> list[dict]:
    """The reconciliation's measures of detection and response that the group has."""
    q = figures.quoter(tables.RECONCILIATION, group, GROUP_KEY)
    return [
        {"measure": label, "value": q(column, fmt)}
        for column, label, fmt in DETECTION_MEASURES
        if group.get(column) is not None
    ]


def _day_ranks(ranks: pl.DataFrame | None) -> pl.DataFrame | None:
    """Daily best ranks, US store if present, the first chart only."""
    if has(ranks, "best_rank", "provider", "period_start"):
        ranks = ranks.filter(pl.col("best_rank").is_not_null())
        if "grain" in ranks.columns:
            ranks = ranks.filter(pl.col("grain") == "day")
        if "country" in ranks.columns and "us" in ranks["country"].to_list():
            ranks = ranks.filter(pl.col("country") == "us")
        if "chart" in ranks.columns and ranks.height:
            ranks = ranks.filter(pl.col("chart") == min(ranks["chart"].drop_nulls().unique().to_list()))
    return ranks


def rank_section(page: Page, figures: Figures, subject: Subject, evidence: Evidence, display) -> dict | None:
    """The rank chart and the incident day's ranks (None when the mart has no rank rows around it)."""
    ranks = _day_ranks(evidence.ranks)
    if not (has(ranks, "best_rank") and "country" in ranks.columns):
        return None
    ranked = ranks.sort("period_start").with_columns(pl.col("provider").replace(display))
    chart = page.chart(
        "app-ranks",
        rank_chart(ranked, subject.start),
        caption="Best App Store rank per provider and day (lower is better); red rule: incident start.",
    )
    day = (subject.start or evidence.start).astimezone(dt.UTC).date()
    rows = []
    for r in ranks.to_dicts():
        if r["period_start"].astimezone(dt.UTC).date() != day:
            continue
        q = figures.quoter(tables.MIGRATION_SIGNALS, r, [k for k in RANK_KEY if k in r])
        rows.append(
            {
                "provider": r["provider"],
                "country": r.get("country"),
                "rank": q("best_rank", fmt_count),
                "change_1d": q("rank_change_1d", fmt_count),
            }
        )
    return {"chart": chart, "day": day, "rows": rows}


def cost_table(figures: Figures, mine: Sequence[CostRow]) -> list[dict]:
    """Every cost row of the subject's incidents, low/base/high, with the components of each total."""
    rows = []
    for c in sorted(mine, key=lambda c: (str(c.incident_id), ("low", "base", "high").index(c.scenario))):
        total = figures.quote(tables.DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money)
        parts = [
            f"{col}: {figures.quote(tables.DOWNTIME_COST, c.row, col, c.key_columns, fmt_money)}"
            for col in breakdown_columns(c)
        ]
        rows.append(
            {
                "incident": c.incident_id,
                "scenario": c.scenario,
                "total": total,
                "components": "; ".join(parts) or "-",
            }
        )
    return rows
