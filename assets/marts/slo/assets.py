"""The SLO marts: thin assets that read the minute SLI, call the pure functions and write the result."""

import dagster as dg
import polars as pl

from assets.marts.slo.alerts import (
    ALERT_RULES,
    SLO_ALERTS_SCHEMA,
    SLO_FALSE_ALARM_LEVEL,
    alert_input_columns,
    candidate_filter,
    compute_slo_alerts,
    merge_window,
    recompute_from,
)
from assets.marts.slo.budget import compute_slo_budget
from assets.marts.slo.burn import (
    BURN_RATE_COLUMNS,
    BURN_WINDOWS,
    EVIDENCE_WINDOWS,
    LOOK_BACK,
    compute_slo_burn,
)
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.frames import to_utc
from pipelines.core.minute_sli import providers_without, read_daily_counts, read_minute_sli, slo_settings
from pipelines.core.quality import (
    between,
    check_spec,
    has_columns,
    in_set,
    not_null,
    start_check,
    unique_together,
)
from pipelines.core.resources import Workspace
from pipelines.core.since import recompute_start, replace_since, rows_since
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import read_table_if_exists, replace_table, table_exists

SLO_BURN_CHECK = "slo_burn_rates_valid"
SLO_ALERTS_CHECK = "slo_alerts_valid"
SLO_BUDGET_CHECK = "slo_budget_valid"

BURN_COLUMN_DOCS = {
    "provider": "provider key from the config",
    "minute": "start of the UTC minute (dense: minutes without traffic have requests = 0)",
    "availability_target": "the provider's SLO target from config slo.availability_target",
    "error_budget": "1 - availability_target: the share of requests allowed to fail",
    "requests": "our requests to the provider in the minute",
    "good_requests": "requests - bad_requests (429 and other 4xx are our errors and count as good)",
    "bad_requests": "the provider's failures: errors_5xx + errors_529 + timeouts",
    "error_ratio": "bad_requests / requests in the minute (null without traffic)",
    "requests_30d": "requests in the rolling 30 days ending with this minute",
    "error_budget_requests_30d": "bad requests the SLO allows over those 30 days (error_budget x requests_30d)",
    "budget_consumed_requests_30d": "bad requests spent over those 30 days",
    "budget_remaining_requests_30d": "bad requests still allowed over those 30 days (negative = overspent)",
    "budget_consumed_fraction_30d": "budget_consumed_requests_30d as a fraction of the allowed bad requests",
    "budget_remaining_fraction_30d": "1 - budget_consumed_fraction_30d",
    **{
        f"burn_rate_{w}": f"error ratio over the {w} ending with this minute / error_budget (1 = on budget)"
        for w in BURN_WINDOWS
    },
    **{f"requests_{w}": f"requests over the {w} ending with this minute (alert evidence)" for w in EVIDENCE_WINDOWS},
    **{f"bad_requests_{w}": f"bad requests over the {w} ending with this minute" for w in EVIDENCE_WINDOWS},
}
ALERT_COLUMN_DOCS = {
    "provider": "provider key from the config",
    "rule": "the alert rule, long/short window @ burn-rate factor, e.g. 1h/5m@14.4",
    "severity": "page (wake someone) or ticket (fix this week)",
    "long_window": "the rule's long window (1h, 6h, 1d or 3d)",
    "short_window": "the rule's short window (5m, 30m, 2h or 6h)",
    "burn_rate_threshold": "burn rate both windows must exceed for the rule to fire",
    "started_at": "first firing minute (UTC)",
    "ended_at": "end of the last firing minute, exclusive (UTC)",
    "peak_burn_rate": "highest long-window burn rate during the episode",
    "minutes": "firing minutes (ended_at - started_at)",
    "ongoing": "still firing at the end of the data",
    "p_value": "smallest long-window P(this many bad requests | burning exactly the budget)",
    "confidence": "1 - p_value",
}
BUDGET_COLUMN_DOCS = {
    "provider": "provider key from the config",
    "period_kind": "month (a UTC calendar month) or window (all the data)",
    "period": "YYYY-MM, or 'window'",
    "period_start": "first UTC day with data in the period",
    "period_end": "last UTC day with data in the period",
    "requests": "our requests to the provider in the period",
    "bad_requests": "the provider's failures: errors_5xx + errors_529 + timeouts",
    "good_requests": "requests - bad_requests",
    "errors_5xx": "HTTP 5xx answers except 529 and 504",
    "errors_529": "HTTP 529 overloaded answers",
    "timeouts": "timed-out requests (408/504 or a timeout error)",
    "errors_429": "429 answers: our own rate limit, counted as good for the provider",
    "errors_4xx_other": "other 4xx answers: our own errors, counted as good for the provider",
    "availability_target": "the provider's SLO target",
    "error_budget": "1 - availability_target",
    "availability": "good_requests / requests",
    "budget_requests": "bad requests allowed in the period (error_budget x requests)",
    "budget_used_pct": "bad_requests / budget_requests x 100 (above 100 = SLO missed)",
    "budget_remaining_requests": "budget_requests - bad_requests (negative when overspent)",
    "slo_met": "availability >= availability_target",
}


def burn_expectations() -> list:
    return [
        not_null("provider"),
        not_null("minute"),
        unique_together("provider", "minute"),
        between("bad_requests", 0, None),
        between("good_requests", 0, None),
        *[between(c, 0, None) for c in BURN_RATE_COLUMNS],
    ]


def alert_expectations() -> list:
    return [
        has_columns(*SLO_ALERTS_SCHEMA),
        not_null("started_at"),
        not_null("ended_at"),
        in_set("severity", {"page", "ticket"}),
        in_set("rule", {r.name for r in ALERT_RULES}),
        between("minutes", 1, None),
        between("peak_burn_rate", 0, None),
        between("p_value", 0, SLO_FALSE_ALARM_LEVEL),
    ]


def budget_expectations() -> list:
    return [
        not_null("provider"),
        unique_together("provider", "period"),
        between("availability", 0, 1),
        between("budget_used_pct", 0, None),
        in_set("period_kind", {"month", "window"}),
    ]


@dg.asset(
    key=tables.SLO_BURN,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(SLO_BURN_CHECK, tables.SLO_BURN, burn_expectations())],
)
def slo_burn(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Each provider's availability SLO, minute by minute: how fast it burns its error budget.

    One row per provider and UTC minute (dense: minutes without traffic have requests = 0). A burn rate
    of 1 spends exactly the error budget over 30 days; bad requests are the provider's failures (5xx,
    529, timeouts), never our own 429/4xx. Column meanings: see the column schema (BURN_COLUMN_DOCS).
    A run naming its window recomputes the minutes from the window's start on, from the minute SLI since 30
    days before it (the longest rolling window: the same figures as a rebuild); earlier minutes stay as written.
    """
    window_start = recompute_start(workspace.providers(), context.run.tags)
    read_from = window_start - LOOK_BACK if window_start is not None else None
    with workspace.warehouse() as con:
        minute_sli = read_minute_sli(con, read_from)
    targets = slo_settings(workspace, "availability_target")
    burn = rows_since(compute_slo_burn(minute_sli, targets), "minute", window_start)
    checked = burn.select(
        "provider", "minute", "requests", "bad_requests", "good_requests", *BURN_RATE_COLUMNS
    )
    check = start_check(SLO_BURN_CHECK, checked, burn_expectations())
    with workspace.warehouse() as con:
        replace_since(con, tables.SLO_BURN, burn, "minute", window_start)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(burn, BURN_COLUMN_DOCS),
            "rows": burn.height,
            "providers_without_slo": dg.MetadataValue.json(providers_without(minute_sli, targets)),
        },
        check_results=[check.result()],
    )


@dg.asset(
    key=tables.SLO_ALERTS,
    deps=[tables.SLO_BURN],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(SLO_ALERTS_CHECK, tables.SLO_ALERTS, alert_expectations())],
)
def slo_alerts(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """When each provider would have paged or ticketed us: SRE-workbook multiwindow burn-rate alerts.

    Rules: page 1h/5m@14.4 and 6h/30m@6; ticket 1d/2h@3 and 3d/6h@1 (fire while BOTH windows' burn
    rates exceed the factor) and the long window's bad requests are improbable for a provider burning
    exactly its budget (binomial p <= 1e-4: a handful of requests never pages). One row per episode of
    consecutive firing minutes. Column meanings: see the column schema (ALERT_COLUMN_DOCS).

    A run naming its window recomputes the episodes that end in or after it, from the window's start or
    the start of the written episode that crosses into it; earlier episodes stay as written (see `since`).
    """
    window_start = recompute_start(workspace.providers(), context.run.tags)
    condition, rates = candidate_filter()
    earlier = read_from = None
    with workspace.warehouse() as con:
        if table_exists(con, tables.SLO_BURN):
            if window_start is not None and (earlier := read_table_if_exists(con, tables.SLO_ALERTS)) is not None:
                earlier = to_utc(earlier)
                read_from = recompute_from(earlier, window_start)
            burn_table = sql_name(tables.SLO_BURN)
            since, params = ("AND minute >= ?", [*rates, read_from]) if read_from else ("", rates)
            # (provider, minute) is the table's key: a total order, at a third of the cost of sorting every column
            candidates = con.sql(f"SELECT {', '.join(alert_input_columns())} FROM {burn_table} WHERE ({condition}) "
                                 f"{since} ORDER BY provider, minute", params=params).pl()
            last_minutes = con.sql(f"SELECT provider, max(minute) AS _last FROM {burn_table} GROUP BY provider "
                                   "ORDER BY provider").pl()
        else:
            candidates = last_minutes = None
    alerts = (compute_slo_alerts(to_utc(candidates), last_minutes=to_utc(last_minutes)) if candidates is not None
              else pl.DataFrame(schema=SLO_ALERTS_SCHEMA))
    if earlier is not None and candidates is not None:
        alerts = merge_window(earlier, alerts, window_start, to_utc(last_minutes))
    check = start_check(SLO_ALERTS_CHECK, alerts, alert_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.SLO_ALERTS, alerts)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(alerts, ALERT_COLUMN_DOCS),
            "episodes": alerts.height,
            "by_rule": dg.MetadataValue.json(
                {r: int(n) for r, n in alerts.group_by("rule").len().iter_rows()} if alerts.height else {}
            ),
        },
        check_results=[check.result()],
    )


@dg.asset(
    key=tables.SLO_BUDGET,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(SLO_BUDGET_CHECK, tables.SLO_BUDGET, budget_expectations())],
)
def slo_budget(workspace: Workspace) -> dg.MaterializeResult:
    """How much of its error budget each provider spent, per calendar month (UTC) and over the window.

    Above 100% of the budget used, the SLO was missed for that period. Column meanings: see the column
    schema (BUDGET_COLUMN_DOCS).
    """
    with workspace.warehouse() as con:
        daily = read_daily_counts(con)  # the budget only sums counts: per day, the same sums
    budget = compute_slo_budget(daily, slo_settings(workspace, "availability_target"))
    check = start_check(SLO_BUDGET_CHECK, budget, budget_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.SLO_BUDGET, budget)
    return dg.MaterializeResult(
        metadata={**table_metadata(budget, BUDGET_COLUMN_DOCS), "rows": budget.height},
        check_results=[check.result()],
    )
