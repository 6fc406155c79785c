"""Lagged correlation with a planted lag, its false-positive rate, and the load/error curve."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.signal import lfilter

from assets.marts.correlation.lagged import lagged_correlation
from assets.marts.correlation.mart import (
    CORRELATION_SCHEMA,
    build_migration_correlation,
    correlate_pair,
    describe,
)
from assets.marts.correlation.saturation import build_load_error_curve
from assets.marts.correlation.significance import CorrelationParams

UTC = pl.Datetime("us", "UTC")


def ar1(rng: np.random.Generator, n: int, phi: float = 0.8, burn: int = 200) -> np.ndarray:
    """A stationary AR(1) series (the first `burn` values are dropped)."""
    return lfilter([1.0], [1.0, -phi], rng.normal(size=n + burn))[burn:]


def test_planted_six_hour_lag_is_found_and_significant():
    rng = np.random.default_rng(42)
    n = 2_200
    signal = ar1(rng, n + 6)
    errors = signal[:-6] + ar1(rng, n)  # error(t) = signal(t - 6 h) + AR(1) noise
    signal = signal[6:]
    # signal[t] = s(t + 6) and errors[t] = s(t) + e: errors follow the signal by 6 h
    result = correlate_pair(signal, errors, CorrelationParams(), np.random.default_rng(7))
    assert abs(result["best_lag_hours"] - 6) <= 1
    assert result["p_value"] < 0.05
    assert result["r_ci_low"] < result["pearson_r"] < result["r_ci_high"]
    assert 0.5 < result["pearson_r"] < 0.9


def test_independent_ar1_series_are_rarely_significant():
    params = CorrelationParams(n_permutations=100, n_bootstrap=20)
    significant = 0
    for seed in range(50):
        rng = np.random.default_rng(1_000 + seed)
        x, y = ar1(rng, 2_000), ar1(rng, 2_000)
        significant += correlate_pair(x, y, params, np.random.default_rng(seed))["p_value"] < 0.05
    assert significant <= 5  # at most 10 % of 50 seeds at the 5 % level


def test_lag_profile_matches_direct_computation_with_missing_values():
    rng = np.random.default_rng(3)
    x, y = ar1(rng, 600), ar1(rng, 600)
    x[50:80] = np.nan
    y[::17] = np.nan
    profile = lagged_correlation(x, y, max_lag=10)
    for lag in (-10, -3, 0, 4, 10):
        a, b = (x[: x.size - lag], y[lag:]) if lag >= 0 else (x[-lag:], y[: y.size + lag])
        ok = np.isfinite(a) & np.isfinite(b)
        i = lag + 10
        assert profile["pearson"][i] == pytest.approx(np.corrcoef(a[ok], b[ok])[0, 1], abs=1e-9)
        assert profile["pairs"][i] == ok.sum()
        # Spearman ranks each series once over all its hours: close to, not equal to, per-lag ranks
        assert profile["spearman"][i] == pytest.approx(stats.spearmanr(a[ok], b[ok])[0], abs=0.02)


def test_a_series_without_values_gives_the_empty_profile_the_full_computation_gives():
    from assets.marts.correlation.lagged import Side, fft_size, lagged_r

    y = ar1(np.random.default_rng(5), 300)
    weights = np.linspace(1, 5, 300)
    for x, ys, w in ((np.full(300, np.nan), y, weights), (y, np.full(300, np.nan), None)):
        profile = lagged_correlation(x, ys, max_lag=12, min_pairs=4, y_weights=w)
        size = fft_size(300, 12)
        r, pairs = lagged_r(Side(x, size), Side(ys, size, w), size, 12, 4)  # what the FFTs would have said
        np.testing.assert_array_equal(profile["pairs"], pairs)
        assert profile["pairs"].dtype == pairs.dtype and not pairs.any()
        assert np.isnan(r).all() and np.isnan(profile["pearson"]).all() and np.isnan(profile["spearman"]).all()
        np.testing.assert_array_equal(profile["lags"], np.arange(-12, 13))


def test_sentence_wording():
    assert describe("529 ratio", "traffic growth", 6, 0.712, 0.551, 0.823, 0.0099, 2000) == (
        "529 ratio rose 6 h after traffic growth, r = 0.71, 95% CI 0.55-0.82, p = 0.010"
    )
    assert describe("5xx ratio", "new client ids", -3, -0.2, -0.3, -0.1, 0.2, 2000) == (
        "5xx ratio fell 3 h before new client ids, r = -0.20, 95% CI -0.30 to -0.10, p = 0.20"
    )
    assert "no correlation computable" in describe(
        "429 ratio", "crowd-report share", None, float("nan"), 0, 0, 1, 3
    )


def _hours(n: int) -> list[dt.datetime]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [start + dt.timedelta(hours=i) for i in range(n)]


def test_mart_rows_find_the_lag_between_traffic_growth_and_529_ratio():
    rng = np.random.default_rng(11)
    n = 1_200
    hours = _hours(n)
    growth = 20 * ar1(rng, n + 6)
    load_529 = np.clip(0.02 + 0.0005 * growth[:-6] + 0.002 * ar1(rng, n), 0, 1)  # follows growth by 6 h
    growth = growth[6:]
    signals = pl.DataFrame(
        {
            "grain": "hour",
            "provider": "anthropic",
            "period_start": hours,
            "country": None,
            "growth_pct": growth,
            "new_clients": rng.poisson(2, n),
            "crowd_share": rng.uniform(0, 1, n),
            "warm_up": [i < 24 for i in range(n)],
            "rank_change_1d": None,
        },
        schema_overrides={"country": pl.String, "rank_change_1d": pl.Int64},
    ).with_columns(pl.col("period_start").cast(UTC))
    ranks = pl.DataFrame(
        {
            "grain": "day",
            "provider": "anthropic",
            "period_start": hours[::24],
            "country": "us",
            "rank_change_1d": rng.integers(-2, 3, len(hours[::24])),
            "warm_up": False,
        }
    ).with_columns(pl.col("period_start").cast(UTC))
    signals = pl.concat([signals, ranks], how="diagonal_relaxed")
    minutes = pl.DataFrame(
        {
            "provider": "anthropic",
            "minute": hours,
            "requests": 1_000,
            "errors_5xx": rng.poisson(5, n),
            "errors_529": np.round(load_529 * 1_000).astype(int),
            "errors_429": rng.poisson(1, n),
            "timeouts": rng.poisson(2, n),
        }
    ).with_columns(pl.col("minute").cast(UTC))
    result = build_migration_correlation(
        signals, minutes, CorrelationParams(n_permutations=60, n_bootstrap=60)
    )
    assert result.schema == pl.Schema(CORRELATION_SCHEMA)
    assert result.height == 16  # 4 signals x 4 error series
    row = result.filter(
        (pl.col("signal") == "traffic_growth") & (pl.col("error_series") == "error_529_ratio")
    ).row(0, named=True)
    assert row["best_lag_hours"] == 6
    assert row["significant"]
    assert row["sentence"].startswith("529 ratio rose 6 h after traffic growth, r = ")
    assert len(row["pearson_r_by_lag"]) == 145 and row["lag_hours"][0] == -72


def test_load_error_curve_finds_the_saturation_decile():
    # 1,000 minutes at loads 100..10,000 rpm (10 minutes each); the error ratio is 1 % up to 8,000 rpm,
    # then 10 %: deciles 1-8 sit at 1 %, deciles 9 (8,100..9,000 rpm) and 10 at 10 %
    loads = np.repeat(np.arange(1, 101), 10) * 100
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    requests = loads
    errors = np.where(loads > 8_000, loads // 10, loads // 100)
    minutes = pl.DataFrame(
        {
            "provider": "openai",
            "minute": [start + dt.timedelta(minutes=i) for i in range(loads.size)],
            "requests": requests,
            "errors_5xx": errors,
            "errors_529": 0,
            "errors_429": 0,
            "timeouts": 0,
        }
    ).with_columns(pl.col("minute").cast(UTC))
    curve = build_load_error_curve(minutes)
    assert curve["load_decile"].to_list() == list(range(1, 11))
    assert curve["minutes"].to_list() == [100] * 10
    first = curve.row(0, named=True)
    assert first["saturation_decile"] == 9
    assert first["lower_half_median_error_ratio"] == pytest.approx(0.01)
    assert first["saturation_load_rpm"] == 8_100
    assert 7_000 <= first["hinge_load_rpm"] <= 8_600
    assert curve.filter(pl.col("above_saturation"))["load_decile"].to_list() == [9, 10]
