"""The shape of `marts.provider_minute_sli` and the dense minute grid computed from it.

The minute-SLI mart writes these columns; the SLO marts and telemetry-episode detection read them back
through the warehouse and work on `dense_minutes`, so the shape and the grid are defined here once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import duckdb
import numpy as np
import polars as pl
from scipy import special

from pipelines.core import tables
from pipelines.core.frames import UTC_TS, to_utc
from pipelines.core.resources import Workspace
from pipelines.core.since import read_since
from pipelines.core.warehouse import read_table, table_exists

# Disjoint request classes, in order of precedence; they add up to `requests`.
COUNT_COLUMNS = (
    "ok",  # 2xx/3xx, not a timeout
    "errors_5xx",  # 500-599 except 529 and except 504 (timeout)
    "errors_529",  # provider overloaded
    "errors_429",  # our quota / rate limit: OUR error
    "errors_4xx_other",  # other 4xx except 408 (timeout): OUR error
    "timeouts",  # error_type ~ timeout, or status 408/504
    "errors_other",  # no usable status (null, 0, 1xx, >= 600) and not a timeout: not the provider's
)

# The provider's failures: the numerator of its error ratio ("bad" requests of its SLO).
PROVIDER_ERROR_COLUMNS = ("errors_5xx", "errors_529", "timeouts")

MINUTE_SLI_SCHEMA = {
    "day": pl.Date,
    "provider": pl.String,
    "minute": UTC_TS,
    "requests": pl.Int64,
    **{name: pl.Int64 for name in COUNT_COLUMNS},
    "error_ratio": pl.Float64,
    "latency_p50_ms": pl.Float64,
    "latency_p95_ms": pl.Float64,
}

_SUMMED = ("requests", *COUNT_COLUMNS)


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator, null when the denominator is not positive (no traffic is not 0 %)."""
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)


def binomial_tail(errors, requests, error_rate) -> np.ndarray:
    """P(X >= errors) for X ~ Binomial(requests, error_rate): how surprising `errors` bad requests are.

    The evidence rule of every telemetry detector: a count is judged against the rate it is tested
    against, so 3 errors in 4 requests and 300 in 400 get the p-values their sample sizes deserve.
    Works elementwise on arrays; 0 errors give 1.0, and so does a window without requests; more errors
    than requests give 0.0; NaN, a negative or fractional request count or a rate outside [0, 1] give NaN.
    Computed as the regularized incomplete beta I_rate(errors, requests - errors + 1) from `scipy.special`,
    the same numbers as `scipy.stats.binom.sf` without importing `scipy.stats` (0.5 s per process).
    """
    at_least = np.floor(np.asarray(errors, dtype=np.float64))
    n = np.asarray(requests, dtype=np.float64)
    rate = np.asarray(error_rate, dtype=np.float64)
    valid = (n >= 0) & (n == np.round(n)) & (rate >= 0) & (rate <= 1) & ~np.isnan(at_least)
    with np.errstate(invalid="ignore"):
        within = special.betainc(at_least, n - at_least + 1.0, rate)  # defined for 1 <= at_least <= n
    tail = np.where(at_least <= 0, 1.0, np.where(at_least > n, 0.0, within))
    return np.where(valid, tail, np.nan)[()]  # [()]: a scalar for scalar inputs


def read_minute_sli(con: duckdb.DuckDBPyConnection, since: dt.datetime | None = None) -> pl.DataFrame:
    """`marts.provider_minute_sli` (minute in UTC), all of it or from minute `since` on; before its first run,
    no rows but its columns."""
    if not table_exists(con, tables.MINUTE_SLI):
        return pl.DataFrame(schema=MINUTE_SLI_SCHEMA)
    if since is None:
        return to_utc(read_table(con, tables.MINUTE_SLI))
    return to_utc(read_since(con, tables.MINUTE_SLI, "*", "minute", since))


def read_daily_counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """`marts.provider_minute_sli`'s counts summed per provider and UTC day, in its columns (`minute` is the
    day's 00:00 UTC): for marts that only add counts up (a year of minutes is ~1,440x the rows)."""
    if not table_exists(con, tables.MINUTE_SLI):
        return pl.DataFrame(schema={c: MINUTE_SLI_SCHEMA[c] for c in ("day", "provider", "minute", *_SUMMED)})
    sums = ", ".join(f"sum({c})::BIGINT AS {c}" for c in _SUMMED)
    query = (f"SELECT minute::DATE AS day, provider, minute::DATE::TIMESTAMPTZ AS minute, {sums} "
             f"FROM {tables.sql_name(tables.MINUTE_SLI)} GROUP BY ALL ORDER BY ALL")
    return to_utc(con.sql(query).pl())


def dense_minutes(minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Per provider, one row per minute from its first to its last minute with traffic.

    Counts are summed per (provider, minute) and are 0 where no request was logged; `bad_requests`
    is the provider's failures and `error_ratio` is null on empty minutes.
    """
    summed = (
        minute_sli.with_columns(pl.col("minute").cast(UTC_TS))
        .group_by("provider", "minute")
        .agg(pl.col(c).sum().cast(pl.Int64) for c in _SUMMED)
    )
    if summed.height == 0:
        grid = summed.select("provider", "minute")
    else:
        grid = (
            summed.group_by("provider")
            .agg(first=pl.col("minute").min(), last=pl.col("minute").max())
            .select("provider", minute=pl.datetime_ranges("first", "last", "1m", time_zone="UTC"))
            .explode("minute")
            .with_columns(pl.col("minute").cast(UTC_TS))
        )
    return (
        grid.join(summed, on=["provider", "minute"], how="left")
        .with_columns(pl.col(c).fill_null(0) for c in _SUMMED)
        .with_columns(bad_requests=pl.sum_horizontal(PROVIDER_ERROR_COLUMNS))
        .with_columns(
            good_requests=pl.col("requests") - pl.col("bad_requests"),
            error_ratio=ratio(pl.col("bad_requests"), pl.col("requests")),
        )
        .sort("provider", "minute")
    )


def slo_settings(workspace: Workspace, field: str) -> dict[str, float]:
    """provider -> one field of its config `slo` block (availability_target, error_ratio_threshold)."""
    return {key: getattr(p.slo, field) for key, p in workspace.providers().providers.items()}


def providers_without(minute_sli: pl.DataFrame, configured: Iterable[str] | Mapping[str, float]) -> list[str]:
    """Providers with minute SLIs but no configured value (reported in the asset metadata)."""
    return sorted(set(minute_sli["provider"].unique().to_list()) - set(configured))
