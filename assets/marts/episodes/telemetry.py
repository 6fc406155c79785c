"""Outage episodes seen in our own request telemetry (`marts.telemetry_episodes`), from the dense
minute grid of `marts.provider_minute_sli`."""

import datetime as dt
from collections.abc import Mapping

import polars as pl

from pipelines.core.episodes import EPISODE_COLUMNS
from pipelines.core.minute_sli import PROVIDER_ERROR_COLUMNS, dense_minutes, ratio

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
}


def telemetry_episodes(
    minute_sli: pl.DataFrame,
    thresholds: Mapping[str, float],
    *,
    min_requests: int = 20,
    window_minutes: int = 5,
    min_breaching_minutes: int = 3,
    max_gap_minutes: int = 5,
    baseline_days: int = 7,
) -> pl.DataFrame:
    """Outage episodes seen in our own request telemetry, in `marts.outage_episodes` columns.

    `thresholds` maps provider -> error-ratio threshold (config slo.error_ratio_threshold); providers
    without one are skipped. Rules:
    - a minute *breaches* when it had >= `min_requests` requests and error_ratio > threshold;
    - a breaching minute is *confirmed* when some run of `window_minutes` consecutive minutes holding
      it has >= `min_breaching_minutes` breaching minutes (3 of 5);
    - confirmed minutes separated by at most `max_gap_minutes` unconfirmed minutes (quiet, low-traffic
      or healthy) merge into one episode, so a flapping outage is one episode, not many;
    - started_at = first confirmed minute, ended_at = end of the last confirmed minute (exclusive);
      peak_at/peak_value = the minute with the highest error ratio among the episode's minutes with
      >= `min_requests` requests; baseline_value = median error ratio of such minutes over the
      `baseline_days` days before started_at (null when there were none).
    Extra columns split the episode's provider errors by class (share_529 vs share_5xx vs
    share_timeouts) and name the dominant class.
    """
    dense = dense_minutes(minute_sli).join(
        pl.DataFrame(
            {"provider": list(thresholds), "threshold": [float(v) for v in thresholds.values()]},
            schema={"provider": pl.String, "threshold": pl.Float64},
        ),
        on="provider",
        how="inner",
    )
    qualifying = pl.col("requests") >= min_requests
    marked = _mark_confirmed(dense, qualifying, window_minutes, min_breaching_minutes)
    in_episode = _episode_minutes(marked, max_gap_minutes)
    if in_episode is None:
        return pl.DataFrame(schema=TELEMETRY_EPISODES_SCHEMA)
    episodes = _summarise(in_episode, qualifying)
    history = dense.filter(qualifying).select("provider", "minute", "error_ratio")
    return episodes.with_columns(
        source=pl.lit("telemetry"),
        service=pl.lit("api"),
        country=pl.lit(None, dtype=pl.String),
        baseline_value=pl.Series(_baselines(episodes, history, baseline_days), dtype=pl.Float64),
    ).select([pl.col(c).cast(t) for c, t in TELEMETRY_EPISODES_SCHEMA.items()])


def _mark_confirmed(
    dense: pl.DataFrame, qualifying: pl.Expr, window_minutes: int, min_breaching_minutes: int
) -> pl.DataFrame:
    """Add `_breach` (minute above its threshold) and `_confirmed` (breach inside a k-of-m window)."""
    return (
        dense.with_columns(
            _breach=(qualifying & (pl.col("error_ratio") > pl.col("threshold"))).fill_null(False)
        )
        .with_columns(
            _fires=pl.col("_breach")
            .cast(pl.Int64)
            .rolling_sum(window_size=window_minutes, min_samples=1)
            .over("provider")
            >= min_breaching_minutes
        )
        .with_columns(
            # A breaching minute is confirmed if any window ending in the next `window_minutes` rows fires.
            _confirmed=pl.col("_breach")
            & pl.any_horizontal(
                [pl.col("_fires").shift(-k).over("provider").fill_null(False) for k in range(window_minutes)]
            )
        )
    )


def _episode_minutes(marked: pl.DataFrame, max_gap_minutes: int) -> pl.DataFrame | None:
    """The grid minutes of every episode with its `_episode` id; None when no minute is confirmed."""
    confirmed = (
        marked.filter("_confirmed")
        .select("provider", "minute")
        .with_columns(
            _new=(
                pl.col("minute").diff().over("provider") > dt.timedelta(minutes=max_gap_minutes + 1)
            ).fill_null(True)
        )
        .with_columns(_episode=pl.col("_new").cum_sum().over("provider"))
        .drop("_new")
    )
    if confirmed.height == 0:
        return None

    # Give every grid minute between an episode's first and last confirmed minute that episode's id.
    return (
        marked.join(confirmed, on=["provider", "minute"], how="left")
        .with_columns(
            _prev=pl.col("_episode").forward_fill().over("provider"),
            _next=pl.col("_episode").backward_fill().over("provider"),
        )
        .filter(pl.col("_prev") == pl.col("_next"))
        .with_columns(_episode=pl.col("_prev"))
    )


def _summarise(in_episode: pl.DataFrame, qualifying: pl.Expr) -> pl.DataFrame:
    """One row per episode: bounds, peak, counts and how the provider's errors split by class."""
    peak_ratio = pl.col("error_ratio").filter(qualifying)
    return (
        in_episode.group_by("provider", "_episode")
        .agg(
            started_at=pl.col("minute").min(),
            _last=pl.col("minute").max(),
            peak_at=pl.col("minute").filter(qualifying).get(peak_ratio.arg_max()),
            peak_value=peak_ratio.max(),
            threshold=pl.col("threshold").first(),
            breaching_minutes=pl.col("_confirmed").sum().cast(pl.Int64),
            **{
                c: pl.col(c).sum().cast(pl.Int64)
                for c in ("requests", "errors_5xx", "errors_529", "timeouts", "errors_429")
            },
        )
        .with_columns(
            ended_at=pl.col("_last") + dt.timedelta(minutes=1),
            _provider_errors=pl.sum_horizontal(PROVIDER_ERROR_COLUMNS),
        )
        .with_columns(
            duration_minutes=((pl.col("ended_at") - pl.col("started_at")).dt.total_minutes()).cast(pl.Int64),
            share_529=ratio(pl.col("errors_529"), pl.col("_provider_errors")),
            share_5xx=ratio(pl.col("errors_5xx"), pl.col("_provider_errors")),
            share_timeouts=ratio(pl.col("timeouts"), pl.col("_provider_errors")),
        )
        .with_columns(
            dominant_error_class=pl.when(pl.col("_provider_errors") == 0)
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


def _baselines(episodes: pl.DataFrame, history: pl.DataFrame, baseline_days: int) -> list[float | None]:
    """Median error ratio of the qualifying minutes in the `baseline_days` days before each episode."""
    # Few episodes, so one filter per episode over that provider's qualifying minutes.
    baselines = []
    for provider, started_at in episodes.select("provider", "started_at").iter_rows():
        trailing = history.filter(
            (pl.col("provider") == provider)
            & (pl.col("minute") >= started_at - dt.timedelta(days=baseline_days))
            & (pl.col("minute") < started_at)
        )
        baselines.append(trailing["error_ratio"].median() if trailing.height else None)
    return baselines
