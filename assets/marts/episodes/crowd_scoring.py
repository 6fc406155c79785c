"""Over-dispersion, tail probabilities, persistence and levels of binned crowd counts (`crowd` steps 3-6)."""

import numpy as np
import polars as pl
from scipy import special

from assets.marts.episodes.crowd_params import (
    DEFAULT_PARAMS,
    LEVEL_NO_PROBLEM,
    LEVEL_POSSIBLE,
    LEVEL_PROBLEM,
    SERIES,
    CrowdDetectionParams,
)


def _moment_dispersion(residuals: pl.DataFrame, params: CrowdDetectionParams) -> pl.DataFrame:
    """alpha = sum((x - mu)^2 - mu) / sum(mu^2) per series and baseline kind (Var = mu + alpha mu^2)."""
    x = pl.col("reports").cast(pl.Float64)
    return residuals.group_by(*SERIES, "baseline_kind").agg(
        dispersion=(((x - pl.col("mu")) ** 2 - pl.col("mu")).sum() / (pl.col("mu") ** 2).sum()).clip(
            params.min_dispersion, params.max_dispersion
        )
    )


def estimate_dispersion(
    expected_bins: pl.DataFrame, params: CrowdDetectionParams = DEFAULT_PARAMS
) -> pl.DataFrame:
    """Negative-binomial dispersion `alpha` per (service, country, baseline_kind) from baseline residuals.

    Method of moments, first over bins whose Pearson residual is below the `dispersion_trim_quantile`
    of the series, then re-estimated `dispersion_refits` times without the bins that the current fit
    finds improbable (p < `possible_p_threshold`): an outage longer than the trimmed share cannot
    inflate the noise model and hide itself.
    """
    keys = [*SERIES, "baseline_kind"]
    residuals = expected_bins.filter(pl.col("expected").is_not_null()).with_columns(
        mu=pl.col("expected").clip(lower_bound=params.min_expected)
    )
    pearson = (pl.col("reports") - pl.col("mu")) / pl.col("mu").sqrt()
    dispersion = _moment_dispersion(
        residuals.filter(pearson <= pearson.quantile(params.dispersion_trim_quantile).over(keys)), params
    )
    # Only bins above their mean can be improbable (P(X >= mean) is far above 1e-3), so the tail
    # probability is computed for those alone.
    above_mean = residuals.filter(pl.col("reports") > pl.col("mu"))
    for _ in range(params.dispersion_refits):
        fitted = above_mean.join(dispersion, on=keys, how="left")
        p_value = nbinom_tail(
            fitted["reports"].to_numpy().astype(np.float64),
            fitted["mu"].to_numpy(),
            fitted["dispersion"].to_numpy(),
        )
        improbable = fitted.filter(pl.Series(p_value < params.possible_p_threshold)).select(
            *SERIES, "bin_start"
        )
        dispersion = _moment_dispersion(
            residuals.join(improbable, on=[*SERIES, "bin_start"], how="anti"), params
        )
    return dispersion


# Beyond these, the incomplete beta of a large second parameter (a dispersion below the mart's 0.01 floor),
# of a huge count, or far out in the tail loses digits (1e-7 relative; 10 % below 1e-250): such rare bins
# take the complemented form, exact but ten times slower.
_FAST_MAX_SIZE = 100.0
_FAST_MAX_REPORTS = 1e5
_FAST_MIN_TAIL = 1e-200


def nbinom_tail(reports: np.ndarray, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """P(X >= reports) for X ~ NB with the given mean and dispersion alpha (Var = mean + alpha mean^2).

    With size = 1/alpha (any positive real), P(X >= r) = I_q(r, size), the regularized incomplete beta
    `scipy.special.betainc` at q = mean / (size + mean), the chance of a report per trial. q is computed
    directly, not as 1 - size / (size + mean), which would round away the small q of a quiet hour; the
    numbers match `scipy.stats.nbinom.sf` to ~1e-11 at the same speed, without its 0.5 s import. 0 reports
    give 1.0, a mean of 0 gives 0.0 from 1 report on; NaN inputs, a non-positive dispersion or a negative
    mean give NaN.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        size, mean, at_least = np.broadcast_arrays(
            1.0 / np.asarray(dispersion, dtype=np.float64), np.asarray(mean, dtype=np.float64),
            np.floor(np.asarray(reports, dtype=np.float64)))
        q = mean / (size + mean)
        within = np.asarray(special.betainc(at_least, size, q))  # a fresh array; defined for finite at_least >= 1
        careful = (size > _FAST_MAX_SIZE) | (at_least > _FAST_MAX_REPORTS) | (within < _FAST_MIN_TAIL)
        if careful.any():
            big, many = size[careful], at_least[careful]
            within[careful] = special.betaincc(big, many, big / (big + mean[careful]))
    valid = (size > 0) & np.isfinite(size) & (q >= 0) & (q < 1) & ~np.isnan(at_least)
    tail = np.where(at_least <= 0, 1.0, np.where(np.isposinf(at_least), 0.0, within))
    return np.where(valid, tail, np.nan)[()]  # [()]: a scalar for scalar inputs


def score_bins(expected_bins: pl.DataFrame, params: CrowdDetectionParams = DEFAULT_PARAMS) -> pl.DataFrame:
    """Add dispersion, p_value, anomalous, flagged (k-of-m persistence) and level to binned counts."""
    dispersion = estimate_dispersion(expected_bins, params)
    scored = expected_bins.join(dispersion, on=[*SERIES, "baseline_kind"], how="left").with_columns(
        pl.col("dispersion").fill_null(params.max_dispersion)
    )
    valid = scored["expected"].is_not_null().to_numpy()
    mean = np.maximum(scored["expected"].fill_null(0.0).to_numpy(), params.min_expected)
    p_value = nbinom_tail(
        scored["reports"].to_numpy().astype(np.float64), mean, scored["dispersion"].to_numpy()
    )
    scored = scored.with_columns(p_value=pl.Series(np.where(valid, p_value, np.nan)).fill_nan(None))

    k, m = params.persistence_k, params.persistence_m
    bin_width = pl.duration(minutes=pl.col("bin_minutes"))
    # Consecutive = adjacent bins; a missing day starts a new run so windows never span it.
    run = (pl.col("bin_start").diff().over(SERIES) != bin_width).fill_null(True).cum_sum().over(SERIES)
    anomalous = (pl.col("p_value") < params.p_threshold).fill_null(False) & (
        pl.col("reports") >= params.min_reports
    )
    hits = pl.col("anomalous").cast(pl.Int32).rolling_sum(m, min_samples=1)
    window_ok = (hits >= k).cast(pl.Int32)
    # bin i is confirmed when any window ending at i .. i+m-1 has k hits: a forward-looking max.
    confirmed = window_ok.reverse().rolling_max(m, min_samples=1).reverse()
    scored = (
        scored.sort(*SERIES, "bin_start")
        .with_columns(run=run, anomalous=anomalous)
        .with_columns(flagged=pl.col("anomalous") & (confirmed.over([*SERIES, "run"]) == 1))
        .with_columns(
            level=pl.when(pl.col("flagged"))
            .then(pl.lit(LEVEL_PROBLEM))
            .when(
                (pl.col("reports") >= params.min_reports)
                & (pl.col("p_value") < params.possible_p_threshold).fill_null(False)
            )
            .then(pl.lit(LEVEL_POSSIBLE))
            .otherwise(pl.lit(LEVEL_NO_PROBLEM))
        )
        .drop("run")
    )
    return scored
