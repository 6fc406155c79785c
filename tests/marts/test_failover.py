"""Failover replay of a crafted ten-minute series, checked against a hand count."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from assets.marts.failover.policies import avoidance_mask, cooldown_mask
from assets.marts.failover.replay import FAILOVER_SCHEMA, simulate_failover
from pipelines.core.cost_model import CostModel

UTC = pl.Datetime("us", "UTC")
T0 = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def r(low: float, base: float, high: float) -> dict:
    return {"low": low, "base": base, "high": high}


def model(cooldown_minutes: int = 2) -> CostModel:
    category = {"loaded_hourly_cost_usd": r(1, 1, 1), "productivity_loss_fraction": r(0, 0, 0)}
    sla = {"monthly_spend_usd": r(0, 0, 0)}
    return CostModel.model_validate(
        {
            "failed_request_value_usd": {"api": r(0.05, 0.10, 0.20)},
            "retry": {"retries_per_failed_request": r(1, 1, 1), "tokens_per_retry": r(1, 1, 1)},
            "categories": {c: category for c in ("api", "consumer_app", "coding_agent")},
            "providers": {
                "anthropic": {
                    "token_price_usd_per_1k": r(0, 0, 0),
                    "price_per_request_usd": r(0.02, 0.02, 0.03),
                    "sla": sla,
                },
                "openai": {
                    "token_price_usd_per_1k": r(0, 0, 0),
                    "price_per_request_usd": r(0.01, 0.01, 0.01),
                    "sla": sla,
                },
            },
            "failover": {
                "fallback": {"anthropic": "openai", "openai": "anthropic"},
                "cooldown": {
                    "failure_ratio": 0.5,
                    "min_requests": 5,
                    "cool_on_429": True,
                    "cooldown_minutes": cooldown_minutes,
                },
                "avoidance": {"lookback_minutes": 2, "error_ratio_threshold": 0.25, "min_requests": 3},
                "correlated_error_ratio_threshold": 0.05,
            },
        }
    )


def crafted_minutes() -> pl.DataFrame:
    """Ten minutes. anthropic: 10 requests a minute, p50 1,000 ms; openai: 20 a minute, p50 1,500 ms.

    minute            0  1  2  3  4  5  6  7  8  9
    anthropic 5xx/529 0  6  8  7  3  0  0  2  0  0     (+ one 429 in minute 5)
    openai 5xx        0  0  2  0  0  0 10  0  0  0
    """
    anthropic = [0, 6, 8, 7, 3, 0, 0, 2, 0, 0]
    anthropic_429 = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    openai = [0, 0, 2, 0, 0, 0, 10, 0, 0, 0]
    rows = []
    for i in range(10):
        minute = T0 + dt.timedelta(minutes=i)
        rows.append(("anthropic", minute, 10, anthropic[i], 0, anthropic_429[i], 1_000.0))
        rows.append(("openai", minute, 20, 0, openai[i], 0, 1_500.0))
    names = ["provider", "minute", "requests", "errors_529", "errors_5xx", "errors_429", "latency_p50_ms"]
    frame = pl.DataFrame([dict(zip(names, row)) for row in rows]).with_columns(
        pl.col("minute").cast(UTC), timeouts=pl.lit(0)
    )
    return frame.with_columns(
        error_ratio=(pl.col("errors_5xx") + pl.col("errors_529")) / pl.col("requests"),
        latency_p95_ms=pl.lit(2_000.0),
    )


def test_replay_matches_the_hand_count():
    """anthropic -> openai, by hand.

    none: failed 0+6+8+7+3+0+0+2+0+0 = 26 provider errors (the 429 of minute 5 is our quota, not a failure
      of the provider: the same count marts.downtime_cost prices).
    cooldown (> 50 % of >= 5 requests, or any 429; 2 minutes): minute 1 (6/10) cools minutes 2-3; minute 4
      (3/10) does not trigger; minute 5 (a 429) cools 6-7. Rerouted 2, 3, 6, 7 = 40 requests failing at
      openai's ratio: 10 x 2/20 + 0 + 10 x 10/20 + 0 = 6; served 0 + 6 + 3 + 0 + 0 + 0 = 9; total 15,
      saved 11 -> 11 x 0.10 = 1.10 USD avoided; extra cost 40 x (0.01 - 0.02) = -0.40; latency +500 ms.
    avoid_recent_outage (error ratio > 0.25 with >= 3 requests in the last 2 minutes): outage minutes 1,
      2, 3, 4 (minute 5's 429 is not a provider error, minute 7 is 0.2) -> avoid 2, 3, 4, 5, 6. Failed:
      6 (min 1) + 1 (min 2 at openai) + 0 + 0 + 0 + 5 (min 6 at openai) + 2 (min 7) = 14, saved 12.
    correlated minutes (both error ratios > 0.05): anthropic 1, 2, 3, 4, 7; openai 2, 6 -> minute 2 only,
      where anthropic failed 8 requests.
    """
    result = simulate_failover(crafted_minutes(), model())
    assert result.schema == pl.Schema(FAILOVER_SCHEMA)
    rows = {
        row["policy"]: row for row in result.filter(pl.col("provider") == "anthropic").iter_rows(named=True)
    }

    none = rows["none"]
    assert (none["requests"], none["failed_requests"], none["saved_requests"], none["rerouted_requests"]) == (
        100,
        26,
        0,
        0,
    )
    assert none["extra_latency_ms"] is None

    cool = rows["cooldown"]
    assert (cool["rerouted_minutes"], cool["rerouted_requests"]) == (4, 40)
    assert cool["failed_requests"] == pytest.approx(15)
    assert cool["saved_requests"] == pytest.approx(11)
    assert cool["downtime_cost_avoided_usd"] == pytest.approx(1.10)
    assert cool["downtime_cost_avoided_usd_high"] == pytest.approx(2.20)
    assert cool["extra_cost_usd"] == pytest.approx(-0.40)
    assert cool["extra_cost_usd_high"] == pytest.approx(40 * (0.01 - 0.03))
    assert cool["extra_latency_ms"] == pytest.approx(500)

    avoid = rows["avoid_recent_outage"]
    assert (avoid["rerouted_minutes"], avoid["rerouted_requests"]) == (5, 50)
    assert avoid["failed_requests"] == pytest.approx(14)
    assert avoid["saved_requests"] == pytest.approx(12)

    for row in rows.values():
        assert (row["correlated_failure_minutes"], row["correlated_failed_requests"]) == (1, 8)
        assert row["fallback_provider"] == "openai"
        assert row["fallback_minutes_without_data"] == 0
        assert row["cost_terms_source"] == "provider"
    # openai is replayed too, towards anthropic
    assert set(result.filter(pl.col("provider") == "openai")["policy"]) == {
        "none",
        "cooldown",
        "avoid_recent_outage",
    }


def test_cooldown_minutes_are_configurable_and_cooled_minutes_do_not_retrigger():
    t = np.arange(10, dtype=np.int64) * 60_000_000
    requests = np.full(10, 10)
    failed = np.array([0, 6, 9, 9, 9, 9, 9, 0, 0, 0])
    no_429 = np.zeros(10, dtype=np.int64)
    five = cooldown_mask(t, requests, failed, no_429, 0.5, 5, None, True, 5)
    # minute 1 triggers, 2-6 are cooled (their failures are not observed), 7 is served again and is fine
    assert np.flatnonzero(five).tolist() == [2, 3, 4, 5, 6]
    one = cooldown_mask(t, requests, failed, no_429, 0.5, 5, None, True, 1)
    # minute 1 -> cools 2; minute 3 served and fails -> cools 4; minute 5 -> cools 6
    assert np.flatnonzero(one).tolist() == [2, 4, 6]
    # allowed_fails: more than 2 fails in a minute cools even under 50 %
    assert cooldown_mask(
        t, requests, np.array([3, 0, 0, 0, 0, 0, 0, 0, 0, 0]), no_429, 0.5, 5, 2, False, 1
    ).tolist()[:3] == [False, True, False]
    # fewer than min_requests requests never trigger on the ratio
    assert not cooldown_mask(t, np.full(10, 4), np.full(10, 4), no_429, 0.5, 5, None, True, 5).any()


def test_avoidance_window_counts_minutes_not_rows():
    # rows at minutes 0, 1, 3, 4 and 20 (gaps in the SLI): an outage at minute 1 avoids minutes 2-3, so
    # minute 3 is avoided and minute 4 is not
    t = np.array([0, 1, 3, 4, 20], dtype=np.int64) * 60_000_000
    mask = avoidance_mask(t, np.full(5, 10), np.array([0.0, 0.9, 0.0, 0.0, 0.0]), 0.25, 3, 2)
    assert mask.tolist() == [False, False, True, False, False]
