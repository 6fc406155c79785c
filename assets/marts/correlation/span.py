"""The hours a window's correlation looks at: the analysed window widened by the largest lag on both sides."""

import datetime as dt

import dagster as dg
import duckdb
import polars as pl

from pipelines.core.tables import sql_name
from pipelines.core.warehouse import table_exists
from pipelines.core.window import Window


def lagged_span(window: Window, max_lag_hours: int) -> tuple[dt.datetime, dt.datetime] | None:
    """[start, end) of the hours to read for a window `incidents run` named (its tags): every hour of the window
    can be paired at every lag, and a run over the whole history reads all of it. None (every hour) for a run
    without a named window (a schedule, `dagster asset materialize`), as before."""
    if window.source != "run":
        return None
    lag = dt.timedelta(hours=max_lag_hours)
    return window.start_ts - lag, window.end_ts + lag


def read_between(
    con: duckdb.DuckDBPyConnection,
    table: dg.AssetKey,
    columns: str,
    column: str,
    span: tuple[dt.datetime, dt.datetime] | None,
) -> pl.DataFrame | None:
    """Rows of `table` with `column` in [start, end) (every row for None), in one fixed order; None while the
    table does not exist. `columns` and `column` come from code; the bounds are parameters."""
    if not table_exists(con, table):
        return None
    between = f"WHERE {column} >= ? AND {column} < ?" if span is not None else ""
    query = f"SELECT {columns} FROM {sql_name(table)} {between} ORDER BY ALL"
    return con.sql(query, params=list(span) if span is not None else None).pl()
