"""How reports read the warehouse: marts only, defensively, and every quoted number traced to its mart cell.

Reports never compute a metric. They read mart tables (and the quarantine counts), pick, sort, filter
and format. `Figures` records each number a page quotes as (table, column, key, value) so a test (or a
sceptical reader) can look the very cell up again: `<page>.figures.json` sits beside every page.

Marts are built by other assets that may not have run (or may be older than this code): a missing
table or column makes the section say "not available" instead of failing the whole report.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from assets.reports.page import default_format, format_ts

# What a report may read: the marts schema and the quarantine counts. Nothing from staging.
_READABLE = re.compile(r"^(marts\.[a-z_][a-z0-9_]*|quarantine\.rejected_rows)$")

INCIDENTS = "marts.incidents"
RELIABILITY = "marts.component_reliability"
MINUTE_SLI = "marts.provider_minute_sli"
SLO_BUDGET = "marts.slo_budget"
SLO_ALERTS = "marts.slo_alerts"
OUTAGE_EPISODES = "marts.outage_episodes"
CROWD_BASELINE = "marts.crowd_baseline"
RECONCILIATION = "marts.incident_reconciliation"
MIGRATION_SIGNALS = "marts.migration_signals"
MIGRATION_CORRELATION = "marts.migration_correlation"
DOWNTIME_COST = "marts.downtime_cost"
FAILOVER = "marts.failover_simulation"
REJECTED = "quarantine.rejected_rows"

COMPONENT_PROVIDER = "(provider)"  # provider-level row of marts.component_reliability
PERIOD_ALL = "all"
IMPACT_RANK = {"critical": 4, "major": 3, "minor": 2, "none": 1, "maintenance": 0}
SCENARIOS = ("low", "base", "high")


def display_names(workspace) -> dict[str, str]:
    """provider key -> display name from providers.yaml (labels only; empty if the config is unreadable)."""
    try:
        return {key: p.display_name for key, p in workspace.providers().providers.items()}
    except (OSError, ValueError):  # a label is not worth failing a report for (ConfigError is a ValueError)
        return {}


def _checked(table: str) -> str:
    if not _READABLE.match(table):
        raise ValueError(f"reports read marts only; refusing to read {table!r}")
    return table


def utc(frame: pl.DataFrame) -> pl.DataFrame:
    """Every datetime column as microsecond UTC (naive values are taken as UTC)."""
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


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = _checked(table).split(".")
    # fetchall() so no pending result is left on the connection (DuckDB 2 refuses the next query).
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(rows[0][0])


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = _checked(table).split(".")
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def read_mart(
    con: duckdb.DuckDBPyConnection,
    table: str,
    where: str = "",
    params: Sequence[Any] = (),
    required: Sequence[str] = (),
) -> pl.DataFrame | None:
    """A mart as a frame (timestamps in UTC), or None when the table or a `required` column is missing.

    `where` is SQL from code (e.g. "WHERE minute >= ? AND minute < ?") with values bound from `params`.
    """
    if not table_exists(con, table):
        return None
    columns = table_columns(con, table)
    if any(c not in columns for c in required):
        return None
    return utc(con.sql(f"SELECT * FROM {_checked(table)} {where}", params=list(params) or None).pl())


def read_between(
    con: duckdb.DuckDBPyConnection,
    table: str,
    ts_column: str,
    start: dt.datetime,
    end: dt.datetime,
    required: Sequence[str] = (),
) -> pl.DataFrame | None:
    """Rows of a large time-series mart with start <= ts_column < end (None if unavailable)."""
    if not table_exists(con, table) or ts_column not in table_columns(con, table):
        return None
    if not re.match(r"^[a-z_][a-z0-9_]*$", ts_column):
        raise ValueError(f"not a column name: {ts_column!r}")
    return read_mart(con, table, f"WHERE {ts_column} >= ? AND {ts_column} < ?", [start, end], required)


def first_column(frame: pl.DataFrame | None, *candidates: str) -> str | None:
    """The first of `candidates` that `frame` has."""
    if frame is None:
        return None
    return next((c for c in candidates if c in frame.columns), None)


def has(frame: pl.DataFrame | None, *columns: str) -> bool:
    return frame is not None and frame.height > 0 and all(c in frame.columns for c in columns)


# ---- quoting figures ---------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """A mart value as JSON: timestamps ISO 8601 in UTC, dates ISO, NaN -> null."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


@dataclass
class Figures:
    """Every number a page quotes, with where it came from."""

    items: list[dict] = field(default_factory=list)

    def quote(
        self,
        table: str,
        row: Mapping[str, Any],
        column: str,
        key_columns: Sequence[str],
        fmt: Callable[[Any], str] | None = None,
        label: str | None = None,
    ) -> str:
        """Format `row[column]` for the page and record (table, column, key, value, text)."""
        value = row.get(column)
        text = (fmt or default_format)(value)
        self.items.append(
            {
                "label": label or column,
                "table": _checked(table),
                "column": column,
                "key": {k: json_value(row.get(k)) for k in key_columns},
                "value": json_value(value),
                "text": text,
            }
        )
        return text

    def quoter(self, table: str, row: Mapping[str, Any], key_columns: Sequence[str]):
        """`q(column, fmt)` quoting `row[column]`, or "-" (nothing recorded) when the value is null."""

        def q(column: str, fmt: Callable[[Any], str] | None = None) -> str:
            if row.get(column) is None:
                return "-"
            return self.quote(table, row, column, key_columns, fmt)

        return q

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.items, indent=1, ensure_ascii=False, allow_nan=False), "utf-8")
        return path


# ---- formats ---------------------------------------------------------------------------------------------


def fmt_minutes(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.0f} min" if abs(value) >= 10 else f"{value:.1f} min"


def fmt_hours(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.1f} h" if abs(value) >= 1 else f"{value:.2f} h"


def fmt_days(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.1f} days"


def fmt_pct(value: Any, digits: int = 3) -> str:
    """A value already in percent (uptime_pct, budget_used_pct)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.{digits}f}%"


def fmt_share(value: Any, digits: int = 1) -> str:
    """A ratio in [0, 1] shown as percent (error_ratio, availability)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{100.0 * value:,.{digits}f}%"


def fmt_money(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"${value:,.0f}"


def fmt_count(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.0f}"


def fmt_ts(value: Any) -> str:
    return "n/a" if value is None else format_ts(value)


# ---- downtime cost, whatever its exact layout ----------------------------------------------------------

_TOTAL_CANDIDATES = ("total_cost", "total", "total_usd", "cost_total", "total_cost_usd", "cost_usd", "cost")
_KEY_CANDIDATES = ("provider", "incident_id", "month", "period", "scenario", "grain", "level")


@dataclass(frozen=True)
class CostRow:
    """One downtime-cost figure: its mart row, the scenario and which column holds its total."""

    row: dict
    scenario: str
    total_column: str
    key_columns: tuple[str, ...]

    @property
    def total(self) -> Any:
        return self.row.get(self.total_column)

    @property
    def incident_id(self) -> Any:
        return self.row.get("incident_id")

    @property
    def provider(self) -> Any:
        return self.row.get("provider")

    @property
    def month(self) -> Any:
        return self.row.get("month") or self.row.get("period")


def cost_rows(cost: pl.DataFrame | None) -> list[CostRow]:
    """marts.downtime_cost as CostRow per (row, scenario): long layout (a `scenario` column and a total
    column) or wide layout (`total_low`/`total_base`/`total_high`, `cost_base_usd`, ...)."""
    if cost is None or cost.height == 0:
        return []
    keys = tuple(c for c in _KEY_CANDIDATES if c in cost.columns)
    out: list[CostRow] = []
    if "scenario" in cost.columns:
        total = first_column(cost, *_TOTAL_CANDIDATES)
        if total is None:
            return []
        for row in cost.iter_rows(named=True):
            scenario = str(row["scenario"]).lower() if row["scenario"] is not None else ""
            if scenario in SCENARIOS:
                out.append(CostRow(row, scenario, total, keys))
        return out
    wide: dict[str, str] = {}
    for scenario in SCENARIOS:
        pattern = re.compile(
            rf"^(total|cost)(_cost)?_{scenario}(_usd)?$|^{scenario}(_total)?(_cost)?(_usd)?$"
        )
        column = next((c for c in cost.columns if pattern.match(c)), None)
        if column is not None:
            wide[scenario] = column
    for row in cost.iter_rows(named=True):
        for scenario, column in wide.items():
            out.append(CostRow(row, scenario, column, keys))
    return out


def is_incident_cost(item: CostRow) -> bool:
    level = item.row.get("grain") or item.row.get("level")
    if level is not None:
        return "incident" in str(level).lower()
    return item.incident_id is not None


def is_month_cost(item: CostRow) -> bool:
    level = item.row.get("grain") or item.row.get("level")
    if level is not None:
        return "month" in str(level).lower()
    return item.incident_id is None and item.month is not None


def breakdown_columns(item: CostRow) -> list[str]:
    """Numeric cost components of a cost row other than its total (e.g. lost_revenue_usd)."""
    skip = set(item.key_columns) | {item.total_column}
    return [
        k
        for k, v in item.row.items()
        if k not in skip
        and isinstance(v, int | float)
        and not isinstance(v, bool)
        and re.search(r"cost|usd|revenue|productivity|penalt|credit|loss", k)
        and not re.search(r"_(low|high)(_usd)?$", k)
    ]
