"""The vendor review asset, reports/vendor-review.html: every section, then the recommendation."""

from collections.abc import Sequence

import dagster as dg
import polars as pl

from assets.reports.costs import CostRow, cost_rows
from assets.reports.figures import Figures
from assets.reports.formats import fmt_pct
from assets.reports.marts_data import display_names, has, read_mart
from assets.reports.page import Page
from assets.reports.vendor_review.reliability import (
    monthly_chart,
    mttr_section,
    provider_overall,
    uptime_section,
)
from assets.reports.vendor_review.review import REL_KEY, Review
from assets.reports.vendor_review.spend import cost_section, failover_section, slo_section
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


def recommendation(review: Review, overall: pl.DataFrame | None) -> str | None:
    """The sections' sentences plus a primary and a failover provider by uptime (None without data)."""
    if overall is not None and overall.height >= 2 and "uptime_pct" in overall.columns:
        ranked = sorted(overall.to_dicts(), key=lambda r: -(r["uptime_pct"] or 0))
        runner_up = review.figures.quote(
            tables.COMPONENT_RELIABILITY, ranked[1], "uptime_pct", REL_KEY, fmt_pct
        )
        review.recommendation.append(
            f"On these figures, make {review.name(ranked[0]['provider'])} the primary provider and keep "
            f"{review.name(ranked[1]['provider'])} ({runner_up}) as the failover target; "
            "revisit when the next month's figures arrive."
        )
    return " ".join(review.recommendation) if review.recommendation else None


def build_page(
    reliability: pl.DataFrame | None,
    incidents: pl.DataFrame | None,
    budget: pl.DataFrame | None,
    costs: Sequence[CostRow],
    failover: pl.DataFrame | None,
    correlation: pl.DataFrame | None,
    display: dict[str, str],
) -> tuple[Page, Figures]:
    """The review page and the figures it quotes; sections run in page order (chart ids, figure order)."""
    page = Page(
        "vendor_review.html.j2",
        "Vendor review",
        subtitle="Reliability, error budgets, downtime cost and failover value per provider.",
        nav=[("index.html", "Index")],
    )
    review = Review(page, display)
    overall = provider_overall(reliability)
    page.content.update(
        uptime=uptime_section(review, overall),
        mttr=mttr_section(review, overall, incidents),
        monthly=monthly_chart(review, reliability),
        slo=slo_section(review, budget),
        cost=cost_section(review, costs),
        failover=failover_section(review, failover),
        migration=migration_findings(correlation),
    )
    page.content["recommendation"] = recommendation(review, overall)
    return page, review.figures


@dg.asset(key=["reports", "vendor_review"], deps=VENDOR_DEPS, group_name="reports", kinds={"html", "altair"})
def vendor_review(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """The vendor-choice review, reports/vendor-review.html: uptime under each weighting policy, MTTR
    distribution, incidents per month, SLO budget use, downtime cost per month (low/base/high), failover
    value and correlated-failure minutes, migration-vs-errors findings and a recommendation built from
    those figures; vendor-review.figures.json lists every quoted figure with its mart cell."""
    with workspace.warehouse(read_only=True) as con:
        reliability = read_mart(
            con, tables.COMPONENT_RELIABILITY, required=("provider", "component", "period")
        )
        incidents = read_mart(con, tables.INCIDENTS, required=("provider", "incident_id"))
        budget = read_mart(con, tables.SLO_BUDGET, required=("provider", "period"))
        costs = cost_rows(read_mart(con, tables.DOWNTIME_COST))
        failover = read_mart(con, tables.FAILOVER)
        correlation = read_mart(con, tables.MIGRATION_CORRELATION)
    page, figures = build_page(
        reliability, incidents, budget, costs, failover, correlation, display_names(workspace)
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
