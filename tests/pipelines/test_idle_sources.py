"""A run leaves out the per-day assets of sources that have nothing to add and nothing to clear in its range."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from assets.ingest.day_sources import INDEX_VERSION
from pipelines.core import tables
from pipelines.core.settings import Settings
from pipelines.core.warehouse import connect, replace_table
from pipelines.idle_sources import idle_assets

START, END = dt.date(2022, 9, 1), dt.date(2026, 2, 28)
EVERY = {tables.CROWD_REPORTS, tables.APP_RANKS, tables.REQUEST_LOGS, tables.MINUTE_SLI}


def settings_for(tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    (data / "raw/status_pages/anthropic").mkdir(parents=True)
    (data / "raw/status_pages/anthropic/20260101T000000Z-incidents.json").write_text("{}")
    return Settings(data, tmp_path / "reports", data / "config/providers.yaml")


def test_status_history_alone_leaves_every_per_day_asset_out(tmp_path):
    assert idle_assets(settings_for(tmp_path), START, END) == EVERY


def test_a_file_in_the_range_keeps_its_source_and_one_outside_does_not(tmp_path):
    settings = settings_for(tmp_path)
    (settings.raw_dir / "crowd_reports/2024-05-01").mkdir(parents=True)
    (settings.raw_dir / "crowd_reports/2024-05-01/export.csv").write_text("timestamp\n")
    (settings.raw_dir / "request_logs/2027-01-01").mkdir(parents=True)
    (settings.raw_dir / "request_logs/2027-01-01/late.jsonl").write_text("{}\n")
    assert idle_assets(settings, START, END) == EVERY - {tables.CROWD_REPORTS}


def test_a_multi_day_file_indexed_with_rows_in_the_range_keeps_its_source(tmp_path):
    settings = settings_for(tmp_path)
    (settings.data_dir / "cache").mkdir()
    (settings.data_dir / "cache/app_rankings-file-days.json").write_text(json.dumps({"version": INDEX_VERSION, "files": {
        "raw/app_rankings/2027-01-01/history.csv": {"size": 1, "mtime_ns": 1, "days": ["2023-03-01"]}}}))
    assert idle_assets(settings, START, END) == EVERY - {tables.APP_RANKS}


def test_staged_rows_in_the_range_keep_the_source_so_removed_files_are_cleared(tmp_path):
    settings = settings_for(tmp_path)
    with connect(settings.warehouse_path) as con:
        replace_table(con, tables.CROWD_REPORTS, pl.DataFrame({"partition_day": [dt.date(2023, 1, 5)]}))
        replace_table(con, tables.MINUTE_SLI, pl.DataFrame(
            {"minute": [dt.datetime(2021, 1, 5, tzinfo=dt.UTC)]}))  # before the range: does not count
    assert idle_assets(settings, START, END) == EVERY - {tables.CROWD_REPORTS}
