"""reports/index.html: the front page: analysed period, data freshness, quarantine, headline KPIs, links."""

import datetime as dt
import re
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.reports import charts
from assets.reports.marts_data import (
    COMPONENT_PROVIDER,
    CROWD_BASELINE,
    DOWNTIME_COST,
    INCIDENTS,
    MIGRATION_SIGNALS,
    MINUTE_SLI,
    OUTAGE_EPISODES,
    PERIOD_ALL,
    RECONCILIATION,
    REJECTED,
    RELIABILITY,
    SLO_BUDGET,
    Figures,
    cost_rows,
    display_names,
    fmt_count,
    fmt_days,
    fmt_hours,
    fmt_pct,
    fmt_share,
    fmt_ts,
    has,
    read_mart,
    table_columns,
    table_exists,
)
from assets.reports.page import Page, format_ts
from assets.reports.retrospective import select_subjects
from pipelines.core.resources import Workspace
from pipelines.core.settings import safe_path

# (evidence source, mart, timestamp column, extra filter): how fresh each source's data is.
FRESHNESS = (
    ("status pages", INCIDENTS, "started_at", ""),
    ("crowd reports", CROWD_BASELINE, "bin_start", ""),
    ("request logs", MINUTE_SLI, "minute", ""),
    ("app rankings", MIGRATION_SIGNALS, "period_start", "WHERE best_rank IS NOT NULL"),
    ("outage episodes", OUTAGE_EPISODES, "started_at", ""),
    ("reconciled incidents", RECONCILIATION, "triangulated_start", ""),
)
_DAY_PAGE = re.compile(r"^\d{4}-\d{2}-\d{2}\.html$")
INDEX_DEPS = [
    dg.AssetKey(["marts", name])
    for name in (
        "incidents",
        "component_reliability",
        "slo_budget",
        "crowd_baseline",
        "provider_minute_sli",
        "migration_signals",
        "outage_episodes",
        "incident_reconciliation",
        "downtime_cost",
    )
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
    for source, table, column, where in FRESHNESS:
        row = {"source": source, "mart": table, "rows": None, "first": None, "latest": None}
        if table_exists(con, table) and column in table_columns(con, table):
            if "best_rank" in where and "best_rank" not in table_columns(con, table):
                where = ""
            found = con.execute(
                f"SELECT count(*), min({column}), max({column}) FROM {table} {where}"
            ).fetchall()
            row["rows"], row["first"], row["latest"] = found[0]
        out.append(row)
    return out


def quarantine_counts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    if not table_exists(con, REJECTED):
        return []
    rows = con.execute(f"SELECT source, count(*) FROM {REJECTED} GROUP BY source ORDER BY source").fetchall()
    return [{"source": s, "rows": n} for s, n in rows]


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
        "AI provider incidents",
        subtitle="Offline incident analytics: crowd reports, status pages, "
        "app-store ranks and our own API telemetry.",
        nav=[
            ("vendor-review.html", "Vendor review"),
            ("#retrospectives", "Retrospectives"),
            ("#daily", "Daily digests"),
        ],
    )
    name = lambda p: display.get(p, p)
    key = ("provider", "component", "period")
    overall = None
    if has(reliability, "provider", "component", "period"):
        overall = reliability.filter(
            (pl.col("component") == COMPONENT_PROVIDER) & (pl.col("period") == PERIOD_ALL)
        )

    page.heading("Analysed period")
    if overall is not None and overall.height and has(overall, "period_start", "period_end"):
        first = overall.sort("provider").to_dicts()[0]
        page.paragraph(
            f"From {figures.quote(RELIABILITY, first, 'period_start', key, fmt_ts)} to "
            f"{figures.quote(RELIABILITY, first, 'period_end', key, fmt_ts)} (exclusive)."
        )
    else:
        page.not_available("Analysed period", "marts.component_reliability is missing")

    page.heading("Headline figures per provider")
    if overall is not None and overall.height:
        cols = [
            (c, label, f)
            for c, label, f in (
                ("incidents", "incidents", fmt_count),
                ("uptime_pct", "uptime", fmt_pct),
                ("mttr_median_hours", "MTTR median", fmt_hours),
                ("mtbf_mean_days", "MTBF mean", fmt_days),
            )
            if c in overall.columns
        ]
        windows = {}
        if has(budget, "provider", "period"):
            windows = {r["provider"]: r for r in budget.filter(pl.col("period") == "window").to_dicts()}
        rows = []
        for r in overall.sort("provider").to_dicts():
            row = {
                "provider": name(r["provider"]),
                **{c: figures.quote(RELIABILITY, r, c, key, f) for c, _, f in cols},
            }
            w = windows.get(r["provider"])
            if w is not None:
                for c, f in (
                    ("availability", lambda v: fmt_share(v, 3)),
                    ("budget_used_pct", lambda v: fmt_pct(v, 1)),
                ):
                    if c in w:
                        row[c] = figures.quote(SLO_BUDGET, w, c, ("provider", "period"), f)
            rows.append(row)
        page.table(
            rows,
            [
                ("provider", "provider"),
                *[(c, label) for c, label, _ in cols],
                ("availability", "API availability (our requests)"),
                ("budget_used_pct", "error budget used"),
            ],
        )
    else:
        page.not_available("Headline figures", "marts.component_reliability is missing")
    if has(incidents, "provider", "started_at", "resolved_at", "title", "impact", "incident_id"):
        page.chart(
            "incidents",
            charts.incidents_strip(incidents.with_columns(pl.col("provider").replace(display))),
            caption="One bar per status-page incident, from start to resolution, coloured by vendor impact.",
        )

    page.heading("Pages", anchor="retrospectives")
    page.links([("vendor-review.html", "Vendor review: uptime, MTTR, SLO budgets, downtime cost, failover")])
    page.heading("Incident retrospectives", level=3)
    if retro_links:
        page.links(retro_links)
    else:
        page.not_available("Retrospectives", "none written yet")
    page.heading("Daily digests", level=3, anchor="daily")
    if day_pages:
        page.links([(f"daily/{d}", d.removesuffix(".html")) for d in sorted(day_pages, reverse=True)])
    else:
        page.not_available("Daily digests", "no day materialised yet")

    page.heading("Data freshness")
    page.table(
        [
            {
                **r,
                "first": format_ts(r["first"]) if r["first"] else "-",
                "latest": format_ts(r["latest"]) if r["latest"] else "not available",
            }
            for r in fresh
        ],
        [
            ("source", "evidence"),
            ("mart", "mart"),
            ("rows", "rows"),
            ("first", "first"),
            ("latest", "latest"),
        ],
    )
    page.heading("Quarantined input rows")
    if rejected:
        page.table(rejected, [("source", "source"), ("rows", "rows refused")])
    else:
        page.paragraph("No input row was quarantined.")
    page.paragraph(f"Built {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.")
    return page, figures


def existing_day_pages(reports_dir: Path) -> list[str]:
    daily = reports_dir / "daily"
    return sorted(p.name for p in daily.glob("*.html") if _DAY_PAGE.match(p.name)) if daily.is_dir() else []


@dg.asset(
    key=["reports", "index"], deps=INDEX_DEPS + REPORT_DEPS, group_name="reports", kinds={"html", "altair"}
)
def index(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """The front page, reports/index.html: analysed period, data freshness per evidence source (latest
    timestamp per mart), quarantined row counts per source, headline KPIs per provider, an incident
    timeline and links to the vendor review, every retrospective and every daily digest."""
    reports_dir = workspace.settings.reports_dir
    with workspace.warehouse(read_only=True) as con:
        reliability = read_mart(con, RELIABILITY, required=("provider", "component", "period"))
        budget = read_mart(con, SLO_BUDGET, required=("provider", "period"))
        incidents = read_mart(con, INCIDENTS, required=("provider", "incident_id", "started_at"))
        reconciliation = read_mart(con, RECONCILIATION, required=("group_id", "provider"))
        costs = cost_rows(read_mart(con, DOWNTIME_COST))
        fresh = freshness(con)
        rejected = quarantine_counts(con)
    display = display_names(workspace)
    links = []
    for subject in select_subjects(incidents, reconciliation, costs):
        if safe_path(reports_dir, "retrospective", f"{subject.slug}.html").exists():
            when = format_ts(subject.start) if subject.start else ""
            links.append(
                (
                    f"retrospective/{subject.slug}.html",
                    f"{when} {display.get(subject.provider, subject.provider)}: {subject.title}",
                )
            )
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
