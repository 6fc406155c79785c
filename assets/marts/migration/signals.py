"""marts.migration_signals: are users moving between providers? Hourly and daily signals per provider.

Layout (wide, one row per grain x provider x period, plus rank rows):
- provider rows (country and chart null): our own traffic and its growth, new client ids, crowd reports,
  at grain 'hour' and 'day';
- rank rows (grain 'day' only, country and chart set): the provider's best App Store rank in that
  country and chart that day, its change and the days spent at #1. Traffic/crowd columns are null there.
We chose this wide layout over a long signal/value one because every column keeps its own type (ranks
are integers, first_day_at_1 is a date) and each figure of a report maps to one column.

Definitions (grain step s = 1 hour or 1 day; "week" = 7 days = 168 hourly or 7 daily steps):
- growth_pct = 100 * (requests / requests_baseline_7d - 1), requests_baseline_7d = mean requests of the
  same hour (day) over the previous 7 days. Null while fewer than 7 prior days exist or the baseline is 0.
- growth_48h_pct (hour grain): the growth of our traffic over the 48 hours ending with this hour, net of
  the daily and weekly cycle. Each hour is first indexed on the same hour one week earlier
  (log(requests / requests_week_ago), which cancels the daily and weekday cycle); a least-squares line
  is fitted through the 48 indexed hours ending here, and growth_48h_pct = 100 * (exp(48 * slope) - 1),
  i.e. how much the fitted line rose across the 48 hours. A surge that multiplies traffic by 5 over 48 h
  (the bundled scenario's wave before the 2 March 2026 11:49 UTC crash, built as 5 ** (hours / 48))
  reads +400 on the hour containing the crash. Using the whole window rather than two end points keeps
  Poisson noise small; using the previous week (not an average of older weeks) keeps bursts of older
  weeks out of the baseline. Needs at least 36 of the 48 hours with traffic in both weeks, else null.
  Day grain: the same index, end points only: 100 * ((r_d / r_{d-7}) / (r_{d-2} / r_{d-9}) - 1).
- new_clients: client ids whose first request in the whole request log falls in this period (the first
  days of the log therefore count every existing client as new: see warm_up).
- traffic_share / crowd_share: this provider's requests / crowd reports over all providers' in the period.
- rank_change_1d / rank_change_7d: rank 1 (7) days earlier minus today's rank: POSITIVE = moved up.
  Null when either day is missing (outside the top 100 or not fetched).
- days_at_1: days at #1 up to and including this day; first_day_at_1: first day at #1 so far (null before).

The hourly inputs are aggregated in DuckDB (inputs.py); these functions are pure Polars/NumPy.
"""

import datetime as dt

import numpy as np
import polars as pl

from assets.marts.migration.inputs import History
from assets.marts.migration.schema import EMPTY_INPUTS, GRAINS, MIGRATION_SCHEMA
from pipelines.core.frames import to_utc
from pipelines.core.mart_columns import conform_to

STEPS_PER_DAY = {"hour": 24, "day": 1}
BASELINE_DAYS = 7
GROWTH_WINDOW_HOURS = 48
GROWTH_MIN_POINTS = 36
WARM_UP_DAYS = 7
# Rows reach back at most 9 days (growth_48h: a week + 48 h; the day grain's end points: 9 days): a run of a
# window reads its inputs from 10 days before the window's start.
LOOK_BACK = dt.timedelta(days=10)


def growth_48h_fit(
    requests: np.ndarray,
    week: int = 168,
    window: int = GROWTH_WINDOW_HOURS,
    min_points: int = GROWTH_MIN_POINTS,
) -> np.ndarray:
    """100 * (exp(window * slope) - 1) of a line fitted to log(requests / requests one week earlier).

    `requests` is one provider's complete, evenly spaced hourly series (zeros for silent hours). The
    fit at index h uses indices h-window+1..h where both that hour and the hour a week before have
    traffic; fewer than `min_points` such hours gives NaN. Fully vectorised (sliding windows).
    """
    r = np.asarray(requests, dtype=np.float64)
    n = r.size
    out = np.full(n, np.nan)
    if n < week + window:
        return out
    prev = np.full(n, np.nan)
    prev[week:] = r[:-week]
    valid = (r > 0) & (prev > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(valid, np.log(r) - np.log(prev), 0.0)
    yw = np.lib.stride_tricks.sliding_window_view(y, window)
    mw = np.lib.stride_tricks.sliding_window_view(valid.astype(np.float64), window)
    x = np.arange(window, dtype=np.float64)
    cnt = mw.sum(axis=1)
    sx = mw @ x
    sxx = mw @ (x * x)
    sy = yw.sum(axis=1)  # y is 0 where invalid
    sxy = yw @ x
    denom = cnt * sxx - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (cnt * sxy - sx * sy) / denom
    slope = np.where((cnt >= min_points) & (denom > 0), slope, np.nan)
    out[window - 1 :] = 100.0 * (np.exp(window * slope) - 1.0)
    return out


def _period_grid(providers: list[str], start: dt.datetime, end: dt.datetime, grain: str) -> pl.DataFrame:
    interval = "1h" if grain == "hour" else "1d"
    periods = pl.datetime_range(start, end, interval=interval, time_zone="UTC", eager=True).dt.cast_time_unit(
        "us"
    )
    return pl.DataFrame({"provider": sorted(providers)}).join(
        pl.DataFrame({"period_start": periods}), how="cross"
    )


def _to_grain(frame: pl.DataFrame, value: str, grain: str) -> pl.DataFrame:
    """Sum an hourly (provider, period_start, value) frame to the grain."""
    if frame.is_empty():
        return frame
    if grain == "day":
        frame = frame.with_columns(pl.col("period_start").dt.truncate("1d"))
    return frame.group_by("provider", "period_start").agg(pl.col(value).sum())


def _on_period_grid(inputs: dict[str, pl.DataFrame], grain: str, history: History | None) -> pl.DataFrame | None:
    """The inputs joined on a complete (provider x period) grid, silent periods 0; None when all are empty.

    The grid spans every provider from the first period to the last; inputs read from `history.since` on
    get the grid the whole history would give them from there on (its providers, its first period)."""
    non_empty = [v for v in inputs.values() if not v.is_empty()]
    if not non_empty:
        return None
    stacked = pl.concat([v.select("provider", "period_start") for v in non_empty])
    providers, first = stacked["provider"].unique().to_list(), stacked["period_start"].min()
    if history is not None:
        providers = history.providers
        first = max(history.since, _truncate(history.first_hour, grain)) if history.first_hour else history.since
    frame = _period_grid(providers, first, stacked["period_start"].max(), grain)
    for name, values in inputs.items():
        frame = (
            frame.join(values, on=["provider", "period_start"], how="left")
            if not values.is_empty()
            else (frame.with_columns(pl.lit(None, values.schema[name]).alias(name)))
        )
    return frame.with_columns(
        pl.col("requests", "new_clients").fill_null(0), pl.col("crowd_reports").fill_null(0.0)
    ).sort("provider", "period_start")


def _baseline_and_shares(frame: pl.DataFrame, step: int) -> pl.DataFrame:
    """requests_baseline_7d, growth_pct, requests_week_ago and the traffic and crowd shares."""
    prior = [pl.col("requests").shift(k * step).over("provider") for k in range(1, BASELINE_DAYS + 1)]
    baseline = prior[0]
    for expr in prior[1:]:
        baseline = baseline + expr  # `+` keeps nulls: no baseline until 7 full prior days exist
    return frame.with_columns(
        requests_baseline_7d=(baseline / BASELINE_DAYS).cast(pl.Float64),
        requests_week_ago=pl.col("requests").shift(BASELINE_DAYS * step).over("provider"),
        traffic_share=pl.col("requests") / pl.col("requests").sum().over("period_start"),
        crowd_share=pl.col("crowd_reports") / pl.col("crowd_reports").sum().over("period_start"),
    ).with_columns(
        growth_pct=pl.when(pl.col("requests_baseline_7d") > 0).then(
            100.0 * (pl.col("requests") / pl.col("requests_baseline_7d") - 1.0)
        ),
        traffic_share=pl.col("traffic_share").fill_nan(None),
        crowd_share=pl.col("crowd_share").fill_nan(None),
    )


def _growth_48h(frame: pl.DataFrame, grain: str, week: int) -> pl.DataFrame:
    """growth_48h_pct: the fitted line per provider (hours) or the end-point index (days)."""
    if grain == "hour":
        parts = []
        for (provider,), part in frame.group_by("provider", maintain_order=True):
            growth = growth_48h_fit(part["requests"].to_numpy(), week=week)
            parts.append(part.with_columns(growth_48h_pct=pl.Series(growth).fill_nan(None)))
        return pl.concat(parts)

    def back(days: int) -> pl.Expr:
        return pl.col("requests").shift(days).over("provider").cast(pl.Float64)

    usable = (back(week) > 0) & (back(2) > 0) & (back(week + 2) > 0)
    return frame.with_columns(
        growth_48h_pct=pl.when(usable).then(
            100.0 * ((pl.col("requests") / back(week)) / (back(2) / back(week + 2)) - 1.0)
        )
    )


def _truncate(moment: dt.datetime, grain: str) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0, **({"hour": 0} if grain == "day" else {}))


def provider_signals(
    traffic: pl.DataFrame,
    first_seen: pl.DataFrame,
    crowd: pl.DataFrame,
    grain: str,
    history: History | None = None,
) -> pl.DataFrame:
    """Provider rows of the mart at `grain` from hourly (provider, period_start, value) aggregates.

    traffic: requests per hour; first_seen: new_clients per hour; crowd: crowd_reports per hour.
    A complete period grid over the union of their time ranges is built per provider, silent periods
    count 0, so shifts by 24/168 rows are exact hours. history: the aggregates start at `history.since`;
    the rows from there on plus the look-back are those of the whole history (inputs.History).
    """
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, got {grain!r}")
    inputs = {
        "requests": traffic.select("provider", "period_start", pl.col("requests").cast(pl.Int64)),
        "new_clients": first_seen.select("provider", "period_start", pl.col("new_clients").cast(pl.Int64)),
        "crowd_reports": crowd.select("provider", "period_start", pl.col("crowd_reports").cast(pl.Float64)),
    }
    frame = _on_period_grid({k: _to_grain(v, k, grain) for k, v in inputs.items()}, grain, history)
    if frame is None:
        return pl.DataFrame(schema=MIGRATION_SCHEMA)
    step = STEPS_PER_DAY[grain]
    frame = _growth_48h(_baseline_and_shares(frame, step), grain, week=BASELINE_DAYS * step)
    if history is None:
        first_active = (
            pl.col("period_start").filter(pl.col("requests") + pl.col("crowd_reports") > 0).min().over("provider")
        )
    else:
        first = {p: _truncate(t, grain) for p, t in history.first_active.items()}
        first_active = pl.col("provider").replace_strict(first, default=None, return_dtype=frame.schema["period_start"])
    frame = frame.with_columns(
        grain=pl.lit(grain),
        country=pl.lit(None, pl.String),
        chart=pl.lit(None, pl.String),
        warm_up=pl.col("period_start") < first_active + pl.duration(days=WARM_UP_DAYS),
    )
    return conform_to(frame, MIGRATION_SCHEMA)


def rank_signals(ranks: pl.DataFrame, history: History | None = None) -> pl.DataFrame:
    """Rank rows (grain 'day') from (provider, day, country, chart, best_rank), on a complete day grid
    (every series, from the first day any series has to the last); with `history`, the ranks start at
    `history.since` and the days at #1 before it come from `history.ranks`."""
    if ranks.is_empty():
        return pl.DataFrame(schema=MIGRATION_SCHEMA)
    keys = ["provider", "country", "chart"]
    ranks = (
        ranks.with_columns(pl.col("day").cast(pl.Date), pl.col("best_rank").cast(pl.Int64))
        .group_by("provider", "day", "country", "chart")
        .agg(pl.col("best_rank").min())
    )
    first_day, series = ranks["day"].min(), ranks.select(keys).unique()
    before = pl.DataFrame(schema={**dict.fromkeys(keys, pl.String), "days_at_1_before": pl.Int64,
                                  "first_day_at_1_before": pl.Date})
    if history is not None and history.ranks is not None:
        first_day = max(history.since.date(), history.ranks["first_day"].min())
        before = history.ranks.select(*keys, pl.col("days_at_1_before").cast(pl.Int64),
                                      pl.col("first_day_at_1_before").cast(pl.Date))
        series = before.select(keys)
    days = pl.date_range(first_day, ranks["day"].max(), interval="1d", eager=True)
    frame = (
        series.join(pl.DataFrame({"day": days}), how="cross")
        .join(ranks, on=[*keys, "day"], how="left")
        .join(before, on=keys, how="left")
        .sort(*keys, "day")
    )
    at_one = pl.col("best_rank") == 1
    first_at_one = pl.coalesce(pl.col("first_day_at_1_before"), pl.col("day").filter(at_one).min().over(keys))
    frame = frame.with_columns(
        rank_change_1d=pl.col("best_rank").shift(1).over(keys) - pl.col("best_rank"),
        rank_change_7d=pl.col("best_rank").shift(7).over(keys) - pl.col("best_rank"),
        days_at_1=pl.col("days_at_1_before").fill_null(0)
        + at_one.fill_null(False).cast(pl.Int64).cum_sum().over(keys),
        first_day_at_1=pl.when(pl.col("day") >= first_at_one).then(first_at_one),
        grain=pl.lit("day"),
        period_start=pl.col("day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        warm_up=pl.lit(False),
    )
    return conform_to(frame, MIGRATION_SCHEMA)


def build_migration_signals(
    traffic: pl.DataFrame | None,
    first_seen: pl.DataFrame | None,
    crowd: pl.DataFrame | None,
    ranks: pl.DataFrame | None,
    history: History | None = None,
) -> pl.DataFrame:
    """The whole mart: provider rows at both grains plus daily rank rows (inputs may be None = missing).

    history: the inputs were read from `history.since` on (inputs.read_inputs); the rows from
    `history.since + LOOK_BACK` on are then those the whole history gives."""
    traffic, first_seen, crowd, ranks = (
        frame if frame is not None else pl.DataFrame(schema=EMPTY_INPUTS[name])
        for name, frame in zip(EMPTY_INPUTS, (traffic, first_seen, crowd, ranks), strict=True)
    )
    traffic, first_seen, crowd = (to_utc(f) for f in (traffic, first_seen, crowd))
    parts = [provider_signals(traffic, first_seen, crowd, grain, history) for grain in GRAINS]
    parts.append(rank_signals(ranks, history))
    return pl.concat(parts).sort("grain", "provider", "period_start", "country", "chart", nulls_last=False)
