"""Outage episodes seen in our own request telemetry (`marts.telemetry_episodes`), from the dense
minute grid of `marts.provider_minute_sli`, decided on evidence (the rule: `telemetry_evidence`).

No fixed count of requests per minute: a provider at 2 requests a minute is judged on pooled windows,
one at 50,000 minute by minute, both against their own baseline error ratio at one false-alarm level.
"""

import datetime as dt
from collections.abc import Mapping

import numpy as np
import polars as pl

from assets.marts.episodes.telemetry_evidence import (
    EvidenceRule,
    add_baseline,
    evidence_windows,
    fired,
    likeliest_segment,
)
from pipelines.core.episodes import EPISODE_COLUMNS
from pipelines.core.minute_sli import binomial_tail, dense_minutes, ratio

DEFAULT_RULE = EvidenceRule()

TELEMETRY_EPISODES_SCHEMA = {
    "source": pl.String,
    **EPISODE_COLUMNS,
    "threshold": pl.Float64,
    "duration_minutes": pl.Int64,
    "breaching_minutes": pl.Int64,
    "requests": pl.Int64,
    "errors_5xx": pl.Int64,
    "errors_529": pl.Int64,
    "timeouts": pl.Int64,
    "errors_429": pl.Int64,
    "share_529": pl.Float64,
    "share_5xx": pl.Float64,
    "share_timeouts": pl.Float64,
    "dominant_error_class": pl.String,
    "errors": pl.Int64,
    "p_value": pl.Float64,
    "confidence": pl.Float64,
    "false_alarm_level": pl.Float64,
}


def telemetry_episodes(
    minute_sli: pl.DataFrame, thresholds: Mapping[str, float], rule: EvidenceRule = DEFAULT_RULE
) -> pl.DataFrame:
    """Outage episodes seen in our own request telemetry, in `marts.outage_episodes` columns.

    `thresholds` maps provider -> error-ratio threshold (config slo.error_ratio_threshold); providers
    without one are skipped. The evidence rule (`telemetry_evidence`): evidence windows pool minutes
    until they hold `rule.min_requests` requests and fire when their error ratio is above the threshold
    and binomially improbable under the provider's baseline at `rule.false_alarm_level`; fired windows
    within `rule.max_gap_minutes` form a span, trimmed to its maximum-likelihood segment; the episode is
    kept when the segment as a whole passes the same two tests.
    - started_at / ended_at: first minute of the segment / end of its last minute (exclusive).
    - peak_at / peak_value: the minute whose evidence window had the highest error ratio.
    - baseline_value: the baseline error ratio tested against (request-weighted over the episode).
    - requests, errors (the provider's failures), p_value = P(errors this many | baseline), confidence
      = 1 - p_value, false_alarm_level; error classes and their shares, dominant_error_class.
    """
    dense = dense_minutes(minute_sli).join(
        pl.DataFrame(
            {"provider": list(thresholds), "threshold": [float(v) for v in thresholds.values()]},
            schema={"provider": pl.String, "threshold": pl.Float64},
        ),
        on="provider",
        how="inner",
    )
    if dense.height == 0:
        return pl.DataFrame(schema=TELEMETRY_EPISODES_SCHEMA)
    marked = pl.concat(
        [_mark_provider(part, rule) for part in add_baseline(dense, rule).partition_by("provider")]
    )
    in_episode = marked.filter(pl.col("_episode") >= 0)
    if in_episode.height == 0:
        return pl.DataFrame(schema=TELEMETRY_EPISODES_SCHEMA)
    episodes = _summarise(in_episode).with_columns(
        source=pl.lit("telemetry"),
        service=pl.lit("api"),
        country=pl.lit(None, dtype=pl.String),
        false_alarm_level=pl.lit(rule.false_alarm_level),
    )
    p_value = binomial_tail(episodes["errors"], episodes["requests"], episodes["baseline_value"])
    episodes = episodes.with_columns(p_value=pl.Series(p_value, dtype=pl.Float64)).filter(
        (pl.col("p_value") <= rule.false_alarm_level)
        & (pl.col("errors") / pl.col("requests") > pl.col("threshold"))
    )
    return episodes.with_columns(confidence=1.0 - pl.col("p_value")).select(
        [pl.col(c).cast(t) for c, t in TELEMETRY_EPISODES_SCHEMA.items()]
    )


def _mark_provider(minutes: pl.DataFrame, rule: EvidenceRule) -> pl.DataFrame:
    """One provider's sorted dense minutes with their evidence window and `_episode` (-1: none)."""
    requests = minutes["requests"].to_numpy()
    bad = minutes["bad_requests"].to_numpy()
    baseline = minutes["baseline_ratio"].to_numpy()
    threshold = minutes["threshold"].to_numpy()
    covered_from = np.full(len(requests), -1, dtype=np.int64)  # earliest start of a fired window ending here
    for scale in sorted(rule.window_requests, reverse=True):  # the smallest scale is computed last
        starts, window_requests, window_bad = evidence_windows(requests, bad, scale, rule.max_window_minutes)
        fires, _ = fired(window_requests, window_bad, baseline, threshold, rule)
        earlier = fires & ((covered_from < 0) | (starts < covered_from))
        covered_from = np.where(earlier, starts, covered_from)
    episode = np.full(len(requests), -1, dtype=np.int64)
    spans = _spans(covered_from, requests, rule)
    for number, (first, last) in enumerate(spans):
        # The CUSUM may move the bounds up to one longest window outside the span, never into a neighbour.
        low = max(first - rule.max_window_minutes, spans[number - 1][1] + 1 if number else 0)
        high = min(
            last + rule.max_window_minutes,
            spans[number + 1][0] - 1 if number + 1 < len(spans) else len(bad) - 1,
        )
        # The CUSUM's reference ratio sits halfway (geometrically) between the baseline and the span's
        # ratio, the classic choice when the size of the shift is not known in advance.
        span_ratio = bad[first : last + 1].sum() / max(requests[first : last + 1].sum(), 1)
        elevated = float(np.sqrt(span_ratio * baseline[first : last + 1].max()))
        segment = likeliest_segment(
            requests[low : high + 1], bad[low : high + 1], baseline[low : high + 1], elevated
        )
        if segment is not None:
            episode[low + segment[0] : low + segment[1] + 1] = number
    window_ratio = np.divide(
        window_bad, window_requests, out=np.full(len(bad), np.nan), where=window_requests > 0
    )
    return minutes.with_columns(
        _fires=pl.Series(covered_from >= 0),
        _window_ratio=pl.Series(window_ratio).fill_nan(None),
        _episode=pl.Series(episode),
    )


def _spans(covered_from: np.ndarray, requests: np.ndarray, rule: EvidenceRule) -> list[tuple[int, int]]:
    """(first, last) grid index of each stretch covered by fired windows.

    Two stretches merge when the gap between them is at most `max_gap_minutes` long or holds fewer
    requests than the smallest evidence window: too little evidence to say the provider recovered.
    """
    prefix = np.concatenate([[0], np.cumsum(requests)])
    smallest = min(rule.window_requests)
    spans: list[tuple[int, int]] = []
    for end in np.flatnonzero(covered_from >= 0).tolist():
        start = int(covered_from[end])
        if spans:
            gap_first, gap_last = spans[-1][1] + 1, start - 1
            quiet = prefix[max(gap_last + 1, gap_first)] - prefix[gap_first] < smallest
            if gap_last - gap_first + 1 <= rule.max_gap_minutes or quiet:
                spans[-1] = (min(spans[-1][0], start), end)
                continue
        spans.append((start, end))
    return spans


def _summarise(in_episode: pl.DataFrame) -> pl.DataFrame:
    """One row per episode: bounds, peak, evidence counts and how the provider's errors split by class."""
    return (
        in_episode.group_by("provider", "_episode")
        .agg(
            started_at=pl.col("minute").min(),
            _last=pl.col("minute").max(),
            peak_at=pl.col("minute").get(pl.col("_window_ratio").fill_null(-1.0).arg_max()),
            peak_value=pl.col("_window_ratio").max(),
            threshold=pl.col("threshold").first(),
            baseline_value=(pl.col("baseline_ratio") * pl.col("requests")).sum() / pl.col("requests").sum(),
            breaching_minutes=pl.col("_fires").sum().cast(pl.Int64),
            errors=pl.col("bad_requests").sum().cast(pl.Int64),
            **{
                c: pl.col(c).sum().cast(pl.Int64)
                for c in ("requests", "errors_5xx", "errors_529", "timeouts", "errors_429")
            },
        )
        .with_columns(ended_at=pl.col("_last") + dt.timedelta(minutes=1))
        .with_columns(
            duration_minutes=((pl.col("ended_at") - pl.col("started_at")).dt.total_minutes()).cast(pl.Int64),
            share_529=ratio(pl.col("errors_529"), pl.col("errors")),
            share_5xx=ratio(pl.col("errors_5xx"), pl.col("errors")),
            share_timeouts=ratio(pl.col("timeouts"), pl.col("errors")),
        )
        .with_columns(
            dominant_error_class=pl.when(pl.col("errors") == 0)
            .then(None)
            .when(
                (pl.col("errors_529") >= pl.col("errors_5xx")) & (pl.col("errors_529") >= pl.col("timeouts"))
            )
            .then(pl.lit("529"))
            .when(pl.col("errors_5xx") >= pl.col("timeouts"))
            .then(pl.lit("5xx"))
            .otherwise(pl.lit("timeout"))
        )
        .sort("provider", "started_at")
    )
