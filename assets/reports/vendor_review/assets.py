"""The vendor review asset, reports/vendor-review.html: the recommendation first, then the evidence."""

from collections.abc import Sequence

import dagster as dg
import polars as pl

from assets.reports.charts.palette import ProviderColors
from assets.reports.costs import CostRow, cost_rows
from assets.reports.facts import provider_facts
from assets.reports.figures import Figures
from assets.reports.marts_data import COMPONENT_PROVIDER, display_names, has, read_mart
from assets.reports.page import Page
from assets.reports.scope import Scope, workspace_scope
from assets.reports.vendor_review.compare import side_by_side
from assets.reports.vendor_review.decision import decide
from assets.reports.vendor_review.reliability import (
    monthly_chart,
    mttr_section,
    provider_overall,
    uptime_section,
)
from assets.reports.vendor_review.review import Review
from assets.reports.vendor_review.spend import cost_section, failover_section, slo_section
from assets.reports.vendor_review.status_bars import status_bars_section
from pipelines.core import tables
from pipelines.core.resources import Workspace
from pipelines.core.settings import safe_path

VENDOR_DEPS = [
    tables.COMPONENT_RELIABILITY,
    tables.INCIDENTS,
    tables.SLO_BUDGET,
    tables.DOWNTIME_COST,
    tables.FAILOVER,
    tables.MIGRATION_CORRELATION,
    tables.ACKNOWLEDGEMENT_LAG,
    tables.COMPONENT_DAILY_UPTIME,
]


def migration_findings(correlation: pl.DataFrame | None) -> dict | None:
    """Significant migration-vs-errors findings, most significant first (None without the mart)."""
    if not has(correlation, "sentence", "significant"):
        return None
    findings = correlation.filter(pl.col("significant")).sort("p_value")
    return {
        "sentences": [str(f) for f in findings["sentence"].to_list()[:12] if f],
        "none_significant": findings.is_empty(),
    }


def build_page(
    reliability: pl.DataFrame | None,
    incidents: pl.DataFrame | None,
    budget: pl.DataFrame | None,
    costs: Sequence[CostRow],
    failover: pl.DataFrame | None,
    correlation: pl.DataFrame | None,
    display: dict[str, str],
    scope: Scope | None = None,
    ack_lag: pl.DataFrame | None = None,
    daily_uptime: pl.DataFrame | None = None,
) -> tuple[Page, Figures]:
    """The review page and the figures it quotes; the decision first, then the sections in page order."""
    page = Page(
        "vendor_review.html.j2",
        "Vendor review",
        subtitle="Which provider to make primary, which to fail over to, and what the evidence says.",
        nav=[("index.html", "Index")],
        scope=scope,
        colors=ProviderColors(list(display.values())),
    )
    review = Review(page, display)
    facts = provider_facts(list(display), scope, reliability, budget, costs, ack_lag, incidents)
    window = scope.text if scope else "the analysed window"
    page.content["decision"] = decide(review, facts, failover, window)
    page.content["compare"] = side_by_side(review, facts, ack_lag, failover)
    with_status = [f.provider for f in facts if f.has_status]
    overall = provider_overall(reliability)
    page.content["status_bars"] = status_bars_section(review, daily_uptime, overall, scope)
    if overall is not None:
        overall = overall.filter(pl.col("provider").is_in(with_status))
    page.content.update(
        uptime=uptime_section(review, overall),
        mttr=mttr_section(review, overall, incidents),
        monthly=monthly_chart(review, reliability, with_status),
        slo=slo_section(review, budget),
        cost=cost_section(review, costs, scope),
        failover=failover_section(review, failover),
        migration=migration_findings(correlation),
    )
    return page, review.figures


@dg.asset(key=["reports", "vendor_review"], deps=VENDOR_DEPS, group_name="reports", kinds={"html", "altair"})
def vendor_review(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """The vendor-choice review, `reports/vendor-review.html`: first the recommendation (primary and
    failover provider) with its reasons, uncertainty and evidence, or "not enough data"; a side-by-side
    per provider (measured vs claimed uptime, MTTR, acknowledgement grade from marts.acknowledgement_lag,
    SLA credits, cost, failover value); status-page uptime bars per provider and day (last 90 days of the
    window, marts.component_daily_uptime); then uptime per weighting policy, MTTR distribution, incidents per month, SLO budget use,
    downtime cost per month of the window, every failover policy and the migration findings;
    `vendor-review.figures.json` lists every quoted figure with its mart cell."""
    scope = workspace_scope(context, workspace)
    with workspace.warehouse(read_only=True) as con:
        reliability = read_mart(
            con, tables.COMPONENT_RELIABILITY, required=("provider", "component", "period")
        )
        incidents = read_mart(con, tables.INCIDENTS, required=("provider", "incident_id"))
        budget = read_mart(con, tables.SLO_BUDGET, required=("provider", "period"))
        costs = cost_rows(read_mart(con, tables.DOWNTIME_COST))
        failover = read_mart(con, tables.FAILOVER)
        correlation = read_mart(con, tables.MIGRATION_CORRELATION)
        ack_lag = read_mart(
            con, tables.ACKNOWLEDGEMENT_LAG, required=("provider", "ack_lag_graded_mean_minutes")
        )
        daily_uptime = read_mart(
            con,
            tables.COMPONENT_DAILY_UPTIME,
            "WHERE component = ?",
            [COMPONENT_PROVIDER],
            ("day", "worst_status"),
        )
    page, figures = build_page(
        reliability,
        incidents,
        budget,
        costs,
        failover,
        correlation,
        display_names(workspace),
        scope,
        ack_lag,
        daily_uptime,
    )
    out_dir = workspace.settings.reports_dir
    written = page.write(out_dir, "vendor-review")
    figures.write(safe_path(out_dir, "vendor-review.figures.json"))
    context.log.info("wrote %s with %d charts", written.path, len(page.charts))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(written.path)),
            "charts": len(page.charts),
            "figures_quoted": len(figures.items),
            "preview": dg.MetadataValue.md(written.preview_markdown()),
        }
    )
