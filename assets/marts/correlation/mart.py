"""marts.migration_correlation and marts.load_error_curve: do errors follow migration?

migration_correlation: for each provider and every pair (migration signal x error series), hourly:
- signals (from marts.migration_signals, hour grain, warm-up hours dropped): traffic_growth (growth_pct),
  new_clients, rank_improvement (mean rank_change_1d over the provider's countries and charts that day,
  held for each hour of the day), crowd_share;
- error series (from marts.provider_minute_sli summed per hour): error_5xx_ratio, error_529_ratio,
  error_429_ratio, timeout_ratio = that class / requests in the hour.
- Pearson r and Spearman rho at every lag -72..+72 h. Lag L pairs signal(t) with error(t + L): L > 0
  means the errors FOLLOW the signal. All lags at once by FFT cross-correlation of the masked series
  (exact Pearson over each lag's overlapping hours). Spearman = Pearson of the ranks of each series
  (ranked once over its valid hours, not re-ranked per lag: with ~2,500 hours the difference is nil).
- best_lag_hours = lag with the largest |Pearson r|.
- p_value: moving-block bootstrap test of independence that accounts for the lag search: the error
  series is rebuilt from 72-hour blocks drawn at random places (each block starting at the same hour of
  day as the slot it fills, so the daily cycle stays in phase; the autocorrelation inside blocks is
  kept, the link to the signal is broken), the max |r| over all 145 lags is recomputed on each of 200
  seeded surrogates and p = (1 + #{max|r*| >= max|r|}) / (1 + 200).
  Why not a circular shift: to keep the true lag out of the null, shifts near zero must be excluded, and
  with max-over-145-lags statistics the remaining shifts hold only ~n / 145 distinct windows; on 800
  pairs of independent AR(1) series (phi 0.8, 2,000 h) the circular-shift test rejected 8.5 % at the
  5 % level, the block test 5.9 %.
- r_ci_low / r_ci_high: 95 % percentile interval of r at the best lag from a moving-block bootstrap of
  the (signal, lagged error) pairs (72-hour blocks, 500 resamples, seeded).
- sentence: "529 ratio rose 6 h after traffic growth, r = 0.71, 95% CI 0.55-0.82, p = 0.01".

load_error_curve: per provider, minutes of marts.provider_minute_sli split into ten equal-count load
deciles by requests per minute (ties broken by time), with the provider error ratio of each decile
(errors_5xx + errors_529 + timeouts over requests). Saturation point (rule): the first decile in the
upper half (6-10) whose error ratio exceeds max(2 x median of deciles 1-5, 0.001); saturation_load_rpm
is that decile's lowest load. A hinge fit (error = a + b * max(0, load - k), least squares weighted by
requests over the decile means, k among the deciles' mean loads, b > 0) gives hinge_load_rpm as a
second opinion.
"""

import math
from dataclasses import dataclass

import dagster as dg
import numpy as np
import polars as pl
from scipy import fft as sfft
from scipy import stats

from assets.marts.migration import MIGRATION_TABLE, utc_columns
from pipelines.core.quality import between, check_result, has_columns, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

CORRELATION_TABLE = "marts.migration_correlation"
LOAD_CURVE_TABLE = "marts.load_error_curve"
MINUTE_SLI_TABLE = "marts.provider_minute_sli"
CORRELATION_CHECK = "migration_correlation_is_well_formed"
LOAD_CURVE_CHECK = "load_error_curve_is_well_formed"

UTC = pl.Datetime("us", "UTC")

SIGNALS = {
    "traffic_growth": "traffic growth",
    "new_clients": "new client ids",
    "rank_improvement": "App Store rank improvement",
    "crowd_share": "crowd-report share",
}
ERROR_SERIES = {
    "error_5xx_ratio": ("errors_5xx", "5xx ratio"),
    "error_529_ratio": ("errors_529", "529 ratio"),
    "error_429_ratio": ("errors_429", "429 ratio"),
    "timeout_ratio": ("timeouts", "timeout ratio"),
}


@dataclass(frozen=True)
class CorrelationParams:
    max_lag_hours: int = 72
    n_permutations: int = 200
    n_bootstrap: int = 500
    block_hours: int = 72
    phase_hours: int = 24
    min_pairs: int = 48
    seed: int = 20260302


# ---- lagged correlation engine -------------------------------------------------------------------------


def _standardise(values: np.ndarray) -> np.ndarray:
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


class _Side:
    """rfft of a (stack of) series, its mask and its square: the pieces of a masked cross-correlation."""

    def __init__(self, values: np.ndarray, size: int):
        mask = np.isfinite(values)
        filled = np.where(mask, values, 0.0)
        self.value = sfft.rfft(filled, size, axis=-1)
        self.mask = sfft.rfft(mask.astype(np.float64), size, axis=-1)
        self.square = sfft.rfft(filled * filled, size, axis=-1)


def _fft_size(n: int, max_lag: int) -> int:
    return sfft.next_fast_len(n + max_lag + 1, real=True)


def _lagged_r(xs: _Side, ys: _Side, size: int, max_lag: int, min_pairs: int) -> tuple[np.ndarray, np.ndarray]:
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
    size = _fft_size(x.size, max_lag)
    pearson, pairs = _lagged_r(
        _Side(_standardise(x), size), _Side(_standardise(y), size), size, max_lag, min_pairs
    )
    spearman, _ = _lagged_r(
        _Side(_standardise(_ranks(x)), size), _Side(_standardise(_ranks(y)), size), size, max_lag, min_pairs
    )
    return {
        "lags": np.arange(-max_lag, max_lag + 1),
        "pearson": pearson,
        "spearman": spearman,
        "pairs": pairs,
    }


def _max_abs(r: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.nanmax(np.where(np.isfinite(r), np.abs(r), -np.inf), axis=-1)


def block_bootstrap_pvalue(
    x: np.ndarray,
    y: np.ndarray,
    observed_max_abs_r: float,
    params: CorrelationParams,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray]:
    """p of the max |r| over all lags against moving-block surrogates of y (the lag search is in the statistic).

    Each surrogate is y cut into `block_hours` blocks drawn with replacement from random places of y, each
    block starting at the same hour of day as the slot it fills (so the daily cycle stays in phase); the
    autocorrelation inside blocks is kept, the link to x is broken. p = (1 + #{max|r*| >= max|r|}) /
    (1 + n_permutations).
    """
    n = y.size
    block = max(1, min(params.block_hours, n // 4))
    phase = params.phase_hours if block % params.phase_hours == 0 else 1
    n_blocks = math.ceil(n / block)
    starts = rng.choice(np.arange(0, n - block + 1, phase), size=(params.n_permutations, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)).reshape(params.n_permutations, -1)[:, :n]
    surrogates = _standardise(y)[idx]
    size = _fft_size(n, params.max_lag_hours)
    r, _ = _lagged_r(
        _Side(_standardise(x), size), _Side(surrogates, size), size, params.max_lag_hours, params.min_pairs
    )
    null = _max_abs(r)
    null = np.where(np.isfinite(null), null, 0.0)
    p = (1.0 + np.sum(null >= observed_max_abs_r - 1e-12)) / (1.0 + params.n_permutations)
    return float(p), null


def block_bootstrap_ci(
    x: np.ndarray, y: np.ndarray, lag: int, params: CorrelationParams, rng: np.random.Generator
) -> tuple[float, float]:
    """95 % percentile CI of r(x(t), y(t + lag)) from a moving-block bootstrap of the valid pairs."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if lag >= 0:
        a, b = x[: x.size - lag], y[lag:]
    else:
        a, b = x[-lag:], y[: y.size + lag]
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    m = a.size
    if m < params.min_pairs:
        return math.nan, math.nan
    block = max(1, min(params.block_hours, m // 2))
    n_blocks = math.ceil(m / block)
    starts = rng.integers(0, m - block + 1, size=(params.n_bootstrap, n_blocks))
    idx = (starts[:, :, None] + np.arange(block)).reshape(params.n_bootstrap, -1)[:, :m]
    sa, sb = a[idx], b[idx]
    sa = sa - sa.mean(axis=1, keepdims=True)
    sb = sb - sb.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (sa * sb).sum(axis=1) / np.sqrt((sa * sa).sum(axis=1) * (sb * sb).sum(axis=1))
    r = r[np.isfinite(r)]
    if r.size == 0:
        return math.nan, math.nan
    low, high = np.percentile(r, [2.5, 97.5])
    return float(low), float(high)


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


def correlate_pair(x: np.ndarray, y: np.ndarray, params: CorrelationParams, rng: np.random.Generator) -> dict:
    """Every figure of one (signal, error series) pair: lag profile, best lag, CI and p."""
    profile = lagged_correlation(x, y, params.max_lag_hours, params.min_pairs)
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
    p, _ = block_bootstrap_pvalue(x, y, observed, params, rng)
    low, high = block_bootstrap_ci(x, y, lag, params, rng)
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


# ---- inputs as hourly series ---------------------------------------------------------------------------


def hourly_error_series(minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Per provider and UTC hour: requests and each error class's ratio (null when no requests)."""
    counts = [c for c, _ in ERROR_SERIES.values()]
    hourly = (
        utc_columns(minute_sli)
        .with_columns(hour=pl.col("minute").dt.truncate("1h"))
        .group_by("provider", "hour")
        .agg(pl.col("requests", *counts).sum())
    )
    return hourly.with_columns(
        [
            pl.when(pl.col("requests") > 0).then(pl.col(count) / pl.col("requests")).alias(name)
            for name, (count, _) in ERROR_SERIES.items()
        ]
    )


def hourly_signal_series(signals: pl.DataFrame) -> pl.DataFrame:
    """Per provider and UTC hour: the four migration signals (warm-up hours dropped to null)."""
    signals = utc_columns(signals)
    hourly = signals.filter((pl.col("grain") == "hour") & pl.col("country").is_null()).select(
        "provider",
        pl.col("period_start").alias("hour"),
        pl.when(~pl.col("warm_up")).then(pl.col("growth_pct")).alias("traffic_growth"),
        pl.when(~pl.col("warm_up")).then(pl.col("new_clients").cast(pl.Float64)).alias("new_clients"),
        pl.col("crowd_share"),
    )
    rank = (
        signals.filter((pl.col("grain") == "day") & pl.col("country").is_not_null())
        .group_by("provider", "period_start")
        .agg(pl.col("rank_change_1d").cast(pl.Float64).mean().alias("rank_improvement"))
        .rename({"period_start": "day"})
    )
    return (
        hourly.with_columns(day=pl.col("hour").dt.truncate("1d"))
        .join(rank, on=["provider", "day"], how="left")
        .drop("day")
    )


def build_migration_correlation(
    signals: pl.DataFrame, minute_sli: pl.DataFrame, params: CorrelationParams = CorrelationParams()
) -> pl.DataFrame:
    """One row per (provider, signal, error series) with the lag profile and the best-lag statistics."""
    rows = []
    sig = hourly_signal_series(signals) if not signals.is_empty() else None
    err = hourly_error_series(minute_sli) if not minute_sli.is_empty() else None
    if sig is not None and err is not None:
        providers = sorted(set(sig["provider"].to_list()) & set(err["provider"].to_list()))
        for provider in providers:
            s = sig.filter(pl.col("provider") == provider)
            e = err.filter(pl.col("provider") == provider)
            start = min(s["hour"].min(), e["hour"].min())
            end = max(s["hour"].max(), e["hour"].max())
            grid = pl.DataFrame(
                {
                    "hour": pl.datetime_range(
                        start, end, "1h", time_zone="UTC", eager=True
                    ).dt.cast_time_unit("us")
                }
            )
            series = grid.join(s, on="hour", how="left").join(e, on="hour", how="left").sort("hour")
            for signal, signal_label in SIGNALS.items():
                x = series[signal].cast(pl.Float64).fill_null(np.nan).to_numpy()
                for error, (_, error_label) in ERROR_SERIES.items():
                    y = series[error].cast(pl.Float64).fill_null(np.nan).to_numpy()
                    # one generator per pair, keyed by its names, so a row does not depend on the others
                    rng = np.random.default_rng(
                        [params.seed, *(ord(c) for c in f"{provider}|{signal}|{error}")]
                    )
                    stats_ = correlate_pair(x, y, params, rng)
                    rows.append(
                        {
                            "provider": provider,
                            "signal": signal,
                            "error_series": error,
                            **stats_,
                            "significant": bool(np.isfinite(stats_["p_value"]) and stats_["p_value"] < 0.05),
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
    return pl.DataFrame(rows, schema=CORRELATION_SCHEMA).with_columns(
        pl.col("pearson_r", "spearman_rho", "r_ci_low", "r_ci_high", "p_value").fill_nan(None)
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


# ---- load / error curve ---------------------------------------------------------------------------------

N_DECILES = 10
MIN_CLIMB_RATIO = 0.001

LOAD_CURVE_SCHEMA = {
    "provider": pl.String,
    "load_decile": pl.Int64,
    "minutes": pl.Int64,
    "requests": pl.Int64,
    "failed_requests": pl.Int64,
    "load_min_rpm": pl.Float64,
    "load_max_rpm": pl.Float64,
    "load_mean_rpm": pl.Float64,
    "error_ratio": pl.Float64,
    "lower_half_median_error_ratio": pl.Float64,
    "saturation_decile": pl.Int64,
    "saturation_load_rpm": pl.Float64,
    "hinge_load_rpm": pl.Float64,
    "hinge_slope_per_rpm": pl.Float64,
    "above_saturation": pl.Boolean,
}


def hinge_fit(load: np.ndarray, ratio: np.ndarray, weight: np.ndarray) -> tuple[float, float]:
    """Weighted least squares of ratio = a + b * max(0, load - k) over candidate knots k = load[:-1]."""
    best = (math.inf, math.nan, math.nan)
    w = np.sqrt(weight)
    for k in load[:-1]:
        design = np.column_stack([np.ones_like(load), np.maximum(0.0, load - k)]) * w[:, None]
        coef, *_ = np.linalg.lstsq(design, ratio * w, rcond=None)
        sse = float(np.sum((design @ coef - ratio * w) ** 2))
        if coef[1] > 0 and sse < best[0] - 1e-15:
            best = (sse, float(k), float(coef[1]))
    return best[1], best[2]


def build_load_error_curve(minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Ten load deciles per provider with their error ratio and the estimated saturation point."""
    if minute_sli.is_empty():
        return pl.DataFrame(schema=LOAD_CURVE_SCHEMA)
    failed = pl.col("errors_5xx") + pl.col("errors_529") + pl.col("timeouts")
    minutes = (
        utc_columns(minute_sli)
        .filter(pl.col("requests") > 0)
        .sort("provider", "requests", "minute")
        .with_columns(
            load_decile=(
                (pl.int_range(pl.len()).over("provider") * N_DECILES) // pl.len().over("provider") + 1
            ).cast(pl.Int64),
            failed_requests=failed,
        )
    )
    deciles = (
        minutes.group_by("provider", "load_decile")
        .agg(
            minutes=pl.len().cast(pl.Int64),
            requests=pl.col("requests").sum().cast(pl.Int64),
            failed_requests=pl.col("failed_requests").sum().cast(pl.Int64),
            load_min_rpm=pl.col("requests").min().cast(pl.Float64),
            load_max_rpm=pl.col("requests").max().cast(pl.Float64),
            load_mean_rpm=pl.col("requests").mean().cast(pl.Float64),
        )
        .with_columns(error_ratio=pl.col("failed_requests") / pl.col("requests"))
        .sort("provider", "load_decile")
    )
    parts = []
    for (provider,), part in deciles.group_by("provider", maintain_order=True):
        ratio = part["error_ratio"].to_numpy()
        decile = part["load_decile"].to_numpy()
        lower = ratio[decile <= N_DECILES // 2]
        baseline = float(np.median(lower)) if lower.size else math.nan
        threshold = max(2.0 * baseline, MIN_CLIMB_RATIO) if np.isfinite(baseline) else math.nan
        climbing = np.flatnonzero((decile > N_DECILES // 2) & (ratio > threshold))
        sat = int(decile[climbing[0]]) if climbing.size else None
        sat_load = float(part["load_min_rpm"][int(climbing[0])]) if climbing.size else None
        knot, slope = (
            hinge_fit(part["load_mean_rpm"].to_numpy(), ratio, part["requests"].to_numpy().astype(float))
            if part.height >= 3
            else (math.nan, math.nan)
        )
        parts.append(
            part.with_columns(
                lower_half_median_error_ratio=pl.lit(baseline),
                saturation_decile=pl.lit(sat, pl.Int64),
                saturation_load_rpm=pl.lit(sat_load, pl.Float64),
                hinge_load_rpm=pl.lit(knot if np.isfinite(knot) else None, pl.Float64),
                hinge_slope_per_rpm=pl.lit(slope if np.isfinite(slope) else None, pl.Float64),
                above_saturation=(pl.col("load_decile") >= sat) if sat is not None else pl.lit(False),
            )
        )
    out = pl.concat(parts)
    return out.select([pl.col(c).cast(t) for c, t in LOAD_CURVE_SCHEMA.items()])


# ---- assets ---------------------------------------------------------------------------------------------

SLI_COLUMNS = "provider, minute, requests, errors_5xx, errors_529, errors_429, timeouts"


def correlation_expectations() -> list:
    return [
        has_columns(*(c for c, t in CORRELATION_SCHEMA.items() if not isinstance(t, pl.List))),
        not_null("provider"),
        not_null("sentence"),
        unique_together("provider", "signal", "error_series"),
        between("pearson_r", -1, 1),
        between("spearman_rho", -1, 1),
        between("p_value", 0, 1),
        between("best_lag_hours", -72, 72),
    ]


def load_curve_expectations() -> list:
    return [
        has_columns(*LOAD_CURVE_SCHEMA),
        not_null("provider"),
        unique_together("provider", "load_decile"),
        between("load_decile", 1, N_DECILES),
        between("error_ratio", 0, 1),
    ]


def _checkable(frame: pl.DataFrame) -> pl.DataFrame:
    # the lag profiles are long lists: the suite checks the scalar columns
    return frame.select([c for c, t in CORRELATION_SCHEMA.items() if not isinstance(t, pl.List)])


@dg.asset(
    key=["marts", "migration_correlation"],
    deps=[dg.AssetKey(["marts", "migration_signals"]), dg.AssetKey(["marts", "provider_minute_sli"])],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[
        dg.AssetCheckSpec(CORRELATION_CHECK, asset=["marts", "migration_correlation"], blocking=True)
    ],
)
def migration_correlation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Do error rates follow user migration? One row per provider x migration signal x error series.

    Columns: provider; signal (traffic_growth, new_clients, rank_improvement, crowd_share); error_series
    (error_5xx_ratio, error_529_ratio, error_429_ratio, timeout_ratio); lag_hours / pearson_r_by_lag /
    spearman_rho_by_lag (the profile at lags -72..+72 h, lag > 0 = errors follow the signal);
    best_lag_hours (largest |r|); pearson_r and spearman_rho at that lag; pairs (hours used); r_ci_low /
    r_ci_high (95 % moving-block bootstrap CI); p_value (moving-block surrogate test of max |r| over
    all lags); significant (p < 0.05); n_permutations, n_bootstrap; sentence (the finding in words).
    """
    params = CorrelationParams()
    with workspace.warehouse() as con:
        signals = read_table_if_exists(con, MIGRATION_TABLE)
        sli = read_table_if_exists(con, MINUTE_SLI_TABLE, SLI_COLUMNS)
    for table, frame in ((MIGRATION_TABLE, signals), (MINUTE_SLI_TABLE, sli)):
        if frame is None:
            context.log.warning(f"{table} does not exist yet: migration_correlation will be empty")
    result = build_migration_correlation(
        signals if signals is not None else pl.DataFrame(), sli if sli is not None else pl.DataFrame(), params
    )
    with workspace.warehouse() as con:
        replace_table(con, CORRELATION_TABLE, result)
    significant = result.filter(pl.col("significant")).sort(pl.col("pearson_r").abs(), descending=True)
    return dg.MaterializeResult(
        metadata={
            "pairs": result.height,
            "significant_pairs": significant.height,
            "top_findings": dg.MetadataValue.json(
                [f"{r['provider']}: {r['sentence']}" for r in significant.head(5).iter_rows(named=True)]
            ),
        },
        check_results=[check_result(CORRELATION_CHECK, _checkable(result), correlation_expectations())],
    )


@dg.asset(
    key=["marts", "load_error_curve"],
    deps=[dg.AssetKey(["marts", "provider_minute_sli"])],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(LOAD_CURVE_CHECK, asset=["marts", "load_error_curve"], blocking=True)],
)
def load_error_curve(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How each provider's error ratio grows with our load: ten load deciles and a saturation point.

    Columns: provider; load_decile (1 = quietest tenth of minutes); minutes; requests; failed_requests
    (5xx + 529 + timeouts); load_min_rpm / load_max_rpm / load_mean_rpm (requests per minute in the
    decile); error_ratio (failed / requests); lower_half_median_error_ratio (median of deciles 1-5);
    saturation_decile / saturation_load_rpm (first upper-half decile above max(2 x that median, 0.001));
    hinge_load_rpm / hinge_slope_per_rpm (piecewise-linear fit, second opinion); above_saturation.
    """
    with workspace.warehouse() as con:
        sli = read_table_if_exists(con, MINUTE_SLI_TABLE, SLI_COLUMNS)
    if sli is None:
        context.log.warning(f"{MINUTE_SLI_TABLE} does not exist yet: load_error_curve will be empty")
        sli = pl.DataFrame()
    result = build_load_error_curve(sli)
    with workspace.warehouse() as con:
        replace_table(con, LOAD_CURVE_TABLE, result)
    saturation = result.group_by("provider").agg(pl.col("saturation_load_rpm").first()).sort("provider")
    return dg.MaterializeResult(
        metadata={
            "rows": result.height,
            "saturation_load_rpm": dg.MetadataValue.json(dict(saturation.iter_rows())),
        },
        check_results=[check_result(LOAD_CURVE_CHECK, result, load_curve_expectations())],
    )
