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
4. **Tail probability.** `p_value = P(X >= reports)` = `1 - I_p(1/alpha, reports)` with
   `p = (1/alpha) / (1/alpha + expected)` (`scipy.special.betaincc`, see `crowd_scoring.nbinom_tail`), with
   `expected` floored at 1 report so empty night hours do not make one report a miracle.
5. **Flag rule.** A bin is *anomalous* when p_value < 1e-4 and reports >= 10 (the minimum count); it is
   *flagged* when it is anomalous and lies in a window of 3 consecutive bins with at least 2 anomalous
   bins (k-of-m persistence: one noisy bin never raises an alarm).
6. **Levels (Downdetector-like).** `problem`: flagged. `possible_problem`: not flagged, reports >= 10
   and p_value < 1e-3 (a single very unusual bin, or a rise not yet persistent). `no_problem`: the rest.
7. **Episodes.** Flagged bins of a series less than 30 minutes apart (gap between one flagged bin's end
   and the next one's start) form one episode: start = first flagged bin's start, end = last flagged
   bin's end, peak = bin with most reports.

*Look-back:* a run recomputes the bins from its analysed window's start on, from the reports since the
Monday of that week minus `trailing_weeks` weeks (`crowd_look_back_start`): everything steps 1-2 look at. The
dispersion (step 3) is then estimated over those weeks and the window, so a daily run costs the same after
a month or a year of history; a run over the whole history estimates it over all of it, as before.

Modules: `crowd_params` (thresholds, levels, columns), `crowd_bins` (steps 1-2), `crowd_scoring`
(steps 3-6), this module (the whole table and step 7).
"""

import datetime as dt

import polars as pl

from assets.marts.episodes.crowd_bins import add_expected, bin_reports, infer_bin_minutes
from assets.marts.episodes.crowd_params import (
    CROWD_BASELINE_SCHEMA,
    CROWD_EPISODE_SCHEMA,
    DEFAULT_PARAMS,
    LEVEL_PROBLEM,
    SERIES,
    CrowdDetectionParams,
)
from assets.marts.episodes.crowd_scoring import score_bins
from pipelines.core.frames import to_utc


def crowd_look_back_start(window_start: dt.datetime, params: CrowdDetectionParams = DEFAULT_PARAMS) -> dt.datetime:
    """The earliest report a window's bins need: the Monday (00:00 UTC) of its first week, minus the trailing weeks."""
    monday = (window_start - dt.timedelta(days=window_start.weekday())).replace(hour=0, minute=0, second=0,
                                                                                   microsecond=0)
    return monday - dt.timedelta(weeks=params.trailing_weeks)


def crowd_baseline_table(
    reports: pl.DataFrame,
    params: CrowdDetectionParams = DEFAULT_PARAMS,
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


def crowd_episodes(scored: pl.DataFrame, params: CrowdDetectionParams = DEFAULT_PARAMS) -> pl.DataFrame:
    """Merge flagged bins into episodes per (service, country); gaps up to `episode_gap_minutes` are bridged.

    Output columns (CROWD_EPISODE_SCHEMA): started_at = first flagged bin start, ended_at = last flagged
    bin end, peak_at / peak_value = the bin with most reports, baseline_value = its expected count,
    excess_reports = sum of reports above expected over flagged bins, min_p_value (the strongest
    evidence), confidence = 1 - min_p_value.
    """
    flagged = scored.filter(pl.col("flagged"))
    if flagged.height == 0:
        return pl.DataFrame(schema=CROWD_EPISODE_SCHEMA)
    bin_end = pl.col("bin_start") + pl.duration(minutes=pl.col("bin_minutes"))
    gap = pl.duration(minutes=params.episode_gap_minutes)
    episodes = (
        to_utc(flagged)
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
        .with_columns(confidence=1.0 - pl.col("min_p_value"))
        .sort(*SERIES, "started_at")
    )
    return episodes.select([pl.col(c).cast(t) for c, t in CROWD_EPISODE_SCHEMA.items()])
