"""Reading a table from a point in time on and rewriting a mart from that point on.

A run launched for a range (`incidents run`, whose tags name the analysed window) recomputes the mart from
the window's start on, from the inputs since that start minus the method's look-back; the mart's earlier
rows stay as the runs that analysed them wrote them, so a daily run costs the same after a month or a year.
A run without a named window (a schedule, `dagster asset materialize`) rebuilds the whole mart, as before.
"""

import datetime as dt
from collections.abc import Mapping

import dagster as dg
import duckdb
import polars as pl

from pipelines.core.config import ProvidersConfig
from pipelines.core.tables import sql_name
from pipelines.core.warehouse import order_by, replace_table, replace_where, table_exists
from pipelines.core.window import analysis_window


def recompute_start(config: ProvidersConfig, run_tags: Mapping[str, str]) -> dt.datetime | None:
    """The start of the window the run names in its tags; None (rebuild everything) when it names none."""
    window = analysis_window(config, run_tags)
    return window.start_ts if window.source == "run" else None


def read_since(
    con: duckdb.DuckDBPyConnection,
    table: dg.AssetKey,
    columns: str,
    column: str,
    start: dt.datetime | None,
    until: dt.datetime | None = None,
) -> pl.DataFrame | None:
    """Rows of `table` whose `column` is at or after `start` (every row for None) and before `until` (when
    given), in one fixed order; None while the table does not exist. `columns` and `column` come from code;
    the bounds are parameters."""
    if not table_exists(con, table):
        return None
    bounds = [(f"{column} >= ?", start), (f"{column} < ?", until)]
    conditions, params = [c for c, v in bounds if v is not None], [v for _, v in bounds if v is not None]
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    query = f"SELECT {columns} FROM {sql_name(table)} {where} ORDER BY {order_by(table, columns)}"
    return con.sql(query, params=params or None).pl()


def replace_since(
    con: duckdb.DuckDBPyConnection, table: dg.AssetKey, frame: pl.DataFrame, column: str, start: dt.datetime | None
) -> pl.DataFrame:
    """Replace the rows of `table` whose `column` is at or after `start` by `frame`'s rows from `start` on
    (the whole table for None); returns the rows written.

    Rows are written in `column` order, so DuckDB's per-row-group min/max lets a reader of a time range (a
    report, the next run's look-back) skip the rest of the history.
    """
    new = rows_since(frame, column, start)
    if start is None:
        replace_table(con, table, new)
        return new
    stale = read_since(con, table, f"DISTINCT {column}", column, start)  # what an earlier run wrote from `start` on
    replace_where(con, table, new, column, stale[column].to_list() if stale is not None else [])
    return new


def rows_since(frame: pl.DataFrame, column: str, start: dt.datetime | None) -> pl.DataFrame:
    """The rows `replace_since` writes: `frame`'s rows from `start` on (all for None), in `column` order."""
    frame = frame.sort(column, maintain_order=True)
    return frame if start is None else frame.filter(pl.col(column) >= start)
