"""The daily digest's tables: incidents open, outage episodes, SLO alerts, reconciled incidents.

Each returns None when its mart is missing (the page says "not available") and [] when the mart has no
row for the day (the page says "None.").
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from assets.reports.daily.day import episode_key
from assets.reports.figures import Figures
from assets.reports.formats import fmt_count, fmt_minutes, fmt_share, fmt_ts, format_ts
from assets.reports.retrospective.summary import CLASS_WORDS
from pipelines.core import tables

INCIDENT_KEY = ("provider", "incident_id")
ALERT_KEY = ("provider", "rule", "started_at")
GROUP_KEY = ("group_id",)
Retros = dict[tuple[str, str], str]  # (provider, incident id) or ("group", group id) -> retrospective slug


def incident_rows(figures: Figures, incidents: pl.DataFrame | None, retro: Retros, name) -> list[dict] | None:
    if incidents is None:
        return None
    rows = []
    for r in incidents.to_dicts():
        q = figures.quoter(tables.INCIDENTS, r, INCIDENT_KEY)
        slug = retro.get((str(r["provider"]), str(r["incident_id"])))
        rows.append(
            {
                "provider": name(r["provider"]),
                "title": r.get("title"),
                "impact": r.get("impact") or "-",
                "started": q("started_at", fmt_ts),
                "acknowledged": q("acknowledged_at", fmt_ts),
                "resolved": q("resolved_at", fmt_ts),
                "duration": q("duration_minutes", fmt_minutes),
                "retro": "yes" if slug else "-",
            }
        )
    return rows


def incident_links(incidents: pl.DataFrame | None, retro: Retros) -> list[tuple[str, str]]:
    if incidents is None:
        return []
    return [
        (
            f"../retrospective/{retro[(str(r['provider']), str(r['incident_id']))]}.html",
            f"Retrospective: {r.get('title')}",
        )
        for r in incidents.to_dicts()
        if (str(r["provider"]), str(r["incident_id"])) in retro
    ]


def episode_rows(figures: Figures, episodes: pl.DataFrame | None, name) -> list[dict] | None:
    if episodes is None:
        return None
    rows = []
    key = episode_key(episodes)
    for r in episodes.sort("started_at").to_dicts():
        peak_fmt = fmt_share if r["source"] == "telemetry" else fmt_count
        q = figures.quoter(tables.OUTAGE_EPISODES, r, key)
        rows.append(
            {
                "source": r["source"],
                "provider": name(r.get("provider")),
                "service": r.get("service") or "-",
                "country": r.get("country") or "-",
                "started": q("started_at", fmt_ts),
                "ended": q("ended_at", fmt_ts),
                "peak": q("peak_value", peak_fmt),
                "baseline": q("baseline_value", peak_fmt),
            }
        )
    return rows


MERGE_GAP = dt.timedelta(minutes=60)  # alerts of one rule closer than this read as one flapping alert


def _alert_runs(alerts: pl.DataFrame) -> list[list[dict]]:
    """Alerts of the same provider and rule whose gap is under MERGE_GAP, as runs (first alert first)."""
    runs: list[list[dict]] = []
    last: dict[tuple, list[dict]] = {}
    for r in alerts.sort("started_at").to_dicts():
        key = (r["provider"], r.get("rule"))
        run = last.get(key)
        end = run[-1].get("ended_at") or run[-1]["started_at"] if run else None
        if run and r["started_at"] - end < MERGE_GAP:
            run.append(r)
        else:
            last[key] = [r]
            runs.append(last[key])
    return runs


def alert_rows(figures: Figures, alerts: pl.DataFrame | None, name) -> list[dict] | None:
    """One row per run of flapping alerts (same provider and rule, under an hour apart): when it first
    fired, how many alerts, their firing minutes and the peak burn rate (quoted from its alert)."""
    if alerts is None:
        return None
    rows = []
    for run in _alert_runs(alerts):
        first = run[0]
        peak = max(run, key=lambda r: r.get("peak_burn_rate") or 0)
        minutes = sum(r.get("minutes") or 0 for r in run)
        rows.append(
            {
                "provider": name(first["provider"]),
                "rule": first.get("rule"),
                "severity": first.get("severity"),
                "started": figures.quoter(tables.SLO_ALERTS, first, ALERT_KEY)("started_at", fmt_ts),
                "alerts": len(run),
                "minutes": fmt_count(minutes),
                "burn": figures.quoter(tables.SLO_ALERTS, peak, ALERT_KEY)(
                    "peak_burn_rate", lambda v: f"{v:,.1f}x the allowed rate"
                ),
            }
        )
    return rows


def group_rows(figures: Figures, groups: pl.DataFrame | None, name) -> list[dict] | None:
    if groups is None:
        return None
    rows = []
    for r in groups.sort("triangulated_start").to_dicts():
        q = figures.quoter(tables.RECONCILIATION, r, GROUP_KEY)
        rows.append(
            {
                "provider": name(r["provider"]),
                "class": CLASS_WORDS.get(str(r.get("classification")), r.get("classification")),
                "start": q("triangulated_start", fmt_ts),
                "crowd": q("crowd_lead_minutes", fmt_minutes),
                "telemetry": q("telemetry_lead_minutes", fmt_minutes),
                "ack": q("acknowledgement_lag_minutes", fmt_minutes),
                "under": q("under_reporting_minutes", fmt_minutes),
            }
        )
    return rows


def group_links(groups: pl.DataFrame | None, retro: Retros, name) -> list[tuple[str, str]]:
    if groups is None:
        return []
    return [
        (
            f"../retrospective/{retro[('group', str(r['group_id']))]}.html",
            f"Retrospective: {name(r['provider'])} from {format_ts(r['triangulated_start'])}",
        )
        for r in groups.sort("triangulated_start").to_dicts()
        if ("group", str(r["group_id"])) in retro
    ]
