"""The evidence behind telemetry episodes: baselines, pooled windows, binomial tests, likeliest bounds.

A minute is judged on enough requests, however few a minute brings: each minute's *evidence window*
pools the minutes before it until it holds `min_requests` requests (a window that needs more than
`max_window_minutes` minutes decides nothing). The window *fires* when its error ratio is above the
provider's threshold (the effect that matters) AND its errors are improbable under the provider's own
baseline error rate: binomial P(X >= errors | requests, baseline) <= `false_alarm_level`. So 100 requests
a minute decide minute by minute, 2 a minute decide on ten-minute windows, and a handful never do.

Fired windows that overlap or lie at most `max_gap_minutes` apart form a span; inside it the episode is
the maximum-likelihood segment (the run of minutes whose errors are best explained by the span's error
ratio rather than the baseline, a CUSUM), which trims the healthy minutes a pooled window drags in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.core.minute_sli import binomial_tail


@dataclass(frozen=True)
class EvidenceRule:
    """The telemetry detector's evidence rule (defaults documented in the module docstring)."""

    window_requests: tuple[int, ...] = (20, 60, 200)  # evidence scales; the first is the minimum
    max_window_minutes: int = 120  # longest window pooled to reach a scale's requests
    false_alarm_level: float = 1e-6  # binomial tail probability a window (and an episode) must reach
    max_gap_minutes: int = 5  # fired windows this close belong to one episode (also any quieter gap)
    baseline_days: int = 7  # trailing days behind the baseline error rate
    min_baseline_days: int = 3  # fewer trailing days: the first week's median is used instead
    min_baseline_ratio: float = 0.001  # floor: a provider that never failed is not held to 0 errors
    recent_hours: int = 24  # hourly ratios behind the recent level (surges raise errors for hours)

    @property
    def look_back(self) -> dt.timedelta:
        """How far before a minute its evidence reaches: the baseline days, the recent level's hours and the
        longest window (a daily run reads this much before its window)."""
        return dt.timedelta(days=self.baseline_days, hours=self.recent_hours, minutes=self.max_window_minutes)


def add_baseline(dense: pl.DataFrame, rule: EvidenceRule) -> pl.DataFrame:
    """Add `baseline_ratio`: the provider's usual error ratio on the minute's day.

    The median of the daily pooled error ratios of the `baseline_days` days before (a day with an
    outage is one value of seven, so it barely moves the median). Before `min_baseline_days` such days
    exist, the median over the provider's first `baseline_days` days is used. Floored at
    `min_baseline_ratio`.
    """
    daily = (
        dense.group_by("provider", day=pl.col("minute").dt.date())
        .agg(pl.col("requests").sum(), pl.col("bad_requests").sum())
        .filter(pl.col("requests") > 0)
        .with_columns(day_ratio=pl.col("bad_requests") / pl.col("requests"))
        .sort("provider", "day")
    )
    first_days = pl.col("day") < pl.col("day").min() + pl.duration(days=rule.baseline_days)
    daily = daily.with_columns(
        _trailing=pl.col("day_ratio")
        .rolling_median_by("day", window_size=f"{rule.baseline_days}d", closed="left")
        .over("provider"),
        _trailing_days=pl.col("day_ratio")
        .is_not_null()
        .cast(pl.Int32)
        .rolling_sum_by("day", window_size=f"{rule.baseline_days}d", closed="left")
        .over("provider"),
        _first_week=pl.col("day_ratio").filter(first_days).median().over("provider"),
    ).select(
        "provider",
        "day",
        baseline_ratio=pl.when(pl.col("_trailing_days").fill_null(0) >= rule.min_baseline_days)
        .then(pl.col("_trailing"))
        .otherwise(pl.col("_first_week"))
        .clip(lower_bound=rule.min_baseline_ratio),
    )
    fallback = daily.group_by("provider").agg(_any=pl.col("baseline_ratio").median())
    recent = _recent_level(dense, rule)
    return (
        dense.with_columns(day=pl.col("minute").dt.date(), hour=pl.col("minute").dt.truncate("1h"))
        .join(daily, on=["provider", "day"], how="left")
        .join(fallback, on="provider", how="left")
        .join(recent, on=["provider", "hour"], how="left")
        .with_columns(
            baseline_ratio=pl.max_horizontal(
                pl.coalesce("baseline_ratio", "_any", pl.lit(rule.min_baseline_ratio)), "_recent"
            )
        )
        .drop("day", "hour", "_any", "_recent")
    )


def _recent_level(dense: pl.DataFrame, rule: EvidenceRule) -> pl.DataFrame:
    """provider, hour, `_recent`: median pooled error ratio of the `recent_hours` hours before the hour.

    Only hours holding a smallest evidence window count, so a quiet night of 3 requests does not set
    the level; the median keeps a few outage hours from raising it.
    """
    return (
        dense.group_by("provider", hour=pl.col("minute").dt.truncate("1h"))
        .agg(pl.col("requests").sum(), pl.col("bad_requests").sum())
        .with_columns(
            _ratio=pl.when(pl.col("requests") >= min(rule.window_requests)).then(
                pl.col("bad_requests") / pl.col("requests")
            )
        )
        .sort("provider", "hour")
        .with_columns(
            _recent=pl.col("_ratio")
            .rolling_median_by("hour", window_size=f"{rule.recent_hours}h", closed="left")
            .over("provider")
        )
        .select("provider", "hour", "_recent")
    )


def evidence_windows(
    requests: np.ndarray, bad: np.ndarray, min_requests: int, max_window_minutes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per minute of one provider's dense grid: (window start index, window requests, window bad).

    The window is the shortest run of minutes ending at this one holding >= `min_requests` requests;
    start is -1 (and the counts 0) where no run of at most `max_window_minutes` minutes holds that many.
    """
    prefix_requests = np.concatenate([[0], np.cumsum(requests)])
    prefix_bad = np.concatenate([[0], np.cumsum(bad)])
    ends = np.arange(1, len(requests) + 1)
    starts = np.searchsorted(prefix_requests, prefix_requests[ends] - min_requests, side="right") - 1
    has_enough = (starts >= 0) & (ends - starts <= max_window_minutes)
    starts = np.where(has_enough, starts, -1)
    safe = np.maximum(starts, 0)
    window_requests = np.where(has_enough, prefix_requests[ends] - prefix_requests[safe], 0)
    window_bad = np.where(has_enough, prefix_bad[ends] - prefix_bad[safe], 0)
    return starts, window_requests, window_bad


def fired(
    window_requests: np.ndarray,
    window_bad: np.ndarray,
    baseline: np.ndarray,
    threshold: np.ndarray,
    rule: EvidenceRule,
) -> tuple[np.ndarray, np.ndarray]:
    """(fires, p_value) per evidence window: above the threshold and improbable under the baseline."""
    p_value = np.where(window_requests > 0, binomial_tail(window_bad, window_requests, baseline), 1.0)
    ratio = np.divide(window_bad, window_requests, out=np.zeros(len(window_bad)), where=window_requests > 0)
    return (window_requests > 0) & (ratio > threshold) & (p_value <= rule.false_alarm_level), p_value


def likeliest_segment(
    requests: np.ndarray, bad: np.ndarray, baseline: np.ndarray, elevated: float
) -> tuple[int, int] | None:
    """(first, last) index of the run of minutes best explained by the `elevated` error ratio (a CUSUM).

    Each minute adds the log-likelihood ratio of its counts (elevated vs its baseline); the segment is
    the run with the largest sum. None when no minute is better explained by the elevated ratio.
    """
    if elevated <= 0:
        return None
    elevated, baseline = min(elevated, 0.999), np.clip(baseline, None, 0.999)
    gain = bad * np.log(elevated / baseline) + (requests - bad) * np.log((1 - elevated) / (1 - baseline))
    best, best_first, best_last = 0.0, 0, -1
    running, first = 0.0, 0
    for i, g in enumerate(gain.tolist()):  # Kadane: the best sum of consecutive gains
        if running <= 0:
            running, first = 0.0, i
        running += g
        if running > best:
            best, best_first, best_last = running, first, i
    return (best_first, best_last) if best_last >= 0 else None
