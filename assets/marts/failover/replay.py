"""marts.failover_simulation: what a second vendor would have bought us, replayed minute by minute.

Our own traffic (marts.provider_minute_sli, per provider and minute) is replayed under three policies
(none, cooldown, avoid_recent_outage: policies.py); the fallback of each primary comes from the cost
model (`failover.fallback`: anthropic <-> openai, google -> openai by default).

A request FAILS when the provider failed it: 5xx, 529 or a timeout (PROVIDER_ERROR_COLUMNS), the same
failed requests marts.downtime_cost prices, so failed_requests under 'none' equals that mart's
provider_errors and a saved request is worth the same value_per_failed_request_usd. 429 (our quota) and
other 4xx are ours and are not counted; a 429 still triggers the cooldown (LiteLLM cools a deployment
down on 429). fail_ratio = failed / requests in the minute.
Under 'none' every request goes to its primary; failed = the primary's failed requests.
A rerouted request fails at the fallback's fail_ratio in that minute (an expected count, so fractional);
a minute in which the fallback served none of our own traffic uses the fallback's overall fail_ratio
(0 if we never sent it any: counted in fallback_minutes_without_data, so the optimism is visible).

Output, per policy and primary provider: requests, rerouted_requests / rerouted_minutes, failed_requests,
saved_requests = failed under 'none' - failed under the policy (negative = the fallback did worse),
downtime_cost_avoided_usd = saved x failed_request_value_usd[request_category] (base; _low/_high too),
extra_cost_usd = rerouted x (fallback price_per_request - primary price_per_request) (base; _low/_high;
prices from the cost model, or its `defaults` block: cost_terms_source says 'default' when either side
used them),
extra_latency_ms = request-weighted mean over rerouted minutes of (fallback p50 - primary p50), and
correlated_failure_minutes: minutes in which primary AND fallback both had a provider error ratio above
`correlated_error_ratio_threshold`, with correlated_failed_requests (the primary's failures in them):
what no second vendor can save, whatever the policy.
"""

import numpy as np
import polars as pl

from assets.marts.failover.policies import POLICIES, avoidance_mask, cooldown_mask
from pipelines.core.cost_model import CostModel
from pipelines.core.frames import to_utc
from pipelines.core.minute_sli import PROVIDER_ERROR_COLUMNS

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
    "cost_terms_source": pl.String,
}


def _prepare(minute_sli: pl.DataFrame) -> pl.DataFrame:
    return (
        to_utc(minute_sli)
        .with_columns(failed=pl.sum_horizontal(*PROVIDER_ERROR_COLUMNS).cast(pl.Int64))
        .with_columns(
            fail_ratio=pl.col("failed") / pl.col("requests"),
            t=pl.col("minute").dt.epoch("us"),
        )
    )


def _primary_minutes(sli: pl.DataFrame, primary: str, fallback: str) -> dict[str, np.ndarray]:
    """The primary's minutes as arrays, beside what its fallback did in the same minutes."""
    own = sli.filter(pl.col("provider") == primary).sort("minute")
    other = sli.filter(pl.col("provider") == fallback)
    overall_fail = float(other["failed"].sum() / other["requests"].sum()) if other.height else 0.0
    overall_p50 = float(other["latency_p50_ms"].median()) if other.height else float("nan")
    joined = own.join(
        other.select(
            "minute",
            pl.col("fail_ratio").alias("fb_fail_ratio"),
            pl.col("latency_p50_ms").alias("fb_p50"),
        ),
        on="minute",
        how="left",
    ).sort("minute")
    return {
        "t": joined["t"].to_numpy(),
        "req": joined["requests"].to_numpy().astype(np.int64),
        "failed": joined["failed"].to_numpy().astype(np.float64),
        "errors_429": joined["errors_429"].to_numpy(),
        "missing": joined["fb_fail_ratio"].is_null().to_numpy(),
        "fb_fail": joined["fb_fail_ratio"].fill_null(overall_fail).to_numpy(),
        "fb_p50": joined["fb_p50"].fill_null(overall_p50).to_numpy().astype(np.float64),
        "p50": joined["latency_p50_ms"].to_numpy().astype(np.float64),
        "err": joined["fail_ratio"].to_numpy(),
        "fb_err": joined["fb_fail_ratio"].to_numpy().astype(np.float64),
    }


def _policy_masks(m: dict[str, np.ndarray], model: CostModel) -> dict[str, np.ndarray]:
    """Per policy: which of the primary's minutes go to the fallback."""
    cfg = model.failover
    return {
        "none": np.zeros(m["t"].size, dtype=bool),
        "cooldown": cooldown_mask(
            m["t"],
            m["req"],
            m["failed"],
            m["errors_429"],
            cfg.cooldown.failure_ratio,
            cfg.cooldown.min_requests,
            cfg.cooldown.allowed_fails,
            cfg.cooldown.cool_on_429,
            cfg.cooldown.cooldown_minutes,
        ),
        "avoid_recent_outage": avoidance_mask(
            m["t"],
            m["req"],
            m["err"],
            cfg.avoidance.error_ratio_threshold,
            cfg.avoidance.min_requests,
            cfg.avoidance.lookback_minutes,
        ),
    }


def _primary_rows(primary: str, fallback: str, m: dict[str, np.ndarray], model: CostModel) -> list[dict]:
    """One row per policy for one primary and its fallback."""
    value = model.failed_request_value_usd[model.request_category]
    req, failed, fb_fail, fb_p50, p50 = m["req"], m["failed"], m["fb_fail"], m["fb_p50"], m["p50"]
    thr = model.failover.correlated_error_ratio_threshold
    correlated = (m["err"] > thr) & (m["fb_err"] > thr)  # NaN (no fallback traffic) compares False
    price = {
        s: model.terms(fallback).price_per_request_usd.get(s)
        - model.terms(primary).price_per_request_usd.get(s)
        for s in ("low", "base", "high")
    }
    sources = {model.terms_source(primary), model.terms_source(fallback)}
    masks = _policy_masks(m, model)
    failed_none = float(failed.sum())
    rows = []
    for policy in POLICIES:
        moved = masks[policy]
        failed_policy = float(np.where(moved, req * fb_fail, failed).sum())
        rerouted = int(req[moved].sum())
        saved = failed_none - failed_policy
        with np.errstate(invalid="ignore"):
            latency = (
                float(np.sum(req[moved] * (fb_p50[moved] - p50[moved])) / rerouted) if rerouted else None
            )
        rows.append(
            {
                "policy": policy,
                "provider": primary,
                "fallback_provider": fallback,
                "minutes": int(m["t"].size),
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
                "fallback_minutes_without_data": int((moved & m["missing"]).sum()),
                "cost_terms_source": "default" if "default" in sources else "provider",
            }
        )
    return rows


def simulate_failover(minute_sli: pl.DataFrame, model: CostModel) -> pl.DataFrame:
    """One row per policy and primary provider (primaries = providers with a fallback and traffic)."""
    if minute_sli.is_empty():
        return pl.DataFrame(schema=FAILOVER_SCHEMA)
    sli = _prepare(minute_sli)
    rows = []
    for primary in sorted(sli["provider"].unique().to_list()):
        fallback = model.failover.fallback.get(primary)
        if fallback is None:
            continue
        rows += _primary_rows(primary, fallback, _primary_minutes(sli, primary, fallback), model)
    return pl.DataFrame(rows, schema=FAILOVER_SCHEMA)
