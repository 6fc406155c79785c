"""Reliability sections of the vendor review: uptime per weighting policy, MTTR, incidents per month."""

from __future__ import annotations

import polars as pl

from assets.reports.charts.vendor import duration_distribution, grouped_bars, uptime_policy_chart
from assets.reports.formats import fmt_count, fmt_days, fmt_hours, fmt_pct, fmt_yes_no
from assets.reports.marts_data import COMPONENT_PROVIDER, PERIOD_ALL, has
from assets.reports.vendor_review.review import REL_KEY, Review
from pipelines.core import tables

POLICIES = {  # uptime column -> policy label (weight of a partial-outage minute; major = 1)
    "uptime_pct_w0": "partial = 0",
    "uptime_pct_w03": "partial = 0.3",
    "uptime_pct_w05": "partial = 0.5",
    "uptime_pct_w1": "partial = 1",
}
MTTR_COLUMNS = (
    ("incidents", "incidents", fmt_count),
    ("mttr_mean_hours", "MTTR mean", fmt_hours),
    ("mttr_median_hours", "MTTR median", fmt_hours),
    ("mttr_p90_hours", "MTTR p90", fmt_hours),
    ("mtbf_mean_days", "MTBF mean", fmt_days),
)


def provider_overall(reliability: pl.DataFrame | None) -> pl.DataFrame | None:
    """Provider-level rows over the whole analysed period (None without uptime)."""
    if not has(reliability, "provider", "component", "period", "uptime_pct"):
        return None
    return reliability.filter((pl.col("component") == COMPONENT_PROVIDER) & (pl.col("period") == PERIOD_ALL))


def _quote(review: Review, row: dict, column: str, fmt=fmt_pct) -> str:
    return review.figures.quote(tables.COMPONENT_RELIABILITY, row, column, REL_KEY, fmt)


def _ranking_changes(review: Review, overall: pl.DataFrame) -> str | None:
    """Whether the provider ranking changes with the weighting (quoted), and who leads counting fully."""
    if (
        "ranking_changes_with_policy" not in overall.columns
        or not overall["ranking_changes_with_policy"].any()
    ):
        return None
    flagged = next(r for r in overall.to_dicts() if r["ranking_changes_with_policy"])
    changed = _quote(review, flagged, "ranking_changes_with_policy", fmt_yes_no)
    if "uptime_pct_w1" in overall.columns:
        strict = max(overall.to_dicts(), key=lambda r: r["uptime_pct_w1"] or 0)
        changed += (
            f"; counting partial outages fully, {review.name(strict['provider'])} leads "
            f"({_quote(review, strict, 'uptime_pct_w1')})"
        )
    return changed


def uptime_section(review: Review, overall: pl.DataFrame | None) -> dict | None:
    """Uptime per provider under each weighting policy (table, chart); the leader goes into the
    recommendation. None without provider-level rows."""
    if overall is None or not overall.height:
        return None
    policy_cols = [c for c in POLICIES if c in overall.columns]
    rows = []
    for r in overall.sort("provider").to_dicts():
        row = {"provider": review.name(r["provider"]), "uptime": _quote(review, r, "uptime_pct")}
        for col in policy_cols:
            row[col] = _quote(review, r, col)
        rows.append(row)
    columns = [
        ("provider", "provider"),
        ("uptime", "uptime (default policy, status page)"),
        *[(c, POLICIES[c]) for c in policy_cols],
    ]
    chart = None
    if policy_cols:
        long = (
            overall.select(pl.col("provider").replace(review.display), *policy_cols)
            .unpivot(index="provider", variable_name="policy", value_name="uptime_pct")
            .with_columns(pl.col("policy").replace(POLICIES))
        )
        chart = review.page.chart(
            "uptime-policies",
            uptime_policy_chart(long),
            caption="Downtime is 100% minus the status page's uptime, so shorter bars are better and every "
            "bar starts at zero. Major-outage minutes always count fully; the policies differ in how a "
            "partial-outage minute counts. Maintenance is excluded.",
        )
    ranking_changes = _ranking_changes(review, overall)
    return {"rows": rows, "columns": columns, "chart": chart, "ranking_changes": ranking_changes}


def mttr_section(review: Review, overall: pl.DataFrame | None, incidents: pl.DataFrame | None) -> dict:
    """MTTR/MTBF per provider (table, None without MTTR columns) and every incident's duration (chart)."""
    table = None
    if overall is not None and overall.height and "mttr_mean_hours" in overall.columns:
        cols = [c for c in MTTR_COLUMNS if c[0] in overall.columns]
        rows = [
            {"provider": review.name(r["provider"]), **{c: _quote(review, r, c, f) for c, _, f in cols}}
            for r in overall.sort("provider").to_dicts()
        ]
        table = {"rows": rows, "columns": [("provider", "provider"), *[(c, label) for c, label, _ in cols]]}
    chart = None
    if has(incidents, "provider", "duration_minutes"):
        resolved = incidents.filter(
            pl.col("duration_minutes").is_not_null() & (pl.col("duration_minutes") > 0)
        )
        if "impact" in resolved.columns:
            resolved = resolved.filter(pl.col("impact").fill_null("") != "maintenance")
        if resolved.height:
            chart = review.page.chart(
                "mttr-distribution",
                duration_distribution(resolved.with_columns(pl.col("provider").replace(review.display))),
                caption="Each box spans the middle half of the provider's incidents (hours, linear axis); "
                "whiskers reach the shortest and longest.",
            )
    return {"table": table, "chart": chart}


def monthly_chart(review: Review, reliability: pl.DataFrame | None, with_status: list[str]):
    """Status-page incidents per provider and month, for the providers whose status page the window
    has evidence from (`with_status`): a zero elsewhere would read as a quiet month. None without rows."""
    if not has(reliability, "provider", "component", "period", "incidents"):
        return None
    monthly = reliability.filter(
        (pl.col("component") == COMPONENT_PROVIDER)
        & (pl.col("period") != PERIOD_ALL)
        & pl.col("provider").is_in(with_status)
    )
    if not monthly.height:
        return None
    return review.page.chart(
        "incidents-per-month",
        grouped_bars(
            monthly.select("period", "incidents", pl.col("provider").replace(review.display)).sort("period"),
            "period",
            "incidents",
            "provider",
            "Status-page incidents per month",
            "incidents",
        ),
    )
