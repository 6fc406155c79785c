"""Money and budget sections of the vendor review: SLO error budget, downtime cost, failover value."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from assets.reports.charts.vendor import cost_per_month, grouped_bars
from assets.reports.costs import CostRow, is_incident_cost, is_month_cost
from assets.reports.formats import fmt_count, fmt_minutes, fmt_money, fmt_pct, fmt_share, fmt_yes_no
from assets.reports.marts_data import first_column, has
from assets.reports.vendor_review.review import BUDGET_KEY, Review
from pipelines.core import tables

BUDGET_COLUMNS = (
    ("availability", "availability", lambda v: fmt_share(v, 3)),
    ("availability_target", "target", lambda v: fmt_share(v, 2)),
    ("budget_used_pct", "budget used", lambda v: fmt_pct(v, 1)),
    ("slo_met", "SLO met", fmt_yes_no),
)
COST_SCHEMA = {
    "provider": pl.String,
    "month": pl.String,
    "low": pl.Float64,
    "base": pl.Float64,
    "high": pl.Float64,
}


def _budget_table(review: Review, window: pl.DataFrame, budget_columns: Sequence[str]) -> dict:
    cols = [c for c in BUDGET_COLUMNS if c[0] in budget_columns]

    def q(r: dict, column: str, fmt) -> str:
        return review.figures.quote(tables.SLO_BUDGET, r, column, BUDGET_KEY, fmt)

    rows = [
        {"provider": review.name(r["provider"]), **{c: q(r, c, f) for c, _, f in cols}}
        for r in window.sort("provider").to_dicts()
    ]
    over = [r for r in window.to_dicts() if (r.get("budget_used_pct") or 0) > 100]
    if over:
        review.recommendation.append(
            "Over the whole window "
            + ", ".join(
                f"{review.name(r['provider'])} used {q(r, 'budget_used_pct', lambda v: fmt_pct(v, 0))}"
                for r in over
            )
            + " of its error budget on our own traffic."
        )
    return {"rows": rows, "columns": [("provider", "provider"), *[(c, label) for c, label, _ in cols]]}


def slo_section(review: Review, budget: pl.DataFrame | None) -> dict | None:
    """Budget use over the whole window (table) and per month (chart); None without marts.slo_budget."""
    if not has(budget, "provider", "period", "budget_used_pct"):
        return None
    if "period_kind" in budget.columns:
        window = budget.filter(pl.col("period_kind") == "window")
        months = budget.filter(pl.col("period_kind") == "month")
    else:
        window = budget.filter(pl.col("period") == "window")
        months = budget.filter(pl.col("period") != "window")
    table = _budget_table(review, window, budget.columns) if window.height else None
    chart = None
    if months.height:
        chart = review.page.chart(
            "slo-budget",
            grouped_bars(
                months.select("period", "budget_used_pct", pl.col("provider").replace(review.display)).sort(
                    "period"
                ),
                "period",
                "budget_used_pct",
                "provider",
                "Error budget used per month (100 = all of it)",
                "% of budget",
            ),
        )
    return {"table": table, "chart": chart}


def _cost_chart_data(review: Review, chart_rows: Sequence[CostRow]) -> pl.DataFrame:
    """One row per (provider, month, incident) with its low/base/high totals."""
    wide: dict[tuple, dict] = {}
    for c in chart_rows:
        blank = {
            "provider": review.name(c.provider),
            "month": str(c.month),
            "low": None,
            "base": None,
            "high": None,
        }
        wide.setdefault((c.provider, str(c.month), c.incident_id), blank)[c.scenario] = c.total
    return pl.DataFrame(list(wide.values()), schema=COST_SCHEMA).sort("month")


def cost_section(review: Review, costs: Sequence[CostRow]) -> dict:
    """The cost chart and the monthly table, or (no monthly rows) the most expensive incidents."""
    month_rows = [c for c in costs if is_month_cost(c)]
    incident_rows = [c for c in costs if is_incident_cost(c)]
    chart_rows = month_rows or [c for c in incident_rows if c.month is not None]

    def q(c: CostRow) -> str:
        return review.figures.quote(tables.DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money)

    chart = None
    if chart_rows:
        chart = review.page.chart(
            "downtime-cost",
            cost_per_month(_cost_chart_data(review, chart_rows), summed_in_chart=not month_rows),
        )
    monthly = top = None
    if month_rows:
        table: dict[tuple, dict] = {}
        for c in sorted(month_rows, key=lambda c: (str(c.month), str(c.provider))):
            row = table.setdefault(
                (c.month, c.provider), {"month": c.month, "provider": review.name(c.provider)}
            )
            row[c.scenario] = q(c)
        monthly = list(table.values())
    elif incident_rows:
        priced = sorted(
            (c for c in incident_rows if c.scenario == "base" and c.total is not None), key=lambda c: -c.total
        )
        top = [
            {
                "incident": c.incident_id,
                "provider": review.name(c.provider),
                "month": c.month or "-",
                "base": q(c),
            }
            for c in priced[:10]
        ]
    return {"chart": chart, "monthly": monthly, "top": top, "missing": not costs}


def _failover_format(column: str):
    return (
        fmt_money
        if ("cost" in column or "usd" in column)
        else fmt_minutes
        if "minutes" in column
        else fmt_count
    )


def _failover_recommendation(review: Review, failover: pl.DataFrame, keys: list[str]) -> None:
    avoided = first_column(failover, "downtime_cost_avoided_usd")
    correlated = first_column(failover, "correlated_failure_minutes")
    if not avoided:
        return
    best = max(
        (r for r in failover.to_dicts() if r[avoided] is not None), key=lambda r: r[avoided], default=None
    )
    if best is None:
        return
    text = (
        f"Failover policy \u201c{best.get('policy', '?')}\u201d"
        + (f" for {review.name(best['provider'])}" if best.get("provider") else "")
        + f" would have avoided {review.figures.quote(tables.FAILOVER, best, avoided, keys, fmt_money)}"
    )
    if correlated and best.get(correlated) is not None:
        text += (
            f"; {review.figures.quote(tables.FAILOVER, best, correlated, keys, fmt_minutes)} of correlated "
            "failure (the fallback down at the same time) no failover can cover"
        )
    review.recommendation.append(text + ".")


def failover_section(review: Review, failover: pl.DataFrame | None) -> dict | None:
    """Every simulated policy's numbers (first six numeric columns); None without the mart."""
    if failover is None or not failover.height:
        return None
    keys = [c for c in ("policy", "provider", "scenario") if c in failover.columns]
    shown = [c for c in failover.columns if c not in keys and failover.schema[c].is_numeric()][:6]
    rows = []
    for r in failover.sort(keys).to_dicts():
        q = review.figures.quoter(tables.FAILOVER, r, keys)
        rows.append({**{k: r[k] for k in keys}, **{c: q(c, _failover_format(c)) for c in shown}})
    _failover_recommendation(review, failover, keys)
    return {"rows": rows, "columns": [(k, k) for k in keys] + [(c, c.replace("_", " ")) for c in shown]}
