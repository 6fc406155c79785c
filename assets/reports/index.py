"""reports/index.html: the front page: per provider tiles over the analysed window, incidents, links, a
calendar of the daily digests, data freshness and quarantine."""

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.reports.calendar import calendar_strip, marked_days
from assets.reports.charts.overview import incidents_strip
from assets.reports.charts.palette import ProviderColors
from assets.reports.costs import cost_rows
from assets.reports.facts import ProviderFacts, provider_facts
from assets.reports.figures import Figures
from assets.reports.formats import fmt_count, fmt_days, fmt_hours, fmt_pct, fmt_share, format_ts
from assets.reports.headline import provider_tiles
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
from assets.reports.scope import Scope, workspace_scope
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
    tables.ACKNOWLEDGEMENT_LAG,
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


def _headline(
    figures: Figures, overall: pl.DataFrame, budget: pl.DataFrame | None, name, unseen: set[str]
) -> dict:
    """Per provider: incidents, uptime, MTTR, MTBF, and availability and budget use of our requests;
    `unseen` providers have no status-page evidence, so their status-page columns say "no data"."""
    cols = [c for c in HEADLINE_COLUMNS if c[0] in overall.columns]
    windows = {}
    if has(budget, "provider", "period"):
        windows = {r["provider"]: r for r in budget.filter(pl.col("period") == "window").to_dicts()}
    rows = []
    for r in overall.sort("provider").to_dicts():
        row = {"provider": name(r["provider"])}
        if r["provider"] in unseen:
            row.update({c: "no data" for c, _, _ in cols})
        else:
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
    facts: list[ProviderFacts] = (),
    scope: Scope | None = None,
    marked: tuple[set, set] = (set(), set()),
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
        scope=scope,
        colors=ProviderColors(list(display.values())),
    )

    def name(provider):
        return display.get(provider, provider)

    tiles = provider_tiles(figures, list(facts), name)
    overall = None
    if has(reliability, "provider", "component", "period"):
        overall = reliability.filter(
            (pl.col("component") == COMPONENT_PROVIDER) & (pl.col("period") == PERIOD_ALL)
        )
    headline = None
    if overall is not None and overall.height:
        unseen = {f.provider for f in facts if not f.has_status}
        headline = _headline(figures, overall, budget, name, unseen)
    chart = None
    if has(incidents, "provider", "started_at", "resolved_at", "title", "impact", "incident_id"):
        shown = (
            incidents
            if scope is None
            else incidents.filter(
                (pl.col("started_at") >= scope.window.start_ts) & (pl.col("started_at") < scope.window.end_ts)
            )
        )
        if shown.height:
            chart = page.chart(
                "incidents",
                incidents_strip(shown.with_columns(pl.col("provider").replace(display)), scope),
                caption="One bar per status-page incident in the analysed window, from start to resolution, "
                "coloured by the vendor's stated impact.",
            )
    days = [dt.date.fromisoformat(d.removesuffix(".html")) for d in day_pages]
    page.content.update(
        tiles=tiles,
        no_evidence=bool(facts) and not any(f.has_traffic or f.has_status for f in facts),
        headline=headline,
        incidents_chart=chart,
        retro_links=retro_links,
        calendar=calendar_strip(days, marked[0], lambda d: f"daily/{d.isoformat()}.html", minor=marked[1]),
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
    """The front page, `reports/index.html`: the analysed window as the run saw it; per provider, tiles for
    status-page downtime minutes, our failed requests, downtime cost (low/base/high), the median
    acknowledgement lag and the SLO status against its target ("no data" where the window has no
    evidence); the incidents of the window; links to the vendor review and every retrospective; a
    calendar strip of the daily digests with bad days marked; data freshness and quarantined rows."""
    reports_dir = workspace.settings.reports_dir
    scope = workspace_scope(context, workspace)
    with workspace.warehouse(read_only=True) as con:
        reliability = read_mart(
            con, tables.COMPONENT_RELIABILITY, required=("provider", "component", "period")
        )
        budget = read_mart(con, tables.SLO_BUDGET, required=("provider", "period"))
        incidents = read_mart(con, tables.INCIDENTS, required=("provider", "incident_id", "started_at"))
        reconciliation = read_mart(con, tables.RECONCILIATION, required=("group_id", "provider"))
        ack_lag = read_mart(con, tables.ACKNOWLEDGEMENT_LAG, required=("provider", "ack_lag_median_minutes"))
        costs = cost_rows(read_mart(con, tables.DOWNTIME_COST))
        episodes = read_mart(con, tables.OUTAGE_EPISODES, required=("provider", "started_at"))
        fresh = freshness(con)
        rejected = quarantine_counts(con)
    display = display_names(workspace)
    subjects = select_subjects(incidents, reconciliation, costs, scope=scope)
    links = retrospective_links(reports_dir, subjects, display)
    facts = provider_facts(list(display), scope, reliability, budget, costs, ack_lag, incidents)
    marked = marked_days(incidents, episodes)
    page, figures = build_page(
        reliability,
        budget,
        incidents,
        fresh,
        rejected,
        links,
        existing_day_pages(reports_dir),
        display,
        facts,
        scope,
        marked,
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
