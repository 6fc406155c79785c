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

Aggregation runs as DuckDB SQL over the large `staging.request_logs` view (hourly counts and each client's
first request); only the small hourly aggregates reach Polars.
"""

import datetime as dt

import dagster as dg
import duckdb
import numpy as np
import polars as pl

from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import replace_table, table_exists

MIGRATION_TABLE = "marts.migration_signals"
REQUEST_LOGS_VIEW = "staging.request_logs"
CROWD_TABLE = "staging.crowd_reports"
RANKS_TABLE = "staging.app_ranks"
MIGRATION_CHECK = "migration_signals_are_well_formed"

UTC = pl.Datetime("us", "UTC")
GRAINS = ("hour", "day")
STEPS_PER_DAY = {"hour": 24, "day": 1}
BASELINE_DAYS = 7
GROWTH_WINDOW_HOURS = 48
GROWTH_MIN_POINTS = 36
WARM_UP_DAYS = 7

MIGRATION_SCHEMA = {
    "grain": pl.String,
    "provider": pl.String,
    "period_start": UTC,
    "country": pl.String,
    "chart": pl.String,
    "requests": pl.Int64,
    "traffic_share": pl.Float64,
    "requests_baseline_7d": pl.Float64,
    "growth_pct": pl.Float64,
    "requests_week_ago": pl.Int64,
    "growth_48h_pct": pl.Float64,
    "new_clients": pl.Int64,
    "crowd_reports": pl.Float64,
    "crowd_share": pl.Float64,
    "best_rank": pl.Int64,
    "rank_change_1d": pl.Int64,
    "rank_change_7d": pl.Int64,
    "days_at_1": pl.Int64,
    "first_day_at_1": pl.Date,
    "warm_up": pl.Boolean,
}

COLUMN_DOCS = {
    "grain": "'hour' or 'day'",
    "provider": "provider key from providers.yaml",
    "period_start": "UTC start of the hour or day",
    "country": "App Store country (rank rows only, else null)",
    "chart": "App Store chart (rank rows only, else null)",
    "requests": "our requests to the provider in the period (staging.request_logs)",
    "traffic_share": "requests / all providers' requests in the period",
    "requests_baseline_7d": "mean requests of the same hour (day) over the previous 7 days",
    "growth_pct": "100 * (requests / requests_baseline_7d - 1)",
    "requests_week_ago": "requests in the same period one week earlier",
    "growth_48h_pct": "growth over the 48 h ending here, net of daily/weekly cycle (see module doc)",
    "new_clients": "client ids first seen in the period",
    "crowd_reports": "crowd reports for the provider's services in the period",
    "crowd_share": "crowd_reports / all providers' crowd reports in the period",
    "best_rank": "best App Store rank of the provider's apps (rank rows)",
    "rank_change_1d": "rank a day earlier - rank today (positive = moved up)",
    "rank_change_7d": "rank 7 days earlier - rank today (positive = moved up)",
    "days_at_1": "days at #1 so far in this country and chart",
    "first_day_at_1": "first day at #1 so far (null before it happened)",
    "warm_up": "within the first 7 days of the provider's data: baselines incomplete, clients all 'new'",
}


# ---- reading --------------------------------------------------------------------------------------------


def read_if_exists(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> pl.DataFrame | None:
    """Run the aggregate `sql` (from code) over `table` when it exists (table or view), else None; rows
    sorted so reruns compute byte-identical marts."""
    return con.sql(f"SELECT * FROM ({sql}) ORDER BY ALL").pl() if table_exists(con, table) else None


def utc_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """Every datetime column as microsecond UTC (naive values are UTC wall clock from `timezone('UTC', ..)`)."""
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            col = pl.col(name)
            col = (
                col.dt.replace_time_zone("UTC")
                if dtype.time_zone is None
                else col.dt.convert_time_zone("UTC")
            )
            fixes.append(col.dt.cast_time_unit("us"))
    return frame.with_columns(fixes) if fixes else frame


HOURLY_TRAFFIC_SQL = f"""
SELECT provider, date_trunc('hour', timezone('UTC', ts)) AS period_start, count(*) AS requests
FROM {REQUEST_LOGS_VIEW}
WHERE provider IS NOT NULL AND ts IS NOT NULL
GROUP BY ALL
"""

# Each client's first request over the whole log, bucketed by hour: the "new client ids" signal.
FIRST_SEEN_SQL = f"""
SELECT provider, date_trunc('hour', first_ts) AS period_start, count(*) AS new_clients
FROM (
    SELECT provider, client_id, min(timezone('UTC', ts)) AS first_ts
    FROM {REQUEST_LOGS_VIEW}
    WHERE provider IS NOT NULL AND client_id IS NOT NULL AND ts IS NOT NULL
    GROUP BY provider, client_id
)
GROUP BY ALL
"""

HOURLY_CROWD_SQL = f"""
SELECT provider, date_trunc('hour', timezone('UTC', ts)) AS period_start, sum(reports)::DOUBLE AS crowd_reports
FROM {CROWD_TABLE}
WHERE provider IS NOT NULL AND ts IS NOT NULL
GROUP BY ALL
"""

BEST_RANK_SQL = f"""
SELECT provider, day, country, chart, min(rank)::BIGINT AS best_rank
FROM {RANKS_TABLE}
WHERE provider IS NOT NULL AND rank IS NOT NULL
GROUP BY ALL
"""


def read_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame | None]:
    """The four small aggregates the mart is built from (None where the input table does not exist)."""
    frames = {
        "traffic": read_if_exists(con, REQUEST_LOGS_VIEW, HOURLY_TRAFFIC_SQL),
        "first_seen": read_if_exists(con, REQUEST_LOGS_VIEW, FIRST_SEEN_SQL),
        "crowd": read_if_exists(con, CROWD_TABLE, HOURLY_CROWD_SQL),
        "ranks": read_if_exists(con, RANKS_TABLE, BEST_RANK_SQL),
    }
    return {k: (utc_columns(v) if v is not None else None) for k, v in frames.items()}


# ---- pure signal functions ------------------------------------------------------------------------------


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


def _empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def provider_signals(
    traffic: pl.DataFrame,
    first_seen: pl.DataFrame,
    crowd: pl.DataFrame,
    grain: str,
) -> pl.DataFrame:
    """Provider rows of the mart at `grain` from hourly (provider, period_start, value) aggregates.

    traffic: requests per hour; first_seen: new_clients per hour; crowd: crowd_reports per hour.
    A complete period grid over the union of their time ranges is built per provider, silent periods
    count 0, so shifts by 24/168 rows are exact hours.
    """
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, got {grain!r}")
    inputs = {
        "requests": traffic.select("provider", "period_start", pl.col("requests").cast(pl.Int64)),
        "new_clients": first_seen.select("provider", "period_start", pl.col("new_clients").cast(pl.Int64)),
        "crowd_reports": crowd.select("provider", "period_start", pl.col("crowd_reports").cast(pl.Float64)),
    }
    inputs = {k: _to_grain(v, k, grain) for k, v in inputs.items()}
    non_empty = [v for v in inputs.values() if not v.is_empty()]
    if not non_empty:
        return _empty(MIGRATION_SCHEMA)
    stacked = pl.concat([v.select("provider", "period_start") for v in non_empty])
    providers = stacked["provider"].unique().to_list()
    grid = _period_grid(providers, stacked["period_start"].min(), stacked["period_start"].max(), grain)
    frame = grid
    for name, values in inputs.items():
        frame = (
            frame.join(values, on=["provider", "period_start"], how="left")
            if not values.is_empty()
            else (frame.with_columns(pl.lit(None, values.schema[name]).alias(name)))
        )
    frame = frame.with_columns(
        pl.col("requests", "new_clients").fill_null(0), pl.col("crowd_reports").fill_null(0.0)
    ).sort("provider", "period_start")

    step = STEPS_PER_DAY[grain]
    week = BASELINE_DAYS * step
    prior = [pl.col("requests").shift(k * step).over("provider") for k in range(1, BASELINE_DAYS + 1)]
    baseline = prior[0]
    for expr in prior[1:]:
        baseline = baseline + expr  # `+` keeps nulls: no baseline until 7 full prior days exist
    frame = frame.with_columns(
        requests_baseline_7d=(baseline / BASELINE_DAYS).cast(pl.Float64),
        requests_week_ago=pl.col("requests").shift(week).over("provider"),
        traffic_share=pl.col("requests") / pl.col("requests").sum().over("period_start"),
        crowd_share=pl.col("crowd_reports") / pl.col("crowd_reports").sum().over("period_start"),
    ).with_columns(
        growth_pct=pl.when(pl.col("requests_baseline_7d") > 0).then(
            100.0 * (pl.col("requests") / pl.col("requests_baseline_7d") - 1.0)
        ),
        traffic_share=pl.col("traffic_share").fill_nan(None),
        crowd_share=pl.col("crowd_share").fill_nan(None),
    )
    if grain == "hour":
        parts = []
        for (provider,), part in frame.group_by("provider", maintain_order=True):
            growth = growth_48h_fit(part["requests"].to_numpy(), week=week)
            parts.append(part.with_columns(growth_48h_pct=pl.Series(growth).fill_nan(None)))
        frame = pl.concat(parts)
    else:

        def back(days: int) -> pl.Expr:
            return pl.col("requests").shift(days).over("provider").cast(pl.Float64)

        usable = (back(week) > 0) & (back(2) > 0) & (back(week + 2) > 0)
        frame = frame.with_columns(
            growth_48h_pct=pl.when(usable).then(
                100.0 * ((pl.col("requests") / back(week)) / (back(2) / back(week + 2)) - 1.0)
            )
        )
    first_active = (
        pl.col("period_start").filter(pl.col("requests") + pl.col("crowd_reports") > 0).min().over("provider")
    )
    frame = frame.with_columns(
        grain=pl.lit(grain),
        country=pl.lit(None, pl.String),
        chart=pl.lit(None, pl.String),
        warm_up=pl.col("period_start") < first_active + pl.duration(days=WARM_UP_DAYS),
    )
    return conform(frame)


def rank_signals(ranks: pl.DataFrame) -> pl.DataFrame:
    """Rank rows (grain 'day') from (provider, day, country, chart, best_rank), on a complete day grid."""
    if ranks.is_empty():
        return _empty(MIGRATION_SCHEMA)
    ranks = (
        ranks.with_columns(pl.col("day").cast(pl.Date), pl.col("best_rank").cast(pl.Int64))
        .group_by("provider", "day", "country", "chart")
        .agg(pl.col("best_rank").min())
    )
    days = pl.date_range(ranks["day"].min(), ranks["day"].max(), interval="1d", eager=True)
    series = ranks.select("provider", "country", "chart").unique()
    keys = ["provider", "country", "chart"]
    frame = (
        series.join(pl.DataFrame({"day": days}), how="cross")
        .join(ranks, on=[*keys, "day"], how="left")
        .sort(*keys, "day")
    )
    at_one = pl.col("best_rank") == 1
    first_at_one = pl.col("day").filter(at_one).min().over(keys)
    frame = frame.with_columns(
        rank_change_1d=pl.col("best_rank").shift(1).over(keys) - pl.col("best_rank"),
        rank_change_7d=pl.col("best_rank").shift(7).over(keys) - pl.col("best_rank"),
        days_at_1=at_one.fill_null(False).cast(pl.Int64).cum_sum().over(keys),
        first_day_at_1=pl.when(pl.col("day") >= first_at_one).then(first_at_one),
        grain=pl.lit("day"),
        period_start=pl.col("day").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        warm_up=pl.lit(False),
    )
    return conform(frame)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast the mart's columns in order, adding missing ones as nulls."""
    return frame.select(
        [
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
            for c, t in MIGRATION_SCHEMA.items()
        ]
    )


def build_migration_signals(
    traffic: pl.DataFrame | None,
    first_seen: pl.DataFrame | None,
    crowd: pl.DataFrame | None,
    ranks: pl.DataFrame | None,
) -> pl.DataFrame:
    """The whole mart: provider rows at both grains plus daily rank rows (inputs may be None = missing)."""
    traffic = (
        traffic
        if traffic is not None
        else pl.DataFrame(schema={"provider": pl.String, "period_start": UTC, "requests": pl.Int64})
    )
    first_seen = (
        first_seen
        if first_seen is not None
        else pl.DataFrame(schema={"provider": pl.String, "period_start": UTC, "new_clients": pl.Int64})
    )
    crowd = (
        crowd
        if crowd is not None
        else pl.DataFrame(schema={"provider": pl.String, "period_start": UTC, "crowd_reports": pl.Float64})
    )
    ranks = (
        ranks
        if ranks is not None
        else pl.DataFrame(
            schema={
                "provider": pl.String,
                "day": pl.Date,
                "country": pl.String,
                "chart": pl.String,
                "best_rank": pl.Int64,
            }
        )
    )
    traffic, first_seen, crowd = (utc_columns(f) for f in (traffic, first_seen, crowd))
    parts = [provider_signals(traffic, first_seen, crowd, grain) for grain in GRAINS]
    parts.append(rank_signals(ranks))
    return pl.concat(parts).sort("grain", "provider", "period_start", "country", "chart", nulls_last=False)


def migration_expectations() -> list:
    return [
        has_columns(*MIGRATION_SCHEMA),
        not_null("grain"),
        not_null("provider"),
        not_null("period_start"),
        in_set("grain", GRAINS),
        unique_together("grain", "provider", "period_start", "country", "chart"),
        between("traffic_share", 0, 1),
        between("crowd_share", 0, 1),
        between("best_rank", 1, None),
        between("requests", 0, None),
        between("new_clients", 0, None),
    ]


def _checkable(frame: pl.DataFrame) -> pl.DataFrame:
    # GX's compound-uniqueness check skips rows with a null in the key; provider rows have null country/chart
    return frame.with_columns(pl.col("country", "chart").fill_null("-"))


@dg.asset(
    key=["marts", "migration_signals"],
    deps=[
        dg.AssetKey(["staging", "request_logs"]),
        dg.AssetKey(["staging", "crowd_reports"]),
        dg.AssetKey(["staging", "app_ranks"]),
    ],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(MIGRATION_CHECK, asset=["marts", "migration_signals"], blocking=True)],
)
def migration_signals(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Signals that users are moving between providers, hourly and daily: our own traffic and its growth,
    new client ids, crowd-report share and App Store ranks.

    Columns (details and formulas in assets/marts/migration.py):
    grain, provider, period_start, country, chart (rank rows only), requests, traffic_share,
    requests_baseline_7d, growth_pct, requests_week_ago, growth_48h_pct, new_clients, crowd_reports,
    crowd_share, best_rank, rank_change_1d, rank_change_7d (positive = moved up), days_at_1,
    first_day_at_1, warm_up.
    """
    with workspace.warehouse() as con:
        inputs = read_inputs(con)
    for name, frame in inputs.items():
        if frame is None:
            context.log.warning(
                f"migration_signals: input for {name} does not exist yet; its columns stay empty"
            )
    result = build_migration_signals(
        inputs["traffic"], inputs["first_seen"], inputs["crowd"], inputs["ranks"]
    )
    with workspace.warehouse() as con:
        replace_table(con, MIGRATION_TABLE, result)
    hourly = result.filter(pl.col("grain") == "hour")
    return dg.MaterializeResult(
        metadata={
            "rows": result.height,
            "hourly_rows": hourly.height,
            "rank_rows": result.filter(pl.col("country").is_not_null()).height,
            "providers": dg.MetadataValue.json(sorted(result["provider"].unique().to_list())),
            "max_growth_48h_pct": dg.MetadataValue.json(
                {
                    p: (round(float(v), 1) if v is not None else None)
                    for p, v in hourly.group_by("provider").agg(pl.col("growth_48h_pct").max()).iter_rows()
                }
            ),
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(c, str(t), description=COLUMN_DOCS[c]) for c, t in MIGRATION_SCHEMA.items()
                ]
            ),
        },
        check_results=[check_result(MIGRATION_CHECK, _checkable(result), migration_expectations())],
    )
