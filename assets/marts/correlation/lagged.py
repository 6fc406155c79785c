"""Lagged cross-correlation: Pearson and Spearman of x(t) vs y(t + lag) at every lag at once.

All lags by FFT cross-correlation of the masked series (exact Pearson over each lag's overlapping
hours). Spearman = Pearson of the ranks of each series (ranked once over its valid hours, not re-ranked
per lag: with ~2,500 hours the difference is nil).
"""

import numpy as np
from scipy import fft as sfft
from scipy import stats


def standardise(values: np.ndarray) -> np.ndarray:
    """(v - mean) / sd over the finite values (NaN elsewhere); keeps the FFT sums well conditioned."""
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if finite.sum() < 2:
        return np.full(v.shape, np.nan)
    centred = v - v[finite].mean()
    sd = centred[finite].std()
    return centred / sd if sd > 0 else np.where(finite, 0.0, np.nan)


def _ranks(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    out = np.full(v.shape, np.nan)
    finite = np.isfinite(v)
    out[finite] = stats.rankdata(v[finite])
    return out


class Side:
    """rfft of a (stack of) series, its mask and its square: the pieces of a masked cross-correlation."""

    def __init__(self, values: np.ndarray, size: int):
        mask = np.isfinite(values)
        filled = np.where(mask, values, 0.0)
        self.value = sfft.rfft(filled, size, axis=-1)
        self.mask = sfft.rfft(mask.astype(np.float64), size, axis=-1)
        self.square = sfft.rfft(filled * filled, size, axis=-1)


def fft_size(n: int, max_lag: int) -> int:
    return sfft.next_fast_len(n + max_lag + 1, real=True)


def lagged_r(xs: Side, ys: Side, size: int, max_lag: int, min_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r and pair counts at lags -max_lag..max_lag (last axis) of x(t) against y(t + lag)."""

    def cc(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        full = sfft.irfft(np.conj(a) * b, size, axis=-1)
        return np.concatenate([full[..., size - max_lag :], full[..., : max_lag + 1]], axis=-1)

    n = np.rint(cc(xs.mask, ys.mask))
    sx, sy = cc(xs.value, ys.mask), cc(xs.mask, ys.value)
    sxx, syy = cc(xs.square, ys.mask), cc(xs.mask, ys.square)
    sxy = cc(xs.value, ys.value)
    cov = n * sxy - sx * sy
    var = (n * sxx - sx * sx) * (n * syy - sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.sqrt(var)
    r = np.where((n >= min_pairs) & (var > 1e-12 * np.maximum(n, 1) ** 4), r, np.nan)
    return np.clip(r, -1.0, 1.0), n.astype(np.int64)


def lagged_correlation(
    x: np.ndarray, y: np.ndarray, max_lag: int = 72, min_pairs: int = 48
) -> dict[str, np.ndarray]:
    """Pearson and Spearman of x(t) vs y(t + lag) for every lag in -max_lag..max_lag (NaN = missing)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    size = fft_size(x.size, max_lag)
    pearson, pairs = lagged_r(
        Side(standardise(x), size), Side(standardise(y), size), size, max_lag, min_pairs
    )
    spearman, _ = lagged_r(
        Side(standardise(_ranks(x)), size), Side(standardise(_ranks(y)), size), size, max_lag, min_pairs
    )
    return {
        "lags": np.arange(-max_lag, max_lag + 1),
        "pearson": pearson,
        "spearman": spearman,
        "pairs": pairs,
    }


def max_abs(r: np.ndarray) -> np.ndarray:
    """The largest |r| over the lags (last axis), NaN lags ignored (-inf when every lag is NaN)."""
    with np.errstate(invalid="ignore"):
        return np.nanmax(np.where(np.isfinite(r), np.abs(r), -np.inf), axis=-1)
