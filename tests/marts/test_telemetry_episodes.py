"""Telemetry episodes decided on evidence: hand-computed cases at the threshold, the evidence rule and the
p-value rule, each tested on both sides.

Every case is eight quiet days at 100 requests a minute with exactly 1 failure a minute (baseline 1%),
then one planted minute on day 9 at 12:00 UTC; thresholds are the config's error-ratio threshold.
"""

import datetime as dt
from math import comb

import polars as pl
import pytest

from assets.marts.episodes.telemetry import TELEMETRY_EPISODES_SCHEMA, telemetry_episodes
from assets.marts.episodes.telemetry_evidence import EvidenceRule, evidence_windows, likeliest_segment
from pipelines.core.minute_sli import binomial_tail

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAYS = 9
PLANTED = 8 * 1440 + 12 * 60  # minute index of 2026-03-09 12:00


def tail(k: int, n: int, p: float) -> float:
    """P(X >= k), X ~ Binomial(n, p), summed by hand (independent of scipy)."""
    return 1.0 - sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k))


def series(planted: dict[int, tuple[int, int]], quiet=(100, 1), minutes: int = DAYS * 1440) -> pl.DataFrame:
    """provider 'p' minute SLIs; `planted` maps minute index -> (requests, 5xx) and overrides `quiet`."""
    counts = [planted.get(i, quiet) for i in range(minutes)]
    frame = pl.DataFrame(
        {
            "provider": ["p"] * minutes,
            "minute": pl.datetime_range(
                START, START + dt.timedelta(minutes=minutes - 1), "1m", eager=True, time_zone="UTC"
            ),
            "requests": [n for n, _ in counts],
            "errors_5xx": [k for _, k in counts],
        }
    ).with_columns(
        pl.col("minute").dt.cast_time_unit("us"),
        *[pl.lit(0, pl.Int64).alias(c) for c in ("errors_529", "timeouts", "errors_429", "errors_4xx_other")],
        errors_other=pl.lit(0, pl.Int64),
    )
    return frame.with_columns(
        ok=pl.col("requests") - pl.col("errors_5xx"), error_ratio=pl.col("errors_5xx") / pl.col("requests")
    ).filter(pl.col("requests") > 0)


def at(i: int) -> dt.datetime:
    return START + dt.timedelta(minutes=i)


def test_hand_computed_binomial_tails() -> None:
    assert binomial_tail(0, 20, 0.01) == pytest.approx(1.0)
    assert binomial_tail(5, 20, 0.01) == pytest.approx(tail(5, 20, 0.01), rel=1e-9)
    assert binomial_tail(6, 20, 0.01) == pytest.approx(tail(6, 20, 0.01), rel=1e-9)
    # The two sides of the default false-alarm level 1e-6 for a 20-request window at a 1% baseline:
    assert tail(5, 20, 0.01) > 1e-6 > tail(6, 20, 0.01)


@pytest.mark.parametrize(("errors", "found"), [(5, False), (6, True)])
def test_p_value_rule_on_both_sides(errors: int, found: bool) -> None:
    # 20 requests at 12:00; 5 failures: ratio 25% > 5% but P(X >= 5 | 20, 1%) = 1.9e-6 > 1e-6 (no episode);
    # 6 failures: P = 3.5e-8 <= 1e-6 (one episode, exactly that minute, with that p-value).
    episodes = telemetry_episodes(series({PLANTED: (20, errors)}), {"p": 0.05})
    assert episodes.schema == pl.Schema(TELEMETRY_EPISODES_SCHEMA)
    assert episodes.height == int(found)
    if found:
        row = episodes.row(0, named=True)
        assert (row["started_at"], row["ended_at"], row["duration_minutes"]) == (
            at(PLANTED),
            at(PLANTED + 1),
            1,
        )
        assert (row["requests"], row["errors"]) == (20, errors)
        assert row["baseline_value"] == pytest.approx(0.01)
        assert row["p_value"] == pytest.approx(tail(errors, 20, 0.01), rel=1e-6)
        assert row["confidence"] == pytest.approx(1 - tail(errors, 20, 0.01))
        assert row["false_alarm_level"] == 1e-6 and row["peak_value"] == pytest.approx(errors / 20)


@pytest.mark.parametrize(("errors", "found"), [(10, False), (11, True)])
def test_error_ratio_exactly_at_the_threshold_is_not_an_outage(errors: int, found: bool) -> None:
    # Threshold 0.5: 10 of 20 failing is exactly at it (no episode, however improbable: p ~ 1e-15);
    # 11 of 20 is above it (one episode).
    assert tail(10, 20, 0.01) < 1e-12
    episodes = telemetry_episodes(series({PLANTED: (20, errors)}), {"p": 0.5})
    assert episodes.height == int(found)


@pytest.mark.parametrize(("burst", "found"), [(19, False), (20, True)])
def test_a_window_one_request_short_of_the_evidence_rule_decides_nothing(burst: int, found: bool) -> None:
    # Two quiet hours without a request on each side of one minute where every request failed: with 19
    # requests no window of <= 120 minutes reaches the 20 requests the evidence rule asks for; with 20 it
    # does, and 20 failures of 20 at a 1% baseline are overwhelming.
    silent = {i: (0, 0) for i in range(PLANTED - 150, PLANTED + 150)}
    episodes = telemetry_episodes(series({**silent, PLANTED: (burst, burst)}), {"p": 0.05})
    assert episodes.height == int(found)
    if found:
        assert episodes["started_at"][0] == at(PLANTED) and episodes["errors"][0] == 20


def test_pooled_windows_find_a_low_volume_outage_a_fixed_per_minute_count_missed() -> None:
    # The case: ~12 requests a minute with 0 failures, then 2 hours at 50-70% failures. No single
    # minute has 20 requests; the pooled 2-minute windows find it, from its first minute to its last.
    outage = {i: (12, 6 + (i % 3)) for i in range(PLANTED, PLANTED + 120)}
    episodes = telemetry_episodes(series(outage, quiet=(12, 0)), {"p": 0.05})
    assert episodes.height == 1
    row = episodes.row(0, named=True)
    assert (row["started_at"], row["ended_at"]) == (at(PLANTED), at(PLANTED + 120))
    assert row["baseline_value"] == pytest.approx(0.001)  # the floor: this provider never failed before
    assert row["errors"] == sum(k for _, k in outage.values()) and row["p_value"] < 1e-100


def test_evidence_windows_pool_minutes_until_they_hold_enough_requests() -> None:
    requests = pl.Series([5, 5, 5, 5, 30, 0, 0, 19, 1]).to_numpy()
    bad = pl.Series([0, 1, 0, 1, 3, 0, 0, 2, 1]).to_numpy()
    starts, n, k = evidence_windows(requests, bad, min_requests=20, max_window_minutes=3)
    # minute 3 needs minutes 0..3 (4 minutes > 3): undecided; minute 4 alone holds 30; minute 7 needs
    # 4..7; minute 8 needs 7..8 (19 + 1 = 20).
    assert starts.tolist() == [-1, -1, -1, -1, 4, 4, 4, -1, 7]
    assert n.tolist() == [0, 0, 0, 0, 30, 30, 30, 0, 20]
    assert k.tolist() == [0, 0, 0, 0, 3, 3, 3, 0, 3]


def test_likeliest_segment_trims_healthy_minutes() -> None:
    requests = pl.Series([10, 10, 10, 10, 10, 10]).to_numpy()
    bad = pl.Series([0, 1, 5, 6, 4, 0]).to_numpy()
    baseline = pl.Series([0.01] * 6).to_numpy()
    # Reference 50%: a minute gains k log(50) + (10 - k) log(0.5 / 0.99): 1 of 10 loses 2.2, 4 of 10 gains
    # 11.5. At a 30% reference, 1 of 10 gains 3.40 - 3.12 = +0.28 and joins.
    assert likeliest_segment(requests, bad, baseline, 0.5) == (2, 4)
    assert likeliest_segment(requests, bad, baseline, 0.3) == (1, 4)
    assert likeliest_segment(requests, pl.Series([0] * 6).to_numpy(), baseline, 0.5) is None


def test_providers_without_a_threshold_and_empty_input() -> None:
    sli = series({PLANTED: (20, 20)})
    assert telemetry_episodes(sli, {"other": 0.05}).height == 0
    assert telemetry_episodes(sli.clear(), {"p": 0.05}).schema == pl.Schema(TELEMETRY_EPISODES_SCHEMA)
    assert EvidenceRule().window_requests[0] == 20
