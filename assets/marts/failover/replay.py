"""marts.failover_simulation: what a second vendor would have bought us, replayed minute by minute.

Our own traffic (marts.provider_minute_sli, per provider and minute) is replayed under three policies;
the fallback of each primary comes from the cost model (`failover.fallback`: anthropic <-> openai,
google -> openai by default).

A request FAILS when its status was 5xx, 529, a timeout, or 429 (our quota at that provider: LiteLLM
cools a deployment down on 429, and a fallback can serve it); other 4xx are our own bugs and follow the
request anywhere, so they are not counted. fail_ratio = failed / requests in the minute.

Policies:
- none: every request goes to its primary; failed = the primary's failed requests.
- cooldown (LiteLLM router): a minute in which the primary failed more than `failure_ratio` (0.5) of at
  least `min_requests` (5) requests, or more than `allowed_fails` requests (LiteLLM's allowed_fails: fails
  tolerated per minute; off by default), or returned any 429 (`cool_on_429`), puts the primary in
  cooldown for the next `cooldown_minutes` minutes (LiteLLM's cooldown_time, there in seconds, default
  5 s; here minutes, default 5, because our replay is per minute). During cooldown all its traffic goes
  to the fallback and the primary is not observed (a minute inside a cooldown cannot trigger a new one);
  the first minute after the cooldown goes back to the primary.
- avoid_recent_outage (OpenRouter style): the primary is skipped in any minute that follows, within
  `lookback_minutes` (5), a minute in which its provider error ratio (5xx + 529 + timeouts) exceeded
  `error_ratio_threshold` (0.25) over at least `min_requests` (3) requests. OpenRouter learns a provider's
  health from everyone's traffic, so the primary's health keeps being observed while we avoid it.
A rerouted request fails at the fallback's fail_ratio in that minute (an expected count, so fractional);
a minute in which the fallback served none of our own traffic uses the fallback's overall fail_ratio
(0 if we never sent it any: counted in fallback_minutes_without_data, so the optimism is visible).

Output, per policy and primary provider: requests, rerouted_requests / rerouted_minutes, failed_requests,
saved_requests = failed under 'none' - failed under the policy (negative = the fallback did worse),
downtime_cost_avoided_usd = saved x failed_request_value_usd[request_category] (base; _low/_high too),
extra_cost_usd = rerouted x (fallback price_per_request - primary price_per_request) (base; _low/_high),
extra_latency_ms = request-weighted mean over rerouted minutes of (fallback p50 - primary p50), and
correlated_failure_minutes: minutes in which primary AND fallback both had a provider error ratio above
`correlated_error_ratio_threshold`, with correlated_failed_requests (the primary's failures in them):
what no second vendor can save, whatever the policy.
"""

import dagster as dg
import numpy as np
import polars as pl

from assets.marts.migration import utc_columns
from pipelines.core.cost_model import CostModel, load_cost_model
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

FAILOVER_TABLE = "marts.failover_simulation"
MINUTE_SLI_TABLE = "marts.provider_minute_sli"
FAILOVER_CHECK = "failover_simulation_is_well_formed"
POLICIES = ("none", "cooldown", "avoid_recent_outage")
MINUTE_US = 60_000_000

FAILOVER_SCHEMA = {
    "policy": pl.String,
    "provider": pl.String,
    "fallback_provider": pl.String,
    "minutes": pl.Int64,
    "requests": pl.Int64,
    "rerouted_minutes": pl.Int64,
    "rerouted_requests": pl.Int64,
    "failed_requests": pl.Float64,
    "saved_requests": pl.Float64,
    "downtime_cost_avoided_usd": pl.Float64,
    "downtime_cost_avoided_usd_low": pl.Float64,
    "downtime_cost_avoided_usd_high": pl.Float64,
    "extra_cost_usd": pl.Float64,
    "extra_cost_usd_low": pl.Float64,
    "extra_cost_usd_high": pl.Float64,
    "extra_latency_ms": pl.Float64,
    "correlated_failure_minutes": pl.Int64,
    "correlated_failed_requests": pl.Int64,
    "fallback_minutes_without_data": pl.Int64,
}

SLI_COLUMNS = (
    "provider, minute, requests, errors_5xx, errors_529, errors_429, timeouts, error_ratio, latency_p50_ms"
)


def _prepare(minute_sli: pl.DataFrame) -> pl.DataFrame:
    return (
        utc_columns(minute_sli)
        .with_columns(
            failed=(
                pl.col("errors_5xx") + pl.col("errors_529") + pl.col("timeouts") + pl.col("errors_429")
            ).cast(pl.Int64),
            provider_errors=(pl.col("errors_5xx") + pl.col("errors_529") + pl.col("timeouts")).cast(pl.Int64),
        )
        .with_columns(
            fail_ratio=pl.col("failed") / pl.col("requests"),
            error_ratio=pl.col("provider_errors") / pl.col("requests"),
            t=pl.col("minute").dt.epoch("us"),
        )
    )


def cooldown_mask(
    t: np.ndarray,
    requests: np.ndarray,
    failed: np.ndarray,
    errors_429: np.ndarray,
    failure_ratio: float,
    min_requests: int,
    allowed_fails: int | None,
    cool_on_429: bool,
    cooldown_minutes: int,
) -> np.ndarray:
    """Which of the primary's minutes (sorted epoch-us `t`) are served by the fallback under the cooldown."""
    with np.errstate(divide="ignore", invalid="ignore"):
        trigger = (requests >= min_requests) & (failed / requests > failure_ratio)
    if allowed_fails is not None:
        trigger |= failed > allowed_fails
    if cool_on_429:
        trigger |= errors_429 > 0
    rerouted = np.zeros(t.size, dtype=bool)
    cooled_until = np.iinfo(np.int64).min
    # the recursion runs over trigger minutes only (a minute inside a cooldown is not observed)
    for i in np.flatnonzero(trigger):
        if t[i] < cooled_until:
            continue
        start = t[i] + MINUTE_US
        cooled_until = start + cooldown_minutes * MINUTE_US
        lo, hi = np.searchsorted(t, [start, cooled_until], side="left")
        rerouted[lo:hi] = True
    return rerouted


def avoidance_mask(
    t: np.ndarray,
    requests: np.ndarray,
    error_ratio: np.ndarray,
    threshold: float,
    min_requests: int,
    lookback_minutes: int,
) -> np.ndarray:
    """Minutes that follow an outage minute of the primary within `lookback_minutes` (exclusive of itself)."""
    bad_t = t[(requests >= min_requests) & (error_ratio > threshold)]
    if bad_t.size == 0:
        return np.zeros(t.size, dtype=bool)
    # last outage minute strictly before each minute
    idx = np.searchsorted(bad_t, t, side="left") - 1
    last = np.where(idx >= 0, bad_t[np.maximum(idx, 0)], np.iinfo(np.int64).min // 2)
    return (idx >= 0) & (t - last <= lookback_minutes * MINUTE_US)


def simulate_failover(minute_sli: pl.DataFrame, model: CostModel) -> pl.DataFrame:
    """One row per policy and primary provider (primaries = providers with a fallback and traffic)."""
    if minute_sli.is_empty():
        return pl.DataFrame(schema=FAILOVER_SCHEMA)
    sli = _prepare(minute_sli)
    cfg = model.failover
    value = model.failed_request_value_usd[model.request_category]
    rows = []
    for primary in sorted(set(sli["provider"].to_list())):
        fallback = cfg.fallback.get(primary)
        if fallback is None:
            continue
        own = sli.filter(pl.col("provider") == primary).sort("minute")
        other = sli.filter(pl.col("provider") == fallback)
        overall_fail = float(other["failed"].sum() / other["requests"].sum()) if other.height else 0.0
        overall_p50 = float(other["latency_p50_ms"].median()) if other.height else float("nan")
        joined = own.join(
            other.select(
                "minute",
                pl.col("fail_ratio").alias("fb_fail_ratio"),
                pl.col("error_ratio").alias("fb_error_ratio"),
                pl.col("latency_p50_ms").alias("fb_p50"),
            ),
            on="minute",
            how="left",
        ).sort("minute")
        t = joined["t"].to_numpy()
        req = joined["requests"].to_numpy().astype(np.int64)
        failed = joined["failed"].to_numpy().astype(np.float64)
        missing = joined["fb_fail_ratio"].is_null().to_numpy()
        fb_fail = joined["fb_fail_ratio"].fill_null(overall_fail).to_numpy()
        fb_p50 = joined["fb_p50"].fill_null(overall_p50).to_numpy().astype(np.float64)
        p50 = joined["latency_p50_ms"].to_numpy().astype(np.float64)
        err = joined["error_ratio"].to_numpy()
        fb_err = joined["fb_error_ratio"].to_numpy().astype(np.float64)
        thr = cfg.correlated_error_ratio_threshold
        correlated = (err > thr) & (fb_err > thr)  # NaN (no fallback traffic) compares False
        masks = {
            "none": np.zeros(t.size, dtype=bool),
            "cooldown": cooldown_mask(
                t,
                req,
                failed,
                joined["errors_429"].to_numpy(),
                cfg.cooldown.failure_ratio,
                cfg.cooldown.min_requests,
                cfg.cooldown.allowed_fails,
                cfg.cooldown.cool_on_429,
                cfg.cooldown.cooldown_minutes,
            ),
            "avoid_recent_outage": avoidance_mask(
                t,
                req,
                err,
                cfg.avoidance.error_ratio_threshold,
                cfg.avoidance.min_requests,
                cfg.avoidance.lookback_minutes,
            ),
        }
        failed_none = float(failed.sum())
        for policy in POLICIES:
            moved = masks[policy]
            failed_policy = float(np.where(moved, req * fb_fail, failed).sum())
            rerouted = int(req[moved].sum())
            saved = failed_none - failed_policy
            with np.errstate(invalid="ignore"):
                latency = (
                    float(np.sum(req[moved] * (fb_p50[moved] - p50[moved])) / rerouted) if rerouted else None
                )
            price = {
                s: model.providers[fallback].price_per_request_usd.get(s)
                - model.providers[primary].price_per_request_usd.get(s)
                for s in ("low", "base", "high")
            }
            rows.append(
                {
                    "policy": policy,
                    "provider": primary,
                    "fallback_provider": fallback,
                    "minutes": int(t.size),
                    "requests": int(req.sum()),
                    "rerouted_minutes": int(moved.sum()),
                    "rerouted_requests": rerouted,
                    "failed_requests": failed_policy,
                    "saved_requests": saved,
                    "downtime_cost_avoided_usd": saved * value.base,
                    "downtime_cost_avoided_usd_low": saved * value.low,
                    "downtime_cost_avoided_usd_high": saved * value.high,
                    "extra_cost_usd": rerouted * price["base"],
                    "extra_cost_usd_low": rerouted * price["low"],
                    "extra_cost_usd_high": rerouted * price["high"],
                    "extra_latency_ms": latency if latency is None or np.isfinite(latency) else None,
                    "correlated_failure_minutes": int(correlated.sum()),
                    "correlated_failed_requests": int(failed[correlated].sum()),
                    "fallback_minutes_without_data": int((moved & missing).sum()),
                }
            )
    return pl.DataFrame(rows, schema=FAILOVER_SCHEMA)


def failover_expectations() -> list:
    return [
        has_columns(*FAILOVER_SCHEMA),
        not_null("provider"),
        in_set("policy", POLICIES),
        unique_together("policy", "provider"),
        between("requests", 0, None),
        between("failed_requests", 0, None),
        between("rerouted_requests", 0, None),
        between("correlated_failure_minutes", 0, None),
    ]


@dg.asset(
    key=["marts", "failover_simulation"],
    deps=[dg.AssetKey(["marts", "provider_minute_sli"])],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(FAILOVER_CHECK, asset=["marts", "failover_simulation"], blocking=True)],
)
def failover_simulation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Our request history replayed with a second vendor: requests saved, money saved and spent, latency
    added, and the correlated minutes no fallback could have saved, per failover policy and provider.

    Columns: policy (none | cooldown | avoid_recent_outage), provider (primary), fallback_provider,
    minutes / requests (primary's traffic), rerouted_minutes / rerouted_requests, failed_requests (expected
    failures under the policy), saved_requests (vs 'none'), downtime_cost_avoided_usd[_low|_high] (saved x
    value of a failed request), extra_cost_usd[_low|_high] (rerouted x price difference per request),
    extra_latency_ms (mean fallback p50 - primary p50 over rerouted requests), correlated_failure_minutes /
    correlated_failed_requests (both vendors above the threshold in the same minute),
    fallback_minutes_without_data (rerouted minutes in which we had no fallback traffic to measure).
    Policy semantics: assets/marts/failover.py.
    """
    settings = workspace.settings
    model = load_cost_model(settings.cost_model_path)
    with workspace.warehouse() as con:
        sli = read_table_if_exists(con, MINUTE_SLI_TABLE, SLI_COLUMNS)
    if sli is None:
        context.log.warning(f"{MINUTE_SLI_TABLE} does not exist yet: failover_simulation will be empty")
        sli = pl.DataFrame()
    if sli.height:
        model.check_covers(sli["provider"].unique().to_list(), settings.cost_model_path)
    result = simulate_failover(sli, model)
    with workspace.warehouse() as con:
        replace_table(con, FAILOVER_TABLE, result)
    return dg.MaterializeResult(
        metadata={
            "rows": result.height,
            "saved_requests_by_policy": dg.MetadataValue.json(
                {
                    p: round(float(v), 1)
                    for p, v in result.group_by("policy").agg(pl.col("saved_requests").sum()).iter_rows()
                }
            ),
        },
        check_results=[check_result(FAILOVER_CHECK, result, failover_expectations())],
    )
