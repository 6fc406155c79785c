"""Which per-day assets a run can leave out: a source with nothing to add and nothing to remove in the range.

A run over years of status-page history must not pay per-day work for sources the user does not have. A
source's staging asset (and, for request logs, the minute SLI built from them) is left out of a run when no
raw file of that source holds rows of the range - by its day folder or by the staging indexes of multi-day
files - and the warehouse holds none of its rows for the range (so there is nothing stale to clear either).
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets.ingest.day_sources import DayIndex
from pipelines.core import tables
from pipelines.core.preflight import Evidence, find_evidence
from pipelines.core.settings import Settings
from pipelines.core.warehouse import connect, table_exists

# source -> (the per-day assets built from it, the staged table and its day column)
PER_DAY = {
    "crowd_reports": ((tables.CROWD_REPORTS,), tables.CROWD_REPORTS, "partition_day"),
    "app_rankings": ((tables.APP_RANKS,), tables.APP_RANKS, "partition_day"),
    "request_logs": ((tables.REQUEST_LOGS, tables.MINUTE_SLI), tables.MINUTE_SLI, "minute"),
}


def _raw_days(settings: Settings, evidence: Evidence, source: str) -> set[str]:
    """Days a source's raw files hold rows of: the pre-run check's evidence (non-empty day folders, the
    request-log index) plus the days the crowd and app-rank indexes know for multi-day files."""
    days = {day.isoformat() for day in evidence.days[source]}
    if source != "request_logs":
        days |= {day for entry in DayIndex(settings.data_dir, source).entries.values() for day in entry.get("days") or []}
    return days


def _staged_in(settings: Settings, table: dg.AssetKey, column: str, start: dt.date, end: dt.date) -> bool:
    if not settings.warehouse_path.is_file():
        return False
    with connect(settings.warehouse_path, read_only=True) as con:
        if not table_exists(con, table):
            return False
        first, last = dt.datetime.combine(start, dt.time(), dt.UTC), dt.datetime.combine(end, dt.time.max, dt.UTC)
        bounds = [start, end] if column == "partition_day" else [first, last]
        sql = f"SELECT count(*) FROM {tables.sql_name(table)} WHERE {column} BETWEEN ? AND ?"  # names from code
        return con.execute(sql, bounds).fetchone()[0] > 0


def idle_assets(settings: Settings, start: dt.date, end: dt.date) -> set[dg.AssetKey]:
    """The per-day assets a run over [start, end] can leave out (see the module docstring)."""
    idle: set[dg.AssetKey] = set()
    evidence = find_evidence(settings, start, end)
    for source, (assets, staged, column) in PER_DAY.items():
        days = {d for d in _raw_days(settings, evidence, source) if start.isoformat() <= d <= end.isoformat()}
        if not days and not _staged_in(settings, staged, column, start, end):
            idle.update(assets)
    return idle
