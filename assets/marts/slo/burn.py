"""Availability SLOs per provider: error budgets, multi-window burn rates, SRE-workbook alerts, and
telemetry outage episodes, all computed from `marts.provider_minute_sli`.

Good and bad requests follow the SLI's provider error ratio: bad = errors_5xx + errors_529 + timeouts
(the provider's failures); good = requests - bad. 429 and other 4xx are our own errors, so they count
as good for the provider (they are valid requests the provider answered as designed).

Everything runs on a dense one-minute grid per provider (first to last minute with traffic; minutes
without requests are rows with requests = 0), so a time window of N minutes is exactly N rows and
"consecutive minutes" means consecutive rows. Windows are request-weighted: the burn rate over a window
is sum(bad) / sum(requests) over the window's minutes, divided by the error budget; null when the
window saw no requests. Windows end at (and include) the row's minute; near the start of the data they
cover only the minutes available.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg
import polars as pl

from assets.marts.sli import MINUTE_SLI_SCHEMA, MINUTE_SLI_TABLE, provider_minute_sli, relation_exists
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table, replace_table

SLO_BURN_TABLE = "marts.slo_burn"
SLO_ALERTS_TABLE = "marts.slo_alerts"
SLO_BUDGET_TABLE = "marts.slo_budget"
TELEMETRY_EPISODES_TABLE = "marts.telemetry_episodes"

SLO_BURN_CHECK = "slo_burn_rates_valid"
SLO_ALERTS_CHECK = "slo_alerts_valid"
SLO_BUDGET_CHECK = "slo_budget_valid"
TELEMETRY_EPISODES_CHECK = "telemetry_episodes_valid"

UTC = pl.Datetime("us", "UTC")
BURN_WINDOWS = {"5m": 5, "30m": 30, "1h": 60, "2h": 120, "6h": 360, "1d": 1440, "3d": 4320}
BUDGET_WINDOW_MINUTES = 30 * 1440  # the rolling 30-day error budget
PROVIDER_ERROR_COLUMNS = ("errors_5xx", "errors_529", "timeouts")
_SUMMED = (
    "requests",
    "ok",
    "errors_5xx",
    "errors_529",
    "errors_429",
    "errors_4xx_other",
    "timeouts",
    "errors_other",
)


@dataclass(frozen=True)
class BurnRule:
    """One multiwindow rule: fire while both windows burn faster than `burn_rate` (strictly)."""

    long_window: str
    short_window: str
    burn_rate: float
    severity: str

    @property
    def name(self) -> str:
        return f"{self.long_window}/{self.short_window}@{self.burn_rate:g}"


# Google SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts.
ALERT_RULES = (
    BurnRule("1h", "5m", 14.4, "page"),
    BurnRule("6h", "30m", 6.0, "page"),
    BurnRule("1d", "2h", 3.0, "ticket"),
    BurnRule("3d", "6h", 1.0, "ticket"),
)

SLO_ALERTS_SCHEMA = {
    "provider": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "long_window": pl.String,
    "short_window": pl.String,
    "burn_rate_threshold": pl.Float64,
    "started_at": UTC,
    "ended_at": UTC,
    "peak_burn_rate": pl.Float64,
    "minutes": pl.Int64,
    "ongoing": pl.Boolean,
}

TELEMETRY_EPISODES_SCHEMA = {
    "source": pl.String,
    "provider": pl.String,
    "service": pl.String,
    "country": pl.String,
    "started_at": UTC,
    "peak_at": UTC,
    "ended_at": UTC,
    "peak_value": pl.Float64,
    "baseline_value": pl.Float64,
    "threshold": pl.Float64,
    "duration_minutes": pl.Int64,
    "breaching_minutes": pl.Int64,
    "requests": pl.Int64,
    "errors_5xx": pl.Int64,
    "errors_529": pl.Int64,
    "timeouts": pl.Int64,
    "errors_429": pl.Int64,
    "share_529": pl.Float64,
    "share_5xx": pl.Float64,
    "share_timeouts": pl.Float64,
    "dominant_error_class": pl.String,
}


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)


def dense_minutes(minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Per provider, one row per minute from its first to its last minute with traffic.

    Counts are summed per (provider, minute) and are 0 where no request was logged; `bad_requests`
    is the provider's failures and `error_ratio` is null on empty minutes.
    """
    summed = (
        minute_sli.with_columns(pl.col("minute").cast(UTC))
        .group_by("provider", "minute")
        .agg(pl.col(c).sum().cast(pl.Int64) for c in _SUMMED)
    )
    if summed.height == 0:
        grid = summed.select("provider", "minute")
    else:
        grid = (
            summed.group_by("provider")
            .agg(first=pl.col("minute").min(), last=pl.col("minute").max())
            .select("provider", minute=pl.datetime_ranges("first", "last", "1m", time_zone="UTC"))
            .explode("minute")
            .with_columns(pl.col("minute").cast(UTC))
        )
    return (
        grid.join(summed, on=["provider", "minute"], how="left")
        .with_columns(pl.col(c).fill_null(0) for c in _SUMMED)
        .with_columns(bad_requests=pl.sum_horizontal(PROVIDER_ERROR_COLUMNS))
        .with_columns(
            good_requests=pl.col("requests") - pl.col("bad_requests"),
            error_ratio=_ratio(pl.col("bad_requests"), pl.col("requests")),
        )
        .sort("provider", "minute")
    )


def _targets_frame(targets: Mapping[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"provider": list(targets), "availability_target": [float(v) for v in targets.values()]},
        schema={"provider": pl.String, "availability_target": pl.Float64},
    ).with_columns(error_budget=1.0 - pl.col("availability_target"))


def compute_slo_burn(minute_sli: pl.DataFrame, targets: Mapping[str, float]) -> pl.DataFrame:
    """Per provider and minute: target, budget, good/bad, rolling 30-day budget and burn rates.

    `targets` maps provider -> availability target (config slo.availability_target); providers without
    a target are dropped (the asset reports them).
    """
    dense = dense_minutes(minute_sli).join(_targets_frame(targets), on="provider", how="inner")

    def rolling(column: str, minutes: int) -> pl.Expr:
        # Dense grid sorted by provider, minute: `minutes` rows = the window ending at this minute.
        return pl.col(column).rolling_sum(window_size=minutes, min_samples=1).over("provider")

    windows = [
        expr
        for label, minutes in BURN_WINDOWS.items()
        for expr in (
            rolling("requests", minutes).alias(f"_req_{label}"),
            rolling("bad_requests", minutes).alias(f"_bad_{label}"),
        )
    ]
    burn = (
        dense.with_columns(
            *windows,
            requests_30d=rolling("requests", BUDGET_WINDOW_MINUTES),
            budget_consumed_requests_30d=rolling("bad_requests", BUDGET_WINDOW_MINUTES),
        )
        .with_columns(
            *[
                (_ratio(pl.col(f"_bad_{label}"), pl.col(f"_req_{label}")) / pl.col("error_budget")).alias(
                    f"burn_rate_{label}"
                )
                for label in BURN_WINDOWS
            ],
            error_budget_requests_30d=pl.col("error_budget") * pl.col("requests_30d"),
        )
        .with_columns(
            budget_remaining_requests_30d=pl.col("error_budget_requests_30d")
            - pl.col("budget_consumed_requests_30d"),
            budget_consumed_fraction_30d=_ratio(
                pl.col("budget_consumed_requests_30d"), pl.col("error_budget_requests_30d")
            ),
        )
        .with_columns(budget_remaining_fraction_30d=1.0 - pl.col("budget_consumed_fraction_30d"))
    )
    return burn.select(
        "provider",
        "minute",
        "availability_target",
        "error_budget",
        "requests",
        "good_requests",
        "bad_requests",
        "error_ratio",
        "requests_30d",
        "error_budget_requests_30d",
        "budget_consumed_requests_30d",
        "budget_remaining_requests_30d",
        "budget_consumed_fraction_30d",
        "budget_remaining_fraction_30d",
        *[f"burn_rate_{label}" for label in BURN_WINDOWS],
    )


def compute_slo_alerts(slo_burn: pl.DataFrame, rules: tuple[BurnRule, ...] = ALERT_RULES) -> pl.DataFrame:
    """Alert episodes: runs of consecutive minutes in which a rule fires, one row per run.

    started_at = first firing minute, ended_at = end of the last firing minute (exclusive end, so
    ended_at - started_at = minutes), peak_burn_rate = highest long-window burn rate in the run,
    ongoing = the run reaches the provider's last minute of data.
    """
    last_minute = slo_burn.group_by("provider").agg(_last=pl.col("minute").max())
    episodes = []
    for rule in rules:
        long_col, short_col = f"burn_rate_{rule.long_window}", f"burn_rate_{rule.short_window}"
        firing = (
            slo_burn.select("provider", "minute", long_col, short_col)
            .filter((pl.col(long_col) > rule.burn_rate) & (pl.col(short_col) > rule.burn_rate))
            .sort("provider", "minute")
            .with_columns(
                _new=(pl.col("minute").diff().over("provider") != dt.timedelta(minutes=1)).fill_null(True)
            )
            .with_columns(_episode=pl.col("_new").cum_sum().over("provider"))
        )
        episodes.append(
            firing.group_by("provider", "_episode")
            .agg(
                started_at=pl.col("minute").min(),
                _last_firing=pl.col("minute").max(),
                peak_burn_rate=pl.col(long_col).max(),
                minutes=pl.len().cast(pl.Int64),
            )
            .with_columns(
                rule=pl.lit(rule.name),
                severity=pl.lit(rule.severity),
                long_window=pl.lit(rule.long_window),
                short_window=pl.lit(rule.short_window),
                burn_rate_threshold=pl.lit(float(rule.burn_rate)),
                ended_at=pl.col("_last_firing") + dt.timedelta(minutes=1),
            )
            .join(last_minute, on="provider", how="left")
            .with_columns(ongoing=pl.col("_last_firing") == pl.col("_last"))
            .select([pl.col(c).cast(t) for c, t in SLO_ALERTS_SCHEMA.items()])
        )
    alerts = pl.concat(episodes) if episodes else pl.DataFrame(schema=SLO_ALERTS_SCHEMA)
    return alerts.sort("provider", "started_at", "rule")


def compute_slo_budget(minute_sli: pl.DataFrame, targets: Mapping[str, float]) -> pl.DataFrame:
    """Error budget per provider and calendar month (UTC), plus one row for the whole window."""
    minutes = (
        minute_sli.with_columns(pl.col("minute").cast(UTC))
        .join(_targets_frame(targets), on="provider", how="inner")
        .with_columns(
            bad_requests=pl.sum_horizontal(PROVIDER_ERROR_COLUMNS),
            _month=pl.col("minute").dt.truncate("1mo"),
            _day=pl.col("minute").dt.date(),
        )
    )
    totals = [
        pl.col("requests").sum().cast(pl.Int64),
        pl.col("bad_requests").sum().cast(pl.Int64),
        *[
            pl.col(c).sum().cast(pl.Int64)
            for c in ("errors_5xx", "errors_529", "timeouts", "errors_429", "errors_4xx_other")
        ],
        pl.col("availability_target").first(),
        pl.col("error_budget").first(),
    ]
    monthly = (
        minutes.group_by("provider", "_month")
        .agg(*totals)
        .with_columns(
            period_kind=pl.lit("month"),
            period=pl.col("_month").dt.strftime("%Y-%m"),
            period_start=pl.col("_month").dt.date(),
            period_end=pl.col("_month").dt.offset_by("1mo").dt.date() - dt.timedelta(days=1),
        )
    )
    window = (
        minutes.group_by("provider")
        .agg(*totals, period_start=pl.col("_day").min(), period_end=pl.col("_day").max())
        .with_columns(period_kind=pl.lit("window"), period=pl.lit("window"))
    )
    columns = [
        "provider",
        "period_kind",
        "period",
        "period_start",
        "period_end",
        "requests",
        "bad_requests",
        "errors_5xx",
        "errors_529",
        "timeouts",
        "errors_429",
        "errors_4xx_other",
        "availability_target",
        "error_budget",
    ]
    budget = pl.concat([monthly.select(columns), window.select(columns)])
    return (
        budget.with_columns(
            good_requests=pl.col("requests") - pl.col("bad_requests"),
            availability=_ratio(pl.col("requests") - pl.col("bad_requests"), pl.col("requests")),
            budget_requests=pl.col("error_budget") * pl.col("requests"),
        )
        .with_columns(
            budget_used_pct=_ratio(pl.col("bad_requests"), pl.col("budget_requests")) * 100.0,
            budget_remaining_requests=pl.col("budget_requests") - pl.col("bad_requests"),
            slo_met=pl.col("availability") >= pl.col("availability_target"),
        )
        .select(
            "provider",
            "period_kind",
            "period",
            "period_start",
            "period_end",
            "requests",
            "good_requests",
            "bad_requests",
            "errors_5xx",
            "errors_529",
            "timeouts",
            "errors_429",
            "errors_4xx_other",
            "availability",
            "availability_target",
            "error_budget",
            "budget_requests",
            "budget_used_pct",
            "budget_remaining_requests",
            "slo_met",
        )
        .sort("provider", "period_kind", "period_start")
    )


def telemetry_episodes(
    minute_sli: pl.DataFrame,
    thresholds: Mapping[str, float],
    *,
    min_requests: int = 20,
    window_minutes: int = 5,
    min_breaching_minutes: int = 3,
    max_gap_minutes: int = 5,
    baseline_days: int = 7,
) -> pl.DataFrame:
    """Outage episodes seen in our own request telemetry, in `marts.outage_episodes` columns.

    `thresholds` maps provider -> error-ratio threshold (config slo.error_ratio_threshold); providers
    without one are skipped. Rules:
    - a minute *breaches* when it had >= `min_requests` requests and error_ratio > threshold;
    - a breaching minute is *confirmed* when some run of `window_minutes` consecutive minutes holding
      it has >= `min_breaching_minutes` breaching minutes (3 of 5);
    - confirmed minutes separated by at most `max_gap_minutes` unconfirmed minutes (quiet, low-traffic
      or healthy) merge into one episode, so a flapping outage is one episode, not many;
    - started_at = first confirmed minute, ended_at = end of the last confirmed minute (exclusive);
      peak_at/peak_value = the minute with the highest error ratio among the episode's minutes with
      >= `min_requests` requests; baseline_value = median error ratio of such minutes over the
      `baseline_days` days before started_at (null when there were none).
    Extra columns split the episode's provider errors by class (share_529 vs share_5xx vs
    share_timeouts) and name the dominant class.
    """
    dense = dense_minutes(minute_sli).join(
        pl.DataFrame(
            {"provider": list(thresholds), "threshold": [float(v) for v in thresholds.values()]},
            schema={"provider": pl.String, "threshold": pl.Float64},
        ),
        on="provider",
        how="inner",
    )
    qualifying = pl.col("requests") >= min_requests
    marked = (
        dense.with_columns(
            _breach=(qualifying & (pl.col("error_ratio") > pl.col("threshold"))).fill_null(False)
        )
        .with_columns(
            _fires=pl.col("_breach")
            .cast(pl.Int64)
            .rolling_sum(window_size=window_minutes, min_samples=1)
            .over("provider")
            >= min_breaching_minutes
        )
        .with_columns(
            # A breaching minute is confirmed if any window ending in the next `window_minutes` rows fires.
            _confirmed=pl.col("_breach")
            & pl.any_horizontal(
                [pl.col("_fires").shift(-k).over("provider").fill_null(False) for k in range(window_minutes)]
            )
        )
    )
    confirmed = (
        marked.filter("_confirmed")
        .select("provider", "minute")
        .with_columns(
            _new=(
                pl.col("minute").diff().over("provider") > dt.timedelta(minutes=max_gap_minutes + 1)
            ).fill_null(True)
        )
        .with_columns(_episode=pl.col("_new").cum_sum().over("provider"))
        .drop("_new")
    )
    if confirmed.height == 0:
        return pl.DataFrame(schema=TELEMETRY_EPISODES_SCHEMA)

    # Give every grid minute between an episode's first and last confirmed minute that episode's id.
    in_episode = (
        marked.join(confirmed, on=["provider", "minute"], how="left")
        .with_columns(
            _prev=pl.col("_episode").forward_fill().over("provider"),
            _next=pl.col("_episode").backward_fill().over("provider"),
        )
        .filter(pl.col("_prev") == pl.col("_next"))
        .with_columns(_episode=pl.col("_prev"))
    )
    peak_ratio = pl.col("error_ratio").filter(qualifying)
    episodes = (
        in_episode.group_by("provider", "_episode")
        .agg(
            started_at=pl.col("minute").min(),
            _last=pl.col("minute").max(),
            peak_at=pl.col("minute").filter(qualifying).get(peak_ratio.arg_max()),
            peak_value=peak_ratio.max(),
            threshold=pl.col("threshold").first(),
            breaching_minutes=pl.col("_confirmed").sum().cast(pl.Int64),
            **{
                c: pl.col(c).sum().cast(pl.Int64)
                for c in ("requests", "errors_5xx", "errors_529", "timeouts", "errors_429")
            },
        )
        .with_columns(
            ended_at=pl.col("_last") + dt.timedelta(minutes=1),
            _provider_errors=pl.sum_horizontal(PROVIDER_ERROR_COLUMNS),
        )
        .with_columns(
            duration_minutes=((pl.col("ended_at") - pl.col("started_at")).dt.total_minutes()).cast(pl.Int64),
            share_529=_ratio(pl.col("errors_529"), pl.col("_provider_errors")),
            share_5xx=_ratio(pl.col("errors_5xx"), pl.col("_provider_errors")),
            share_timeouts=_ratio(pl.col("timeouts"), pl.col("_provider_errors")),
        )
        .with_columns(
            dominant_error_class=pl.when(pl.col("_provider_errors") == 0)
            .then(None)
            .when(
                (pl.col("errors_529") >= pl.col("errors_5xx")) & (pl.col("errors_529") >= pl.col("timeouts"))
            )
            .then(pl.lit("529"))
            .when(pl.col("errors_5xx") >= pl.col("timeouts"))
            .then(pl.lit("5xx"))
            .otherwise(pl.lit("timeout"))
        )
        .sort("provider", "started_at")
    )

    # Baseline: few episodes, so one filter per episode over that provider's qualifying minutes.
    history = dense.filter(qualifying).select("provider", "minute", "error_ratio")
    baselines = []
    for provider, started_at in episodes.select("provider", "started_at").iter_rows():
        trailing = history.filter(
            (pl.col("provider") == provider)
            & (pl.col("minute") >= started_at - dt.timedelta(days=baseline_days))
            & (pl.col("minute") < started_at)
        )
        baselines.append(trailing["error_ratio"].median() if trailing.height else None)
    return episodes.with_columns(
        source=pl.lit("telemetry"),
        service=pl.lit("api"),
        country=pl.lit(None, dtype=pl.String),
        baseline_value=pl.Series(baselines, dtype=pl.Float64),
    ).select([pl.col(c).cast(t) for c, t in TELEMETRY_EPISODES_SCHEMA.items()])


# --- assets -------------------------------------------------------------------------------------------


def _read_minute_sli(workspace: Workspace) -> pl.DataFrame:
    with workspace.warehouse() as con:
        if not relation_exists(con, MINUTE_SLI_TABLE):
            return pl.DataFrame(schema=MINUTE_SLI_SCHEMA)
        return read_table(con, MINUTE_SLI_TABLE).with_columns(pl.col("minute").dt.convert_time_zone("UTC"))


def _slo_config(workspace: Workspace, field: str) -> dict[str, float]:
    return {key: getattr(p.slo, field) for key, p in workspace.providers().providers.items()}


def _unconfigured(minute_sli: pl.DataFrame, targets: Mapping[str, float]) -> list[str]:
    return sorted(set(minute_sli["provider"].unique().to_list()) - set(targets))


@dg.asset(
    key=["marts", "slo_burn"],
    deps=[provider_minute_sli],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(SLO_BURN_CHECK, asset=["marts", "slo_burn"], blocking=True)],
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
    """
    minute_sli = _read_minute_sli(workspace)
    targets = _slo_config(workspace, "availability_target")
    burn = compute_slo_burn(minute_sli, targets)
    with workspace.warehouse() as con:
        replace_table(con, SLO_BURN_TABLE, burn)
    burn_columns = [f"burn_rate_{label}" for label in BURN_WINDOWS]
    checked = burn.select("provider", "minute", "requests", "bad_requests", "good_requests", *burn_columns)
    return dg.MaterializeResult(
        metadata={
            "rows": burn.height,
            "providers_without_slo": dg.MetadataValue.json(_unconfigured(minute_sli, targets)),
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
                    *[between(c, 0, None) for c in burn_columns],
                ],
            )
        ],
    )


@dg.asset(
    key=["marts", "slo_alerts"],
    deps=[slo_burn],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(SLO_ALERTS_CHECK, asset=["marts", "slo_alerts"], blocking=True)],
)
def slo_alerts(workspace: Workspace) -> dg.MaterializeResult:
    """When each provider would have paged or ticketed us: SRE-workbook multiwindow burn-rate alerts.

    Rules: page 1h/5m@14.4 and 6h/30m@6; ticket 1d/2h@3 and 3d/6h@1 (fire while BOTH windows' burn
    rates exceed the factor). One row per episode of consecutive firing minutes.
    - provider, rule ("1h/5m@14.4"), severity (page|ticket), long_window, short_window, burn_rate_threshold.
    - started_at: first firing minute; ended_at: end of the last firing minute (exclusive).
    - peak_burn_rate: highest long-window burn rate during the episode.
    - minutes: firing minutes (= ended_at - started_at); ongoing: still firing at the end of the data.
    """
    with workspace.warehouse() as con:
        burn = read_table(con, SLO_BURN_TABLE).with_columns(pl.col("minute").dt.convert_time_zone("UTC"))
    alerts = compute_slo_alerts(burn)
    with workspace.warehouse() as con:
        replace_table(con, SLO_ALERTS_TABLE, alerts)
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
                ],
            )
        ],
    )


@dg.asset(
    key=["marts", "slo_budget"],
    deps=[provider_minute_sli],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(SLO_BUDGET_CHECK, asset=["marts", "slo_budget"], blocking=True)],
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
    minute_sli = _read_minute_sli(workspace)
    budget = compute_slo_budget(minute_sli, _slo_config(workspace, "availability_target"))
    with workspace.warehouse() as con:
        replace_table(con, SLO_BUDGET_TABLE, budget)
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


@dg.asset(
    key=["marts", "telemetry_episodes"],
    deps=[provider_minute_sli],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[
        dg.AssetCheckSpec(TELEMETRY_EPISODES_CHECK, asset=["marts", "telemetry_episodes"], blocking=True)
    ],
)
def telemetry_episodes_asset(workspace: Workspace) -> dg.MaterializeResult:
    """Outages seen in our own API telemetry, in the columns of marts.outage_episodes (source='telemetry').

    An episode: the provider's error ratio (5xx + 529 + timeouts over requests) above config
    slo.error_ratio_threshold in >= 3 of 5 consecutive minutes having >= 20 requests; confirmed minutes
    at most 5 minutes apart merge.
    - source 'telemetry'; provider; service 'api' (our requests hit the API); country null.
    - started_at / ended_at: first confirmed minute / end of the last one (exclusive).
    - peak_at / peak_value: minute and value of the highest error ratio in the episode.
    - baseline_value: median minute error ratio of the 7 days before started_at.
    - threshold, duration_minutes, breaching_minutes (confirmed minutes), requests and the error classes
      in the episode; share_529 / share_5xx / share_timeouts of the provider's errors; dominant_error_class.
    """
    minute_sli = _read_minute_sli(workspace)
    thresholds = _slo_config(workspace, "error_ratio_threshold")
    episodes = telemetry_episodes(minute_sli, thresholds)
    with workspace.warehouse() as con:
        replace_table(con, TELEMETRY_EPISODES_TABLE, episodes)
    return dg.MaterializeResult(
        metadata={
            "episodes": episodes.height,
            "providers_without_threshold": dg.MetadataValue.json(_unconfigured(minute_sli, thresholds)),
        },
        check_results=[
            check_result(
                TELEMETRY_EPISODES_CHECK,
                episodes,
                [
                    has_columns(*TELEMETRY_EPISODES_SCHEMA),
                    in_set("source", {"telemetry"}),
                    not_null("provider"),
                    not_null("started_at"),
                    not_null("ended_at"),
                    between("peak_value", 0, 1),
                    between("duration_minutes", 1, None),
                ],
            )
        ],
    )
