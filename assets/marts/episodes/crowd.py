"""Crowd-report outage detection: when did users start telling Downdetector-style sites a service was down?

Per service, country and time bin (5 minutes, or the export's own coarser step) we compare the number of
reports with what is normal for that hour of the week, and ask how surprising the count is.

Method (every step is a vectorised Polars expression; 105 days x 15 series x 288 bins runs in seconds):

1. **Bins.** Reports are summed per (service, country, bin) across problem types. Every day an export
   exists for is completed with zero bins (exports often omit empty buckets); days with no export at all
   stay missing rather than being counted as zero.
2. **Expected count (hour-of-week baseline).** For each week we take the median of the bins of every
   hour of the week (12 five-minute bins); the hourly expected count is the median of those hourly
   medians over the previous `trailing_weeks` weeks (4), the lower of the two when only two weeks
   exist (outages only add reports), the one week when only one exists. Medians on both levels make it
   robust to past outages, and the current week is never included. `baseline_weeks` says how many
   trailing weeks were available (1-4). A bin's expected count interpolates linearly between its hour's
   value (taken at mid-hour) and the neighbouring hour's, so a steep morning rise is followed.
   *Start of the data:* an hour of the week with no trailing week yet falls back to the series'
   hour-of-day median (of hourly medians) over its first 28 days (`baseline_kind =
   hour_of_day_fallback`, baseline_weeks 0). That fallback does include the bin's own week: it is the
   best available on the first days, and a median over up to 28 days keeps a short outage from moving it.
3. **Over-dispersion.** Counts are modelled as negative binomial with mean `expected` and variance
   `mu + alpha * mu^2`. `alpha` is a method-of-moments estimate from the baseline residuals of each
   series (separately for trailing-week and fallback bins), over the whole window, after trimming the
   top 0.5 % of Pearson residuals, then refitted twice without the bins the previous fit found
   improbable (p < 1e-3), so that outages do not inflate it; clipped to [0.01, 5].
4. **Tail probability.** `p_value = P(X >= reports)` = `scipy.stats.nbinom.sf(reports - 1, 1/alpha,
   p)`, with `expected` floored at 1 report so empty night hours do not make one report a miracle.
5. **Flag rule.** A bin is *anomalous* when p_value < 1e-4 and reports >= 10 (the minimum count); it is
   *flagged* when it is anomalous and lies in a window of 3 consecutive bins with at least 2 anomalous
   bins (k-of-m persistence: one noisy bin never raises an alarm).
6. **Levels (Downdetector-like).** `problem`: flagged. `possible_problem`: not flagged, reports >= 10
   and p_value < 1e-3 (a single very unusual bin, or a rise not yet persistent). `no_problem`: the rest.
7. **Episodes.** Flagged bins of a series less than 30 minutes apart (gap between one flagged bin's end
   and the next one's start) form one episode: start = first flagged bin's start, end = last flagged
   bin's end, peak = bin with most reports.
"""

from dataclasses import dataclass

import dagster as dg
import numpy as np
import polars as pl
from scipy import stats

from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

CROWD_REPORTS_TABLE = "staging.crowd_reports"
CROWD_BASELINE_TABLE = "marts.crowd_baseline"
CROWD_BASELINE_CHECK = "crowd_baseline_is_well_formed"

SERIES = ["service", "country"]
UTC = pl.Datetime("us", "UTC")

LEVEL_NO_PROBLEM = "no_problem"
LEVEL_POSSIBLE = "possible_problem"
LEVEL_PROBLEM = "problem"
LEVELS = (LEVEL_NO_PROBLEM, LEVEL_POSSIBLE, LEVEL_PROBLEM)

BASELINE_TRAILING = "trailing_weeks"
BASELINE_FALLBACK = "hour_of_day_fallback"

CROWD_BASELINE_SCHEMA = {
    "provider": pl.String,
    "service": pl.String,
    "country": pl.String,
    "bin_start": UTC,
    "bin_minutes": pl.Int32,
    "reports": pl.Int64,
    "expected": pl.Float64,
    "baseline_weeks": pl.Int32,
    "baseline_kind": pl.String,
    "dispersion": pl.Float64,
    "p_value": pl.Float64,
    "anomalous": pl.Boolean,
    "flagged": pl.Boolean,
    "level": pl.String,
    "export_baseline": pl.Float64,
}

CROWD_EPISODE_SCHEMA = {
    "provider": pl.String,
    "service": pl.String,
    "country": pl.String,
    "started_at": UTC,
    "peak_at": UTC,
    "ended_at": UTC,
    "peak_value": pl.Float64,
    "baseline_value": pl.Float64,
    "level": pl.String,
    "flagged_bins": pl.Int64,
    "excess_reports": pl.Float64,
    "min_p_value": pl.Float64,
}


@dataclass(frozen=True)
class CrowdDetectionParams:
    """Thresholds of the detector (defaults are the documented ones above)."""

    bin_minutes: int = 5  # smallest bin; a coarser export step (e.g. 15 min) is used as is
    trailing_weeks: int = 4
    fallback_days: int = 28
    min_expected: float = 1.0
    min_dispersion: float = 0.01
    max_dispersion: float = 5.0
    dispersion_trim_quantile: float = 0.995
    dispersion_refits: int = 2
    p_threshold: float = 1e-4
    possible_p_threshold: float = 1e-3
    min_reports: int = 10
    persistence_k: int = 2
    persistence_m: int = 3
    episode_gap_minutes: int = 30


def _utc(column: str) -> pl.Expr:
    """A timestamp column as UTC whatever zone DuckDB handed it back in (naive values are taken as UTC)."""
    return pl.col(column).dt.convert_time_zone("UTC")


def _as_utc(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    dtype = frame.schema[column]
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
        return frame.with_columns(pl.col(column).dt.replace_time_zone("UTC").dt.cast_time_unit("us"))
    return frame.with_columns(_utc(column).dt.cast_time_unit("us"))


def infer_bin_minutes(reports: pl.DataFrame, minimum: int = 5) -> int:
    """Bin width to use: `minimum`, or the export's own step when coarser.

    Binning a 15-minute export into 5-minute bins would leave two bins in three empty, so the bin is
    never finer than the data. The export's step is read off the distinct minutes-of-the-hour its
    timestamps use (4 distinct minutes = a 15-minute step), rounded up to a divisor of 60.
    """
    if reports.height == 0:
        return minimum
    distinct_minutes = max(reports.select(pl.col("ts").dt.minute().n_unique()).item(), 1)
    native = 60 // distinct_minutes
    for width in (5, 10, 15, 20, 30, 60):
        if width >= max(native, minimum):
            return width
    return 60


def bin_reports(reports: pl.DataFrame, bin_minutes: int) -> pl.DataFrame:
    """Sum reports per (service, country, bin) and complete every exported day with zero bins.

    Input columns: ts (UTC), service, country, reports, optional provider and baseline.
    Output: provider, service, country, bin_start, bin_minutes, reports, export_baseline, sorted by
    series and time. A missing country is keyed as "" (joins never match nulls).
    """
    every = f"{bin_minutes}m"
    frame = _as_utc(reports, "ts")
    if "provider" not in frame.columns:
        frame = frame.with_columns(provider=pl.lit(None, pl.String))
    if "baseline" not in frame.columns:
        frame = frame.with_columns(baseline=pl.lit(None, pl.Float64))
    frame = frame.filter(
        pl.col("ts").is_not_null() & pl.col("service").is_not_null() & pl.col("reports").is_not_null()
    )
    frame = frame.with_columns(country=pl.col("country").fill_null(""))
    counts = frame.group_by(*SERIES, bin_start=pl.col("ts").dt.truncate(every)).agg(
        reports=pl.col("reports").cast(pl.Int64).sum(),
        # Several problem types may share a bin: their baselines add up like their counts.
        export_baseline=pl.when(pl.col("baseline").is_not_null().any()).then(
            pl.col("baseline").cast(pl.Float64).sum()
        ),
    )
    providers = frame.group_by("service").agg(provider=pl.col("provider").drop_nulls().first())
    per_day = 24 * 60 // bin_minutes
    offsets = pl.DataFrame(
        {"offset_min": pl.Series(range(0, per_day * bin_minutes, bin_minutes), dtype=pl.Int64)}
    )
    days = counts.select(*SERIES, day=pl.col("bin_start").dt.truncate("1d")).unique()
    grid = days.join(offsets, how="cross").select(
        *SERIES, bin_start=pl.col("day") + pl.duration(minutes=pl.col("offset_min"))
    )
    return (
        grid.join(counts, on=[*SERIES, "bin_start"], how="left")
        .with_columns(reports=pl.col("reports").fill_null(0))
        .join(providers, on="service", how="left")
        .select(
            "provider",
            *SERIES,
            "bin_start",
            pl.lit(bin_minutes, pl.Int32).alias("bin_minutes"),
            "reports",
            "export_baseline",
        )
        .sort(*SERIES, "bin_start")
    )


def add_expected(bins: pl.DataFrame, params: CrowdDetectionParams = CrowdDetectionParams()) -> pl.DataFrame:
    """Add `expected`, `baseline_weeks` and `baseline_kind` (hour-of-week baseline over trailing weeks).

    `bins` needs service, country, bin_start, bin_minutes and reports, one row per bin.
    """
    hour = pl.duration(hours=1)
    keyed = bins.with_columns(hour_start=pl.col("bin_start").dt.truncate("1h"))
    observed = (
        keyed.group_by(*SERIES, "hour_start")
        .agg(hour_median=pl.col("reports").median())
        .with_columns(
            week_start=pl.col("hour_start").dt.truncate("1w"),
            hour_of_week=((pl.col("hour_start").dt.weekday() - 1) * 24 + pl.col("hour_start").dt.hour()).cast(
                pl.Int32
            ),
            hour_of_day=pl.col("hour_start").dt.hour(),
        )
    )
    # Each week's hourly median is copied forward to the next `trailing_weeks` weeks, then the copies
    # landing on a week are reduced: the current week never sees itself. Median of 3-4 weeks; with two
    # weeks the lower one (outages only ever add reports), with one week that week.
    lagged = pl.concat(
        [
            observed.select(
                *SERIES, pl.col("week_start") + pl.duration(weeks=lag), "hour_of_week", "hour_median"
            )
            for lag in range(1, params.trailing_weeks + 1)
        ]
    )
    trailing = lagged.group_by(*SERIES, "week_start", "hour_of_week").agg(
        trailing_expected=pl.when(pl.len() == 2)
        .then(pl.col("hour_median").min())
        .otherwise(pl.col("hour_median").median()),
        baseline_weeks=pl.len().cast(pl.Int32),
    )
    first_hour = observed.group_by(*SERIES).agg(first_hour=pl.col("hour_start").min())
    fallback = (
        observed.join(first_hour, on=SERIES)
        .filter(pl.col("hour_start") < pl.col("first_hour") + pl.duration(days=params.fallback_days))
        .group_by(*SERIES, "hour_of_day")
        .agg(fallback_expected=pl.col("hour_median").median())
    )
    same_series_next = (pl.col("hour_start").shift(-1) - pl.col("hour_start")) == hour
    same_series_prev = (pl.col("hour_start") - pl.col("hour_start").shift(1)) == hour
    hourly = (
        observed.join(trailing, on=[*SERIES, "week_start", "hour_of_week"], how="left")
        .join(fallback, on=[*SERIES, "hour_of_day"], how="left")
        .select(
            *SERIES,
            "hour_start",
            hour_expected=pl.coalesce("trailing_expected", "fallback_expected").cast(pl.Float64),
            baseline_weeks=pl.col("baseline_weeks").fill_null(0),
            baseline_kind=pl.when(pl.col("trailing_expected").is_not_null())
            .then(pl.lit(BASELINE_TRAILING))
            .otherwise(pl.lit(BASELINE_FALLBACK)),
        )
        .sort(*SERIES, "hour_start")
        .with_columns(
            prev_expected=pl.when(same_series_prev).then(pl.col("hour_expected").shift(1)).over(SERIES),
            next_expected=pl.when(same_series_next).then(pl.col("hour_expected").shift(-1)).over(SERIES),
        )
    )
    # An hourly value describes the hour's middle; a bin is interpolated linearly towards the
    # neighbouring hour it is closer to, so steep daily ramps do not leave a step at every full hour.
    middle = (pl.col("bin_start") - pl.col("hour_start")).dt.total_seconds(fractional=True) / 60.0 + pl.col(
        "bin_minutes"
    ) / 2.0
    toward_prev = ((30.0 - middle) / 60.0).clip(0.0, 0.5)
    toward_next = ((middle - 30.0) / 60.0).clip(0.0, 0.5)
    own = pl.col("hour_expected")
    return (
        keyed.join(hourly, on=[*SERIES, "hour_start"], how="left")
        .with_columns(
            expected=own * (1.0 - toward_prev - toward_next)
            + pl.coalesce("prev_expected", own) * toward_prev
            + pl.coalesce("next_expected", own) * toward_next
        )
        .drop("hour_start", "hour_expected", "prev_expected", "next_expected")
        .sort(*SERIES, "bin_start")
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
    expected_bins: pl.DataFrame, params: CrowdDetectionParams = CrowdDetectionParams()
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


def nbinom_tail(reports: np.ndarray, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """P(X >= reports) for X ~ NB with the given mean and dispersion alpha (Var = mean + alpha mean^2)."""
    size = 1.0 / dispersion
    prob = size / (size + mean)
    return stats.nbinom.sf(reports - 1, size, prob)


def score_bins(
    expected_bins: pl.DataFrame, params: CrowdDetectionParams = CrowdDetectionParams()
) -> pl.DataFrame:
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


def crowd_baseline_table(
    reports: pl.DataFrame,
    params: CrowdDetectionParams = CrowdDetectionParams(),
    provider_for_service: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Staged crowd reports -> one scored row per (service, country, bin): the `marts.crowd_baseline` frame.

    `provider_for_service` (lower-cased service -> provider key, from the config) fills the provider where
    the staged row has none.
    """
    if reports.height == 0:
        return pl.DataFrame(schema=CROWD_BASELINE_SCHEMA)
    bin_minutes = infer_bin_minutes(reports, params.bin_minutes)
    bins = bin_reports(reports, bin_minutes)
    if provider_for_service:
        mapping = pl.DataFrame(
            {
                "service_key": list(provider_for_service),
                "mapped_provider": list(provider_for_service.values()),
            }
        )
        bins = (
            bins.with_columns(service_key=pl.col("service").str.to_lowercase())
            .join(mapping, on="service_key", how="left")
            .with_columns(provider=pl.coalesce("provider", "mapped_provider"))
            .drop("service_key", "mapped_provider")
        )
    scored = score_bins(add_expected(bins, params), params)
    # A missing country was keyed as "" (joins never match nulls); it leaves as null again.
    scored = scored.with_columns(country=pl.when(pl.col("country") != "").then(pl.col("country")))
    return scored.select([pl.col(c).cast(t) for c, t in CROWD_BASELINE_SCHEMA.items()])


def crowd_episodes(
    scored: pl.DataFrame, params: CrowdDetectionParams = CrowdDetectionParams()
) -> pl.DataFrame:
    """Merge flagged bins into episodes per (service, country); gaps up to `episode_gap_minutes` are bridged.

    Output columns (CROWD_EPISODE_SCHEMA): started_at = first flagged bin start, ended_at = last flagged
    bin end, peak_at / peak_value = the bin with most reports, baseline_value = its expected count,
    excess_reports = sum of reports above expected over flagged bins, min_p_value.
    """
    flagged = scored.filter(pl.col("flagged"))
    if flagged.height == 0:
        return pl.DataFrame(schema=CROWD_EPISODE_SCHEMA)
    bin_end = pl.col("bin_start") + pl.duration(minutes=pl.col("bin_minutes"))
    gap = pl.duration(minutes=params.episode_gap_minutes)
    episodes = (
        _as_utc(flagged, "bin_start")
        .sort(*SERIES, "bin_start")
        .with_columns(bin_end=bin_end)
        .with_columns(
            new_episode=(pl.col("bin_start") - pl.col("bin_end").shift(1).over(SERIES) > gap).fill_null(True)
        )
        .with_columns(episode_no=pl.col("new_episode").cum_sum().over(SERIES))
        .group_by(*SERIES, "episode_no")
        .agg(
            provider=pl.col("provider").drop_nulls().first(),
            started_at=pl.col("bin_start").min(),
            peak_at=pl.col("bin_start").sort_by("reports", descending=True).first(),
            ended_at=pl.col("bin_end").max(),
            peak_value=pl.col("reports").max().cast(pl.Float64),
            baseline_value=pl.col("expected").sort_by("reports", descending=True).first(),
            level=pl.lit(LEVEL_PROBLEM),
            flagged_bins=pl.len().cast(pl.Int64),
            excess_reports=(pl.col("reports") - pl.col("expected")).clip(lower_bound=0).sum(),
            min_p_value=pl.col("p_value").min(),
        )
        .sort(*SERIES, "started_at")
    )
    return episodes.select([pl.col(c).cast(t) for c, t in CROWD_EPISODE_SCHEMA.items()])


def crowd_baseline_expectations() -> list:
    return [
        has_columns(*CROWD_BASELINE_SCHEMA),
        not_null("service"),
        not_null("bin_start"),
        not_null("expected"),
        unique_together("service", "country", "bin_start"),
        between("reports", 0, None),
        between("expected", 0, None),
        between("p_value", 0, 1),
        in_set("level", LEVELS),
    ]


@dg.asset(
    key=["marts", "crowd_baseline"],
    deps=[dg.AssetKey(["staging", "crowd_reports"])],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(CROWD_BASELINE_CHECK, asset=["marts", "crowd_baseline"], blocking=True)],
)
def crowd_baseline(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How unusual each 5-minute bin of crowd reports is, per service and country (Downdetector-style).

    Columns: provider (from the service mapping), service, country, bin_start (UTC), bin_minutes (bin
    width), reports (user reports in the bin), expected (hour-of-week median over the 4 previous weeks,
    or the hour-of-day fallback at the start of the data), baseline_weeks (trailing weeks behind
    `expected`, 0 = fallback), baseline_kind (trailing_weeks | hour_of_day_fallback), dispersion
    (negative-binomial alpha of the series), p_value (P(reports this high | normal)), anomalous
    (p < 1e-4 and >= 10 reports), flagged (anomalous and 2 of 3 consecutive bins anomalous), level
    (no_problem | possible_problem | problem), export_baseline (the export's own baseline, if it had one).
    """
    params = CrowdDetectionParams()
    with workspace.warehouse() as con:
        reports = read_table_if_exists(
            con, CROWD_REPORTS_TABLE, "ts, service, provider, country, reports, baseline"
        )
    if reports is None:
        context.log.warning(f"{CROWD_REPORTS_TABLE} does not exist yet: writing an empty crowd baseline")
        reports = pl.DataFrame()
    table = crowd_baseline_table(reports, params, workspace.providers().provider_for_crowd_service())
    with workspace.warehouse() as con:
        replace_table(con, CROWD_BASELINE_TABLE, table)
    levels = table.group_by("level").len()
    return dg.MaterializeResult(
        metadata={
            "rows": table.height,
            "series": table.select(SERIES).n_unique() if table.height else 0,
            "bin_minutes": int(table["bin_minutes"][0]) if table.height else params.bin_minutes,
            "flagged_bins": int(table["flagged"].sum()) if table.height else 0,
            "bins_per_level": dg.MetadataValue.json(
                {r["level"]: r["len"] for r in levels.iter_rows(named=True)}
            ),
        },
        check_results=[check_result(CROWD_BASELINE_CHECK, table, crowd_baseline_expectations())],
    )
