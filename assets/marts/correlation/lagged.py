"""Lagged cross-correlation: Pearson and Spearman of x(t) vs y(t + lag) at every lag at once.

All lags by FFT cross-correlation of the masked series (exact Pearson over each lag's overlapping
hours). Pearson may weight each pair by w_x(t) x w_y(t + lag): an error ratio measured on 3 requests is
mostly noise (1 failure = 33 %), so the error side is weighted by its hour's requests (the ratio's
precision), which keeps quiet hours from drowning the signal at low traffic; without weights every
valid hour counts once. Spearman = unweighted Pearson of the ranks of each series (ranked once over its
valid hours, not re-ranked per lag: with ~2,500 hours the difference is nil).
"""

import numpy as np
from scipy import fft as sfft


def standardise(values: np.ndarray) -> np.ndarray:
    """(v - mean) / sd over the finite values (NaN elsewhere); keeps the FFT sums well conditioned."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if finite.sum() < 2:
        return np.full(v.shape, np.nan)
    centred = v - v[finite].mean()
    sd = centred[finite].std()
    return centred / sd if sd > 0 else np.where(finite, 0.0, np.nan)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of a 1-d array; tied values share the mean of the ranks they span ([10, 20, 20, 5] ->
    [2, 3.5, 3.5, 1]), as `scipy.stats.rankdata` does by default, without its 0.5 s import."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_tie = np.ones(ordered.size, dtype=bool)
    starts_tie[1:] = ordered[1:] != ordered[:-1]
    tie = np.cumsum(starts_tie) - 1
    # tie t spans the sorted positions bounds[t] .. bounds[t + 1] - 1, so ranks bounds[t] + 1 .. bounds[t + 1]
    bounds = np.append(np.flatnonzero(starts_tie), ordered.size)
    ranks = np.empty(ordered.size)
    ranks[order] = (bounds[tie] + bounds[tie + 1] + 1) / 2.0
    return ranks


def _ranks(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    finite = np.isfinite(v)
    out[finite] = average_ranks(v[finite])
    return out


class Side:
    """rfft of a (stack of) series: its valid-hour mask, its weights, w x v and w x v^2.

    A value counts where it is finite and its weight (1 when no weights are given) is positive.
    """

    def __init__(self, values: np.ndarray, size: int, weights: np.ndarray | None = None):
        w = np.ones(values.shape) if weights is None else np.asarray(weights, dtype=np.float64)
        mask = np.isfinite(values) & np.isfinite(w) & (w > 0)
        w = np.where(mask, w, 0.0)
        filled = np.where(mask, values, 0.0)
        self.mask = sfft.rfft(mask.astype(np.float64), size, axis=-1)
        self.weight = sfft.rfft(w, size, axis=-1)
        self.value = sfft.rfft(w * filled, size, axis=-1)
        self.square = sfft.rfft(w * filled * filled, size, axis=-1)


def fft_size(n: int, max_lag: int) -> int:
    return sfft.next_fast_len(n + max_lag + 1, real=True)


def lagged_r(xs: Side, ys: Side, size: int, max_lag: int, min_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Pearson r and pair counts at lags -max_lag..max_lag (last axis) of x(t) against y(t + lag)."""

    def cc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        full = sfft.irfft(np.conj(a) * b, size, axis=-1)
        return np.concatenate([full[..., size - max_lag :], full[..., : max_lag + 1]], axis=-1)

    pairs = np.rint(cc(xs.mask, ys.mask))
    w = cc(xs.weight, ys.weight)
    sx, sy = cc(xs.value, ys.weight), cc(xs.weight, ys.value)
    sxx, syy = cc(xs.square, ys.weight), cc(xs.weight, ys.square)
    sxy = cc(xs.value, ys.value)
    cov = w * sxy - sx * sy
    var = (w * sxx - sx * sx) * (w * syy - sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.sqrt(var)
    r = np.where((pairs >= min_pairs) & (var > 1e-12 * np.maximum(w, 1e-300) ** 4), r, np.nan)
    return np.clip(r, -1.0, 1.0), pairs.astype(np.int64)


def lagged_correlation(
    x: np.ndarray,
    y: np.ndarray,
    max_lag: int = 72,
    min_pairs: int = 48,
    y_weights: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Pearson (pairs weighted by `y_weights` of the y hour, if given) and Spearman of x(t) vs y(t + lag)
    for every lag in -max_lag..max_lag (NaN = missing)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    lags = np.arange(-max_lag, max_lag + 1)
    if not (np.isfinite(x).any() and np.isfinite(y).any()):  # a series without a value (no app or crowd data):
        return {"lags": lags, "pearson": np.full(lags.size, np.nan),  # no pair at any lag, and no FFTs to learn it
                "spearman": np.full(lags.size, np.nan), "pairs": np.zeros(lags.size, dtype=np.int64)}
    size = fft_size(x.size, max_lag)
    pearson, pairs = lagged_r(
        Side(standardise(x), size), Side(standardise(y), size, y_weights), size, max_lag, min_pairs
    )
    if y_weights is not None:  # ranks over the hours the weighted Pearson uses
        y = np.where(np.asarray(y_weights, dtype=np.float64) > 0, y, np.nan)
    spearman, _ = lagged_r(
        Side(standardise(_ranks(x)), size), Side(standardise(_ranks(y)), size), size, max_lag, min_pairs
    )
    return {
        "lags": lags,
        "pearson": pearson,
        "spearman": spearman,
        "pairs": pairs,
    }


def max_abs(r: np.ndarray) -> np.ndarray:
    """The largest |r| over the lags (last axis), NaN lags ignored (-inf when every lag is NaN)."""
    with np.errstate(invalid="ignore"):
        return np.nanmax(np.where(np.isfinite(r), np.abs(r), -np.inf), axis=-1)
