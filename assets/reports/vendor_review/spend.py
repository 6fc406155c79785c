"""Money and budget sections of the vendor review: SLO error budget, downtime cost, failover value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from assets.reports.charts.vendor import cost_per_month, grouped_bars
from assets.reports.costs import CostRow, is_incident_cost, is_month_cost
from assets.reports.formats import fmt_count, fmt_minutes, fmt_money, fmt_pct, fmt_share, fmt_yes_no
from assets.reports.marts_data import has
from assets.reports.scope import Scope
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
            "month": month_label(c.month, review.page.scope),
            "low": None,
            "base": None,
            "high": None,
        }
        wide.setdefault((c.provider, blank["month"], c.incident_id), blank)[c.scenario] = c.total
    return pl.DataFrame(list(wide.values()), schema=COST_SCHEMA).sort("month")


def month_label(month, scope: Scope | None) -> str | None:
    """'YYYY-MM', with ' (partial)' when the window covers only part of it; None outside the window."""
    text = str(month)[:7]
    if scope is None:
        return text
    first = dt.date.fromisoformat(f"{text}-01")
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    window = scope.window
    if last < window.start or first > window.end:
        return None
    return text if (first >= window.start and last <= window.end) else f"{text} (partial)"


def cost_section(review: Review, costs: Sequence[CostRow], scope: Scope | None = None) -> dict:
    """The cost chart and the monthly table (months of the window only, partial months marked), or (no
    monthly rows) the most expensive incidents."""
    costs = [c for c in costs if c.month is None or month_label(c.month, scope) is not None]
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
            label = month_label(c.month, scope)
            row = table.setdefault((label, c.provider), {"month": label, "provider": review.name(c.provider)})
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
    if "cost" in column or "usd" in column:
        return fmt_money
    if "minutes" in column:
        return fmt_minutes
    if column.endswith("_ms"):
        return lambda v: "n/a" if v is None else f"{v:,.0f} ms"
    return fmt_count


def plain_label(column: str) -> str:
    """'downtime_cost_avoided_usd_low' -> 'downtime cost avoided (USD, low)'; negatives explained."""
    words = column.split("_")
    suffix = [w for w in words if w in ("low", "high")]
    words = [w for w in words if w not in ("low", "high", "usd", "ms")]
    unit = "USD" if "usd" in column else "ms" if column.endswith("_ms") else ""
    extra = ", ".join(p for p in (unit, *suffix) if p)
    label = " ".join(words) + (f" ({extra})" if extra else "")
    if column == "saved_requests":
        label += " (negative: the policy lost requests)"
    return label


def failover_section(review: Review, failover: pl.DataFrame | None) -> dict | None:
    """Every simulated policy with every numeric column of the mart, in plain words; None without it."""
    if failover is None or not failover.height:
        return None
    keys = [c for c in ("policy", "provider", "scenario") if c in failover.columns]
    shown = [c for c in failover.columns if c not in keys and failover.schema[c].is_numeric()]
    rows = []
    for r in failover.sort(keys).to_dicts():
        q = review.figures.quoter(tables.FAILOVER, r, keys)
        row = {k: review.name(r[k]) if k == "provider" else r[k] for k in keys}
        rows.append({**row, **{c: q(c, _failover_format(c)) for c in shown}})
    return {"rows": rows, "columns": [(k, k) for k in keys] + [(c, plain_label(c)) for c in shown]}
