"""The SLO marts: thin assets that read the minute SLI, call the pure functions and write the result."""

import dagster as dg

from assets.marts.slo.alerts import ALERT_RULES, SLO_ALERTS_SCHEMA, SLO_FALSE_ALARM_LEVEL, compute_slo_alerts
from assets.marts.slo.budget import compute_slo_budget
from assets.marts.slo.burn import BURN_RATE_COLUMNS, compute_slo_burn
from pipelines.core import tables
from pipelines.core.frames import to_utc
from pipelines.core.minute_sli import providers_without, read_minute_sli, slo_settings
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table, replace_table

SLO_BURN_CHECK = "slo_burn_rates_valid"
SLO_ALERTS_CHECK = "slo_alerts_valid"
SLO_BUDGET_CHECK = "slo_budget_valid"


@dg.asset(
    key=tables.SLO_BURN,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(SLO_BURN_CHECK, asset=tables.SLO_BURN, blocking=True)],
)
def slo_burn(workspace: Workspace) -> dg.MaterializeResult:
    """Each provider's availability SLO, minute by minute: how fast it burns its error budget.

    One row per provider and UTC minute (dense: minutes without traffic have requests = 0).
    - availability_target / error_budget: config slo.availability_target and 1 - target.
    - requests, good_requests, bad_requests: bad = errors_5xx + errors_529 + timeouts (provider's fault);
      good = requests - bad (429/4xx are our errors and count as good for the provider).
    - error_ratio: bad / requests in the minute (null without traffic).
    - requests_30d: requests in the rolling 30 days ending with this minute.
    - error_budget_requests_30d: bad requests the SLO allows over those 30 days (budget x requests).
    - budget_consumed_requests_30d / budget_remaining_requests_30d: bad requests spent / still allowed
      (negative when overspent).
    - budget_consumed_fraction_30d / budget_remaining_fraction_30d: the same as fractions of the budget.
    - burn_rate_5m ... burn_rate_3d: request-weighted error ratio over the window ending with this
      minute divided by the error budget (1 = on track to spend exactly the budget; null without traffic).
    - requests_1h / bad_requests_1h ... requests_3d / bad_requests_3d: the counts behind the alerts' long
      windows (the evidence an alert needs).
    """
    with workspace.warehouse() as con:
        minute_sli = read_minute_sli(con)
    targets = slo_settings(workspace, "availability_target")
    burn = compute_slo_burn(minute_sli, targets)
    with workspace.warehouse() as con:
        replace_table(con, tables.SLO_BURN, burn)
    checked = burn.select(
        "provider", "minute", "requests", "bad_requests", "good_requests", *BURN_RATE_COLUMNS
    )
    return dg.MaterializeResult(
        metadata={
            "rows": burn.height,
            "providers_without_slo": dg.MetadataValue.json(providers_without(minute_sli, targets)),
        },
        check_results=[
            check_result(
                SLO_BURN_CHECK,
                checked,
                [
                    not_null("provider"),
                    not_null("minute"),
                    unique_together("provider", "minute"),
                    between("bad_requests", 0, None),
                    between("good_requests", 0, None),
                    *[between(c, 0, None) for c in BURN_RATE_COLUMNS],
                ],
            )
        ],
    )


@dg.asset(
    key=tables.SLO_ALERTS,
    deps=[tables.SLO_BURN],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(SLO_ALERTS_CHECK, asset=tables.SLO_ALERTS, blocking=True)],
)
def slo_alerts(workspace: Workspace) -> dg.MaterializeResult:
    """When each provider would have paged or ticketed us: SRE-workbook multiwindow burn-rate alerts.

    Rules: page 1h/5m@14.4 and 6h/30m@6; ticket 1d/2h@3 and 3d/6h@1 (fire while BOTH windows' burn
    rates exceed the factor) and the long window's bad requests are improbable for a provider burning
    exactly its budget (binomial p <= 1e-4: a handful of requests never pages). One row per episode of
    consecutive firing minutes.
    - provider, rule ("1h/5m@14.4"), severity (page|ticket), long_window, short_window, burn_rate_threshold.
    - started_at: first firing minute; ended_at: end of the last firing minute (exclusive).
    - peak_burn_rate: highest long-window burn rate during the episode.
    - minutes: firing minutes (= ended_at - started_at); ongoing: still firing at the end of the data.
    - p_value: the smallest long-window p-value of the episode; confidence: 1 - p_value.
    """
    with workspace.warehouse() as con:
        burn = to_utc(read_table(con, tables.SLO_BURN))
    alerts = compute_slo_alerts(burn)
    with workspace.warehouse() as con:
        replace_table(con, tables.SLO_ALERTS, alerts)
    return dg.MaterializeResult(
        metadata={
            "episodes": alerts.height,
            "by_rule": dg.MetadataValue.json(
                {r: int(n) for r, n in alerts.group_by("rule").len().iter_rows()} if alerts.height else {}
            ),
        },
        check_results=[
            check_result(
                SLO_ALERTS_CHECK,
                alerts,
                [
                    has_columns(*SLO_ALERTS_SCHEMA),
                    not_null("started_at"),
                    not_null("ended_at"),
                    in_set("severity", {"page", "ticket"}),
                    in_set("rule", {r.name for r in ALERT_RULES}),
                    between("minutes", 1, None),
                    between("peak_burn_rate", 0, None),
                    between("p_value", 0, SLO_FALSE_ALARM_LEVEL),
                ],
            )
        ],
    )


@dg.asset(
    key=tables.SLO_BUDGET,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(SLO_BUDGET_CHECK, asset=tables.SLO_BUDGET, blocking=True)],
)
def slo_budget(workspace: Workspace) -> dg.MaterializeResult:
    """How much of its error budget each provider spent, per calendar month (UTC) and over the window.

    - period_kind: 'month' or 'window' (all data); period: 'YYYY-MM' or 'window'; period_start/end: days.
    - requests, good_requests, bad_requests and the class counts behind bad (errors_5xx, errors_529,
      timeouts) plus our own errors (errors_429, errors_4xx_other, counted as good for the provider).
    - availability: good / requests; availability_target, error_budget (1 - target).
    - budget_requests: bad requests allowed (error_budget x requests); budget_used_pct: bad / allowed x 100;
      budget_remaining_requests: allowed - bad (negative when overspent); slo_met: availability >= target.
    """
    with workspace.warehouse() as con:
        minute_sli = read_minute_sli(con)
    budget = compute_slo_budget(minute_sli, slo_settings(workspace, "availability_target"))
    with workspace.warehouse() as con:
        replace_table(con, tables.SLO_BUDGET, budget)
    return dg.MaterializeResult(
        metadata={"rows": budget.height},
        check_results=[
            check_result(
                SLO_BUDGET_CHECK,
                budget,
                [
                    not_null("provider"),
                    unique_together("provider", "period"),
                    between("availability", 0, 1),
                    between("budget_used_pct", 0, None),
                    in_set("period_kind", {"month", "window"}),
                ],
            )
        ],
    )
