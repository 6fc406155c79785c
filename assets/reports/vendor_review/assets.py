"""The vendor-choice review: reliability, SLO budget, downtime cost and failover value side by side.

Every figure is a mart value (marts.component_reliability, marts.incidents, marts.slo_budget,
marts.downtime_cost, marts.failover_simulation, marts.migration_correlation); the recommendation
paragraph only picks and orders those figures (highest uptime, overspent budgets, best failover policy).
"""

from collections.abc import Sequence

import dagster as dg
import polars as pl

from assets.reports import charts
from assets.reports.marts_data import (
    COMPONENT_PROVIDER,
    DOWNTIME_COST,
    FAILOVER,
    INCIDENTS,
    MIGRATION_CORRELATION,
    PERIOD_ALL,
    RELIABILITY,
    SLO_BUDGET,
    CostRow,
    Figures,
    cost_rows,
    display_names,
    first_column,
    fmt_count,
    fmt_days,
    fmt_hours,
    fmt_minutes,
    fmt_money,
    fmt_pct,
    fmt_share,
    has,
    is_incident_cost,
    is_month_cost,
    read_mart,
)
from assets.reports.page import Page
from pipelines.core.resources import Workspace
from pipelines.core.settings import safe_path

POLICIES = {  # uptime column -> policy label (weight of a partial-outage minute; major = 1)
    "uptime_pct_w0": "partial = 0",
    "uptime_pct_w03": "partial = 0.3",
    "uptime_pct_w05": "partial = 0.5",
    "uptime_pct_w1": "partial = 1",
}
REL_KEY = ("provider", "component", "period")
BUDGET_KEY = ("provider", "period")
VENDOR_DEPS = [
    dg.AssetKey(["marts", name])
    for name in (
        "component_reliability",
        "incidents",
        "slo_budget",
        "downtime_cost",
        "failover_simulation",
        "migration_correlation",
    )
]


def _sorted_rows(frame: pl.DataFrame, *by: str) -> list[dict]:
    return frame.sort(*by).to_dicts()


def build_page(
    reliability: pl.DataFrame | None,
    incidents: pl.DataFrame | None,
    budget: pl.DataFrame | None,
    costs: Sequence[CostRow],
    failover: pl.DataFrame | None,
    correlation: pl.DataFrame | None,
    display: dict[str, str],
) -> tuple[Page, Figures]:
    figures = Figures()
    page = Page(
        "Vendor review",
        subtitle="Reliability, error budgets, downtime cost and failover value per provider.",
        nav=[("index.html", "Index")],
    )
    name = lambda p: display.get(p, p)
    recommendation: list[str] = []

    # -- uptime under each policy ------------------------------------------------------------------
    page.heading("Uptime under each weighting policy", anchor="uptime")
    overall = None
    if has(reliability, "provider", "component", "period", "uptime_pct"):
        overall = reliability.filter(
            (pl.col("component") == COMPONENT_PROVIDER) & (pl.col("period") == PERIOD_ALL)
        )
    if overall is not None and overall.height:
        policy_cols = [c for c in POLICIES if c in overall.columns]
        rows = []
        for r in _sorted_rows(overall, "provider"):
            row = {
                "provider": name(r["provider"]),
                "uptime": figures.quote(RELIABILITY, r, "uptime_pct", REL_KEY, fmt_pct),
            }
            for col in policy_cols:
                row[col] = figures.quote(RELIABILITY, r, col, REL_KEY, fmt_pct)
            rows.append(row)
        page.table(
            rows,
            [
                ("provider", "provider"),
                ("uptime", "uptime (default policy)"),
                *[(c, POLICIES[c]) for c in policy_cols],
            ],
        )
        if policy_cols:
            long = (
                overall.select(pl.col("provider").replace(display), *policy_cols)
                .unpivot(index="provider", variable_name="policy", value_name="uptime_pct")
                .with_columns(pl.col("policy").replace(POLICIES))
            )
            page.chart(
                "uptime-policies",
                charts.uptime_policy_chart(long),
                caption="Major-outage minutes always count fully; the policies differ in how a "
                "partial-outage minute counts. Maintenance is excluded.",
            )
        best = max(overall.to_dicts(), key=lambda r: (r["uptime_pct"] is not None, r["uptime_pct"] or 0))
        recommendation.append(
            f"{name(best['provider'])} had the highest status-page uptime under the default policy "
            f"({figures.quote(RELIABILITY, best, 'uptime_pct', REL_KEY, fmt_pct)})."
        )
        if "ranking_changes_with_policy" in overall.columns and overall["ranking_changes_with_policy"].any():
            flagged = next(r for r in overall.to_dicts() if r["ranking_changes_with_policy"])
            changed = figures.quote(
                RELIABILITY, flagged, "ranking_changes_with_policy", REL_KEY, lambda v: "yes" if v else "no"
            )
            page.paragraph(
                f"Does the provider ranking change with the policy? {changed}: the choice of "
                "weights matters, so quote uptime with its policy."
            )
            if "uptime_pct_w1" in overall.columns:
                strict = max(overall.to_dicts(), key=lambda r: r["uptime_pct_w1"] or 0)
                recommendation.append(
                    f"The ranking depends on the weighting: counting partial outages fully, "
                    f"{name(strict['provider'])} leads "
                    f"({figures.quote(RELIABILITY, strict, 'uptime_pct_w1', REL_KEY, fmt_pct)})."
                )
    else:
        page.not_available("Uptime", "marts.component_reliability has no provider-level rows")

    # -- MTTR --------------------------------------------------------------------------------------
    page.heading("Time to recover (MTTR)", anchor="mttr")
    if overall is not None and overall.height and "mttr_mean_hours" in overall.columns:
        cols = [
            ("incidents", "incidents", fmt_count),
            ("mttr_mean_hours", "MTTR mean", fmt_hours),
            ("mttr_median_hours", "MTTR median", fmt_hours),
            ("mttr_p90_hours", "MTTR p90", fmt_hours),
            ("mtbf_mean_days", "MTBF mean", fmt_days),
        ]
        cols = [c for c in cols if c[0] in overall.columns]
        rows = [
            {
                "provider": name(r["provider"]),
                **{c: figures.quote(RELIABILITY, r, c, REL_KEY, f) for c, _, f in cols},
            }
            for r in _sorted_rows(overall, "provider")
        ]
        page.table(rows, [("provider", "provider"), *[(c, label) for c, label, _ in cols]])
    else:
        page.not_available("MTTR table", "marts.component_reliability has no MTTR columns")
    if has(incidents, "provider", "duration_minutes"):
        resolved = incidents.filter(
            pl.col("duration_minutes").is_not_null() & (pl.col("duration_minutes") > 0)
        )
        if "impact" in resolved.columns:
            resolved = resolved.filter(pl.col("impact").fill_null("") != "maintenance")
        if resolved.height:
            page.chart(
                "mttr-distribution",
                charts.duration_distribution(resolved.with_columns(pl.col("provider").replace(display))),
                caption="Each box spans the middle half of the provider's incidents; whiskers min to max.",
            )

    # -- incidents per month -----------------------------------------------------------------------
    page.heading("Incidents per month", anchor="incidents-per-month")
    monthly = None
    if has(reliability, "provider", "component", "period", "incidents"):
        monthly = reliability.filter(
            (pl.col("component") == COMPONENT_PROVIDER) & (pl.col("period") != PERIOD_ALL)
        )
    if monthly is not None and monthly.height:
        page.chart(
            "incidents-per-month",
            charts.grouped_bars(
                monthly.select("period", "incidents", pl.col("provider").replace(display)).sort("period"),
                "period",
                "incidents",
                "provider",
                "Status-page incidents per month",
                "incidents",
            ),
        )
    else:
        page.not_available("Incidents per month", "marts.component_reliability has no monthly rows")

    # -- SLO budget --------------------------------------------------------------------------------
    page.heading("SLO error-budget use", anchor="slo")
    if has(budget, "provider", "period", "budget_used_pct"):
        kind = "period_kind" in budget.columns
        window = (
            budget.filter(pl.col("period_kind") == "window")
            if kind
            else budget.filter(pl.col("period") == "window")
        )
        months = (
            budget.filter(pl.col("period_kind") == "month")
            if kind
            else budget.filter(pl.col("period") != "window")
        )
        cols = [
            (c, label, f)
            for c, label, f in (
                ("availability", "availability", lambda v: fmt_share(v, 3)),
                ("availability_target", "target", lambda v: fmt_share(v, 2)),
                ("budget_used_pct", "budget used", lambda v: fmt_pct(v, 1)),
                ("slo_met", "SLO met", lambda v: "yes" if v else "no"),
            )
            if c in budget.columns
        ]
        if window.height:
            rows = [
                {
                    "provider": name(r["provider"]),
                    **{c: figures.quote(SLO_BUDGET, r, c, BUDGET_KEY, f) for c, _, f in cols},
                }
                for r in _sorted_rows(window, "provider")
            ]
            page.table(rows, [("provider", "provider"), *[(c, label) for c, label, _ in cols]])
            over = [r for r in window.to_dicts() if (r.get("budget_used_pct") or 0) > 100]
            if over:
                recommendation.append(
                    "Over the whole window "
                    + ", ".join(
                        f"{name(r['provider'])} used "
                        f"{figures.quote(SLO_BUDGET, r, 'budget_used_pct', BUDGET_KEY, lambda v: fmt_pct(v, 0))}"
                        for r in over
                    )
                    + " of its error budget on our own traffic."
                )
        if months.height:
            page.chart(
                "slo-budget",
                charts.grouped_bars(
                    months.select("period", "budget_used_pct", pl.col("provider").replace(display)).sort(
                        "period"
                    ),
                    "period",
                    "budget_used_pct",
                    "provider",
                    "Error budget used per month (100 = all of it)",
                    "% of budget",
                ),
            )
    else:
        page.not_available("SLO budget", "marts.slo_budget is missing")

    # -- downtime cost -----------------------------------------------------------------------------
    page.heading("Downtime cost per month", anchor="cost")
    month_rows = [c for c in costs if is_month_cost(c)]
    incident_rows = [c for c in costs if is_incident_cost(c)]
    chart_rows = month_rows or [c for c in incident_rows if c.month is not None]
    if chart_rows:
        wide: dict[tuple, dict] = {}
        for c in chart_rows:
            ident = (c.provider, str(c.month), c.incident_id)
            blank = {
                "provider": name(c.provider),
                "month": str(c.month),
                "low": None,
                "base": None,
                "high": None,
            }
            wide.setdefault(ident, blank)[c.scenario] = c.total
        data = pl.DataFrame(
            list(wide.values()),
            schema={
                "provider": pl.String,
                "month": pl.String,
                "low": pl.Float64,
                "base": pl.Float64,
                "high": pl.Float64,
            },
        ).sort("month")
        page.chart("downtime-cost", charts.cost_per_month(data, summed_in_chart=not month_rows))
    if month_rows:
        table: dict[tuple, dict] = {}
        for c in sorted(month_rows, key=lambda c: (str(c.month), str(c.provider))):
            row = table.setdefault((c.month, c.provider), {"month": c.month, "provider": name(c.provider)})
            row[c.scenario] = figures.quote(DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money)
        page.table(
            list(table.values()),
            [
                ("month", "month"),
                ("provider", "provider"),
                ("low", "low"),
                ("base", "base"),
                ("high", "high"),
            ],
        )
    elif incident_rows:
        top = sorted(
            (c for c in incident_rows if c.scenario == "base" and c.total is not None), key=lambda c: -c.total
        )[:10]
        rows = [
            {
                "incident": c.incident_id,
                "provider": name(c.provider),
                "month": c.month or "-",
                "base": figures.quote(DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money),
            }
            for c in top
        ]
        page.paragraph(
            "The cost mart has no monthly rows; the chart stacks incident costs per month. "
            "Most expensive incidents (base scenario):"
        )
        page.table(
            rows,
            [("incident", "incident"), ("provider", "provider"), ("month", "month"), ("base", "base cost")],
        )
    if not costs:
        page.not_available("Downtime cost", "marts.downtime_cost is missing or has no low/base/high rows")

    # -- failover ----------------------------------------------------------------------------------
    page.heading("Failover value", anchor="failover")
    if failover is not None and failover.height:
        keys = [c for c in ("policy", "provider", "scenario") if c in failover.columns]
        shown = [c for c in failover.columns if c not in keys and failover.schema[c].is_numeric()][:6]
        rows = []
        for r in failover.sort(keys).to_dicts():
            row = {k: r[k] for k in keys}
            for c in shown:
                fmt = (
                    fmt_money if ("cost" in c or "usd" in c) else fmt_minutes if "minutes" in c else fmt_count
                )
                row[c] = figures.quote(FAILOVER, r, c, keys, fmt) if r[c] is not None else "-"
            rows.append(row)
        page.table(rows, [(k, k) for k in keys] + [(c, c.replace("_", " ")) for c in shown])
        avoided = first_column(failover, "downtime_cost_avoided_usd")
        correlated = first_column(failover, "correlated_failure_minutes")
        if avoided:
            best = max(
                (r for r in failover.to_dicts() if r[avoided] is not None),
                key=lambda r: r[avoided],
                default=None,
            )
            if best is not None:
                text = (
                    f"Failover policy \u201c{best.get('policy', '?')}\u201d"
                    + (f" for {name(best['provider'])}" if best.get("provider") else "")
                    + f" would have avoided {figures.quote(FAILOVER, best, avoided, keys, fmt_money)}"
                )
                if correlated and best.get(correlated) is not None:
                    text += (
                        f"; {figures.quote(FAILOVER, best, correlated, keys, fmt_minutes)} of correlated "
                        "failure (the fallback down at the same time) no failover can cover"
                    )
                recommendation.append(text + ".")
    else:
        page.not_available("Failover simulation", "marts.failover_simulation is missing")

    # -- migration vs errors -----------------------------------------------------------------------
    page.heading("User migration vs error rates", anchor="migration")
    if has(correlation, "sentence", "significant"):
        findings = correlation.filter(pl.col("significant")).sort("p_value")
        page.bullets(str(f) for f in findings["sentence"].to_list()[:12] if f)
        if findings.is_empty():
            page.bullets(["No migration signal was significantly correlated with an error series at 5%."])
    else:
        page.not_available("Migration findings", "marts.migration_correlation is missing")

    # -- recommendation ----------------------------------------------------------------------------
    page.heading("Recommendation", anchor="recommendation")
    if overall is not None and overall.height >= 2 and "uptime_pct" in overall.columns:
        ranked = sorted(overall.to_dicts(), key=lambda r: -(r["uptime_pct"] or 0))
        recommendation.append(
            f"On these figures, make {name(ranked[0]['provider'])} the primary provider and keep "
            f"{name(ranked[1]['provider'])} "
            f"({figures.quote(RELIABILITY, ranked[1], 'uptime_pct', REL_KEY, fmt_pct)}) as the failover target; "
            "revisit when the next month's figures arrive."
        )
    if recommendation:
        page.summary(" ".join(recommendation))
    else:
        page.not_available("Recommendation", "too few marts are available to compare providers")
    return page, figures


@dg.asset(key=["reports", "vendor_review"], deps=VENDOR_DEPS, group_name="reports", kinds={"html", "altair"})
def vendor_review(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """The vendor-choice review, reports/vendor-review.html: uptime under each weighting policy, MTTR
    distribution, incidents per month, SLO budget use, downtime cost per month (low/base/high), failover
    value and correlated-failure minutes, migration-vs-errors findings and a recommendation built from
    those figures; vendor-review.figures.json lists every quoted figure with its mart cell."""
    with workspace.warehouse(read_only=True) as con:
        reliability = read_mart(con, RELIABILITY, required=("provider", "component", "period"))
        incidents = read_mart(con, INCIDENTS, required=("provider", "incident_id"))
        budget = read_mart(con, SLO_BUDGET, required=("provider", "period"))
        costs = cost_rows(read_mart(con, DOWNTIME_COST))
        failover = read_mart(con, FAILOVER)
        correlation = read_mart(con, MIGRATION_CORRELATION)
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
