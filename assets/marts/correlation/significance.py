"""Block-surrogate significance of a lagged correlation, and a block-bootstrap interval for r.

- p_value: moving-block bootstrap test of independence that accounts for the lag search: the error
  series (with its hourly request weights) is rebuilt from 72-hour blocks drawn at random places (each
  block starting at the same hour of day as the slot it fills, so the daily cycle stays in phase; the
  autocorrelation inside blocks is kept, the link to the signal is broken), the max |r| over all 145
  lags is recomputed on each of 200 seeded surrogates and p = (1 + #{max|r*| >= max|r|}) / (1 + 200).
  The +1 counts the observed series as one of the draws, so p is never below 1 / 201 and a test at
  level a rejects at most a of the time under independence (without it, p would be 0 whenever no
  surrogate beats the observed value, however few surrogates were drawn).
  Why not a circular shift: to keep the true lag out of the null, shifts near zero must be excluded, and
  with max-over-145-lags statistics the remaining shifts hold only ~n / 145 distinct windows; on 800
  pairs of independent AR(1) series (phi 0.8, 2,000 h) the circular-shift test rejected 8.5 % at the
  5 % level, the block test 5.9 %.
- r_ci_low / r_ci_high: 95 % percentile interval of r at the best lag from a moving-block bootstrap of
  the (signal, lagged error, weight) triples (72-hour blocks, 500 resamples, seeded).
"""

import math
from dataclasses import dataclass

import numpy as np

from assets.marts.correlation.lagged import Side, fft_size, lagged_r, max_abs, standardise


@dataclass(frozen=True)
class CorrelationParams:
    max_lag_hours: int = 72
    n_permutations: int = 200
    n_bootstrap: int = 500
    block_hours: int = 72
    phase_hours: int = 24
    min_pairs: int = 48
    level: float = 0.05
    seed: int = 20260302


DEFAULT_PARAMS = CorrelationParams()


def surrogate_p_value(null: np.ndarray, observed: float) -> float:
    """(1 + #{null >= observed}) / (1 + #null): the observed statistic counts as one of the draws."""
    null = np.asarray(null, dtype=np.float64)
    return float((1.0 + np.sum(null >= observed - 1e-12)) / (1.0 + null.size))


def block_bootstrap_pvalue(
    x: np.ndarray,
    y: np.ndarray,
    observed_max_abs_r: float,
    params: CorrelationParams,
    rng: np.random.Generator,
    y_weights: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """p of the max |r| over all lags against moving-block surrogates of y (the lag search is in the statistic).

    Each surrogate is y (and its weights) cut into `block_hours` blocks drawn with replacement from random
    places of y, each block starting at the same hour of day as the slot it fills (so the daily cycle stays
    in phase); the autocorrelation inside blocks is kept, the link to x is broken.
    """
    n = y.size
    block = max(1, min(params.block_hours, n // 4))
    phase = params.phase_hours if block % params.phase_hours == 0 else 1
    n_blocks = math.ceil(n / block)
    starts = rng.choice(np.arange(0, n - block + 1, phase), size=(params.n_permutations, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)).reshape(params.n_permutations, -1)[:, :n]
    weights = None if y_weights is None else np.asarray(y_weights, dtype=np.float64)[idx]
    size = fft_size(n, params.max_lag_hours)
    r, _ = lagged_r(
        Side(standardise(x), size),
        Side(standardise(y)[idx], size, weights),
        size,
        params.max_lag_hours,
        params.min_pairs,
    )
    null = max_abs(r)
    null = np.where(np.isfinite(null), null, 0.0)
    return surrogate_p_value(null, observed_max_abs_r), null


def _lag_pairs(x: np.ndarray, y: np.ndarray, w: np.ndarray, lag: int) -> tuple[np.ndarray, ...]:
    """The valid (x(t), y(t + lag), w(t + lag)) triples."""
    if lag >= 0:
        a, b, c = x[: x.size - lag], y[lag:], w[lag:]
    else:
        a, b, c = x[-lag:], y[: y.size + lag], w[: w.size + lag]
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & (c > 0)
    return a[ok], b[ok], c[ok]


def block_bootstrap_ci(
    x: np.ndarray,
    y: np.ndarray,
    lag: int,
    params: CorrelationParams,
    rng: np.random.Generator,
    y_weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """95 % percentile CI of (weighted) r(x(t), y(t + lag)) from a moving-block bootstrap of the valid pairs."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w = np.ones(y.size) if y_weights is None else np.asarray(y_weights, dtype=np.float64)
    a, b, c = _lag_pairs(x, y, w, lag)
    m = a.size
    if m < params.min_pairs:
        return math.nan, math.nan
    block = max(1, min(params.block_hours, m // 2))
    n_blocks = math.ceil(m / block)
    starts = rng.integers(0, m - block + 1, size=(params.n_bootstrap, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)).reshape(params.n_bootstrap, -1)[:, :m]
    sa, sb, sw = a[idx], b[idx], c[idx]
    total = sw.sum(axis=1, keepdims=True)
    sa = sa - (sw * sa).sum(axis=1, keepdims=True) / total
    sb = sb - (sw * sb).sum(axis=1, keepdims=True) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (sw * sa * sb).sum(axis=1) / np.sqrt((sw * sa * sa).sum(axis=1) * (sw * sb * sb).sum(axis=1))
    r = r[np.isfinite(r)]
    if r.size == 0:
        return math.nan, math.nan
    low, high = np.percentile(r, [2.5, 97.5])
    return float(low), float(high)
