"""marts.migration_correlation: do errors follow migration? One row per provider x signal x error series.

For each provider and every pair (migration signal x error series, see series.py), hourly:
- Pearson r and Spearman rho at every lag -72..+72 h. Lag L pairs signal(t) with error(t + L): L > 0
  means the errors FOLLOW the signal (lagged.py). Pearson weights each pair by the requests behind the
  error ratio of its hour, capped at the provider's median hourly requests (ratio_weights): a 1-of-3
  ratio does not count as much as a 30-of-1,000 one, and no busy hour counts more than a typical one
  (so one surge cannot carry the whole correlation). With it the planted 6 h lag is found, significant,
  at 0.1x of the scenario's traffic (~20 requests an hour); unweighted it was not.
- best_lag_hours = lag with the largest |Pearson r|.
- p_value and r_ci_low / r_ci_high: moving-block surrogate test and bootstrap interval (significance.py).
- sentence: "529 ratio rose 6 h after traffic growth, r = 0.71, 95% CI 0.55-0.82, p = 0.01".
"""

import math

import numpy as np
import polars as pl

from assets.marts.correlation.lagged import lagged_correlation
from assets.marts.correlation.series import (
    ERROR_SERIES,
    SIGNALS,
    hourly_error_series,
    hourly_signal_series,
    provider_hours,
)
from assets.marts.correlation.significance import (
    DEFAULT_PARAMS,
    CorrelationParams,
    block_bootstrap_ci,
    block_bootstrap_pvalue,
)

CORRELATION_SCHEMA = {
    "provider": pl.String,
    "signal": pl.String,
    "error_series": pl.String,
    "lag_hours": pl.List(pl.Int64),
    "pearson_r_by_lag": pl.List(pl.Float64),
    "spearman_rho_by_lag": pl.List(pl.Float64),
    "best_lag_hours": pl.Int64,
    "pearson_r": pl.Float64,
    "spearman_rho": pl.Float64,
    "pairs": pl.Int64,
    "r_ci_low": pl.Float64,
    "r_ci_high": pl.Float64,
    "p_value": pl.Float64,
    "significant": pl.Boolean,
    "n_permutations": pl.Int64,
    "n_bootstrap": pl.Int64,
    "sentence": pl.String,
}


def describe(
    error_label: str,
    signal_label: str,
    lag: int | None,
    r: float,
    low: float,
    high: float,
    p: float,
    pairs: int,
) -> str:
    """One sentence for a report: '529 ratio rose 6 h after traffic growth, r = 0.71, 95% CI ..., p = 0.01'."""
    if lag is None or not np.isfinite(r):
        return (
            f"{error_label} vs {signal_label}: no correlation computable ({pairs} overlapping hours; "
            "too few, or a series is constant)"
        )
    moved = "rose" if r >= 0 else "fell"
    if lag > 0:
        when = f"{lag} h after"
    elif lag < 0:
        when = f"{-lag} h before"
    else:
        when = "in the same hour as"
    ci = f"{low:.2f}-{high:.2f}" if low >= 0 else f"{low:.2f} to {high:.2f}"
    p_text = f"{p:.3f}" if p < 0.01 else f"{p:.2f}"
    return f"{error_label} {moved} {when} {signal_label}, r = {r:.2f}, 95% CI {ci}, p = {p_text}"


def ratio_weights(requests: np.ndarray) -> np.ndarray:
    """Weight of each hour's error ratio: its requests, capped at the median of the hours with requests."""
    requests = np.nan_to_num(np.asarray(requests, dtype=np.float64))
    busy = requests[requests > 0]
    return np.minimum(requests, np.median(busy)) if busy.size else requests


def correlate_pair(
    x: np.ndarray,
    y: np.ndarray,
    params: CorrelationParams,
    rng: np.random.Generator,
    y_weights: np.ndarray | None = None,
) -> dict:
    """Every figure of one (signal, error series) pair: lag profile, best lag, CI and p (pairs weighted by
    `y_weights`, the requests behind each error ratio, when given)."""
    profile = lagged_correlation(x, y, params.max_lag_hours, params.min_pairs, y_weights)
    pearson = profile["pearson"]
    result = {
        "lag_hours": profile["lags"].tolist(),
        "pearson_r_by_lag": [None if not np.isfinite(v) else float(v) for v in pearson],
        "spearman_rho_by_lag": [None if not np.isfinite(v) else float(v) for v in profile["spearman"]],
        "best_lag_hours": None,
        "pearson_r": math.nan,
        "spearman_rho": math.nan,
        "pairs": int(profile["pairs"].max()) if profile["pairs"].size else 0,
        "r_ci_low": math.nan,
        "r_ci_high": math.nan,
        "p_value": math.nan,
    }
    if not np.isfinite(pearson).any():
        return result
    best = int(np.nanargmax(np.abs(pearson)))
    lag = int(profile["lags"][best])
    observed = float(abs(pearson[best]))
    p, _ = block_bootstrap_pvalue(x, y, observed, params, rng, y_weights)
    low, high = block_bootstrap_ci(x, y, lag, params, rng, y_weights)
    result.update(
        best_lag_hours=lag,
        pearson_r=float(pearson[best]),
        spearman_rho=float(profile["spearman"][best]),
        pairs=int(profile["pairs"][best]),
        r_ci_low=low,
        r_ci_high=high,
        p_value=p,
    )
    return result


def _provider_rows(provider: str, series: pl.DataFrame, params: CorrelationParams) -> list[dict]:
    """The 16 (signal x error series) rows of one provider from its complete hourly series."""
    rows = []
    weights = ratio_weights(series["requests"].cast(pl.Float64).fill_null(0.0).to_numpy())
    for signal, signal_label in SIGNALS.items():
        x = series[signal].cast(pl.Float64).fill_null(np.nan).to_numpy()
        for error, (_, error_label) in ERROR_SERIES.items():
            y = series[error].cast(pl.Float64).fill_null(np.nan).to_numpy()
            # one generator per pair, keyed by its names, so a row does not depend on the others
            rng = np.random.default_rng([params.seed, *(ord(c) for c in f"{provider}|{signal}|{error}")])
            stats_ = correlate_pair(x, y, params, rng, weights)
            rows.append(
                {
                    "provider": provider,
                    "signal": signal,
                    "error_series": error,
                    **stats_,
                    "significant": bool(np.isfinite(stats_["p_value"]) and stats_["p_value"] < params.level),
                    "n_permutations": params.n_permutations,
                    "n_bootstrap": params.n_bootstrap,
                    "sentence": describe(
                        error_label,
                        signal_label,
                        stats_["best_lag_hours"],
                        stats_["pearson_r"],
                        stats_["r_ci_low"],
                        stats_["r_ci_high"],
                        stats_["p_value"],
                        stats_["pairs"],
                    ),
                }
            )
    return rows


def build_migration_correlation(
    signals: pl.DataFrame, minute_sli: pl.DataFrame, params: CorrelationParams = DEFAULT_PARAMS
) -> pl.DataFrame:
    """One row per (provider, signal, error series) with the lag profile and the best-lag statistics."""
    rows = []
    sig = hourly_signal_series(signals) if not signals.is_empty() else None
    err = hourly_error_series(minute_sli) if not minute_sli.is_empty() else None
    if sig is not None and err is not None:
        providers = sorted(set(sig["provider"].to_list()) & set(err["provider"].to_list()))
        for provider in providers:
            series = provider_hours(
                sig.filter(pl.col("provider") == provider), err.filter(pl.col("provider") == provider)
            )
            rows += _provider_rows(provider, series, params)
    return pl.DataFrame(rows, schema=CORRELATION_SCHEMA).with_columns(
        pl.col("pearson_r", "spearman_rho", "r_ci_low", "r_ci_high", "p_value").fill_nan(None)
    )
