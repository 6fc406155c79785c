"""reports/index.html: the front page: analysed period, data freshness, quarantine, headline KPIs, links."""

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.reports.charts.overview import incidents_strip
from assets.reports.costs import cost_rows
from assets.reports.figures import Figures
from assets.reports.formats import fmt_count, fmt_days, fmt_hours, fmt_pct, fmt_share, fmt_ts, format_ts
from assets.reports.marts_data import (
    COMPONENT_PROVIDER,
    PERIOD_ALL,
    display_names,
    has,
    quarantine_counts,
    read_mart,
    time_span,
)
from assets.reports.page import Page
from assets.reports.retrospective.subjects import Subject, select_subjects
from pipelines.core import tables
from pipelines.core.resources import Workspace
from pipelines.core.settings import safe_path

# (evidence source, mart, timestamp column, column that must be set): how fresh each source's data is.
FRESHNESS = (
    ("status pages", tables.INCIDENTS, "started_at", None),
    ("crowd reports", tables.CROWD_BASELINE, "bin_start", None),
    ("request logs", tables.MINUTE_SLI, "minute", None),
    ("app rankings", tables.MIGRATION_SIGNALS, "period_start", "best_rank"),
    ("outage episodes", tables.OUTAGE_EPISODES, "started_at", None),
    ("reconciled incidents", tables.RECONCILIATION, "triangulated_start", None),
)
HEADLINE_COLUMNS = (
    ("incidents", "incidents", fmt_count),
    ("uptime_pct", "uptime", fmt_pct),
    ("mttr_median_hours", "MTTR median", fmt_hours),
    ("mtbf_mean_days", "MTBF mean", fmt_days),
)
BUDGET_COLUMNS = (("availability", lambda v: fmt_share(v, 3)), ("budget_used_pct", lambda v: fmt_pct(v, 1)))
REL_KEY = ("provider", "component", "period")
_DAY_PAGE = re.compile(r"^\d{4}-\d{2}-\d{2}\.html$")
INDEX_DEPS = [
    tables.INCIDENTS,
    tables.COMPONENT_RELIABILITY,
    tables.SLO_BUDGET,
    tables.CROWD_BASELINE,
    tables.MINUTE_SLI,
    tables.MIGRATION_SIGNALS,
    tables.OUTAGE_EPISODES,
    tables.RECONCILIATION,
    tables.DOWNTIME_COST,
]
# The index links to the other pages, so it is built after them when they run together.
REPORT_DEPS = [
    dg.AssetKey(["reports", "retrospectives"]),
    dg.AssetKey(["reports", "vendor_review"]),
    dg.AssetKey(["reports", "daily_digest"]),
]


def freshness(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per evidence source: its mart, rows, first and latest timestamp (None when the mart is missing)."""
    out = []
    for source, table, column, not_null in FRESHNESS:
        rows, first, latest = time_span(con, table, column, not_null) or (None, None, None)
        out.append(
            {"source": source, "mart": tables.sql_name(table), "rows": rows, "first": first, "latest": latest}
        )
    return out


def _headline(figures: Figures, overall: pl.DataFrame, budget: pl.DataFrame | None, name) -> dict:
    """Per provider: incidents, uptime, MTTR, MTBF, and availability and budget use of our requests."""
    cols = [c for c in HEADLINE_COLUMNS if c[0] in overall.columns]
    windows = {}
    if has(budget, "provider", "period"):
        windows = {r["provider"]: r for r in budget.filter(pl.col("period") == "window").to_dicts()}
    rows = []
    for r in overall.sort("provider").to_dicts():
        row = {"provider": name(r["provider"])}
        row.update({c: figures.quote(tables.COMPONENT_RELIABILITY, r, c, REL_KEY, f) for c, _, f in cols})
        w = windows.get(r["provider"])
        if w is not None:
            for c, f in BUDGET_COLUMNS:
                if c in w:
                    row[c] = figures.quote(tables.SLO_BUDGET, w, c, ("provider", "period"), f)
        rows.append(row)
    columns = [
        ("provider", "provider"),
        *[(c, label) for c, label, _ in cols],
        ("availability", "API availability (our requests)"),
        ("budget_used_pct", "error budget used"),
    ]
    return {"rows": rows, "columns": columns}


def build_page(
    reliability: pl.DataFrame | None,
    budget: pl.DataFrame | None,
    incidents: pl.DataFrame | None,
    fresh: list[dict],
    rejected: list[dict],
    retro_links: list[tuple[str, str]],
    day_pages: list[str],
    display: dict[str, str],
) -> tuple[Page, Figures]:
    figures = Figures()
    page = Page(
        "index.html.j2",
        "AI provider incidents",
        subtitle="Offline incident analytics: crowd reports, status pages, "
        "app-store ranks and our own API telemetry.",
        nav=[
            ("vendor-review.html", "Vendor review"),
            ("#retrospectives", "Retrospectives"),
            ("#daily", "Daily digests"),
        ],
    )
    overall = None
    if has(reliability, "provider", "component", "period"):
        overall = reliability.filter(
            (pl.col("component") == COMPONENT_PROVIDER) & (pl.col("period") == PERIOD_ALL)
        )
    period = None
    if overall is not None and overall.height and has(overall, "period_start", "period_end"):
        first = overall.sort("provider").to_dicts()[0]
        period = {
            column.removeprefix("period_"): figures.quote(
                tables.COMPONENT_RELIABILITY, first, column, REL_KEY, fmt_ts
            )
            for column in ("period_start", "period_end")
        }
    headline = None
    if overall is not None and overall.height:
        headline = _headline(figures, overall, budget, lambda p: display.get(p, p))
    chart = None
    if has(incidents, "provider", "started_at", "resolved_at", "title", "impact", "incident_id"):
        chart = page.chart(
            "incidents",
            incidents_strip(incidents.with_columns(pl.col("provider").replace(display))),
            caption="One bar per status-page incident, from start to resolution, coloured by vendor impact.",
        )
    page.content.update(
        period=period,
        headline=headline,
        incidents_chart=chart,
        retro_links=retro_links,
        day_links=[(f"daily/{d}", d.removesuffix(".html")) for d in sorted(day_pages, reverse=True)],
        freshness=[
            {
                **r,
                "first": format_ts(r["first"]) if r["first"] else "-",
                "latest": format_ts(r["latest"]) if r["latest"] else "not available",
            }
            for r in fresh
        ],
        quarantine=rejected,
        built=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
    )
    return page, figures


def existing_day_pages(reports_dir: Path) -> list[str]:
    daily = reports_dir / "daily"
    return sorted(p.name for p in daily.glob("*.html") if _DAY_PAGE.match(p.name)) if daily.is_dir() else []


def retrospective_links(
    reports_dir: Path, subjects: Sequence[Subject], display: dict[str, str]
) -> list[tuple[str, str]]:
    """(href, "<start> <provider>: <title>") of every selected retrospective already written."""
    links = []
    for subject in subjects:
        if safe_path(reports_dir, "retrospective", f"{subject.slug}.html").exists():
            when = format_ts(subject.start) if subject.start else ""
            provider = display.get(subject.provider, subject.provider)
            links.append((f"retrospective/{subject.slug}.html", f"{when} {provider}: {subject.title}"))
    return links


@dg.asset(
    key=["reports", "index"], deps=INDEX_DEPS + REPORT_DEPS, group_name="reports", kinds={"html", "altair"}
)
def index(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """The front page, reports/index.html: analysed period, data freshness per evidence source (latest
    timestamp per mart), quarantined row counts per source, headline KPIs per provider, an incident
    timeline and links to the vendor review, every retrospective and every daily digest."""
    reports_dir = workspace.settings.reports_dir
    with workspace.warehouse(read_only=True) as con:
        reliability = read_mart(
            con, tables.COMPONENT_RELIABILITY, required=("provider", "component", "period")
        )
        budget = read_mart(con, tables.SLO_BUDGET, required=("provider", "period"))
        incidents = read_mart(con, tables.INCIDENTS, required=("provider", "incident_id", "started_at"))
        reconciliation = read_mart(con, tables.RECONCILIATION, required=("group_id", "provider"))
        costs = cost_rows(read_mart(con, tables.DOWNTIME_COST))
        fresh = freshness(con)
        rejected = quarantine_counts(con)
    display = display_names(workspace)
    links = retrospective_links(reports_dir, select_subjects(incidents, reconciliation, costs), display)
    page, figures = build_page(
        reliability, budget, incidents, fresh, rejected, links, existing_day_pages(reports_dir), display
    )
    written = page.write(reports_dir, "index")
    figures.write(safe_path(reports_dir, "index.figures.json"))
    context.log.info("wrote %s", written.path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(written.path)),
            "retrospectives_linked": len(links),
            "quarantined_rows": dg.MetadataValue.json({r["source"]: r["rows"] for r in rejected}),
            "preview": dg.MetadataValue.md(written.preview_markdown()),
        }
    )
