"""A second world, end to end: the bundled story two years earlier (shift_days=-728) at a tenth of the traffic,
over three weeks around the planted outages, through `incidents run` as a user would run it.

Nothing in the pipeline knows the scenario's dates or volume; every expectation comes from the generator's
truth.json of this world.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.scenario import generate

REPO = Path(__file__).resolve().parents[2]
SHIFT_DAYS = -728
pytestmark = pytest.mark.slow


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _shifted(day: str) -> str:
    return (dt.date.fromisoformat(day) + dt.timedelta(days=SHIFT_DAYS)).isoformat()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("second_world")
    data, reports, home = root / "data", root / "reports", root / "dagster_home"
    (data / "config").mkdir(parents=True)
    home.mkdir()
    for name in ("providers.yaml", "cost_model.yaml"):
        shutil.copy(REPO / "data/config" / name, data / "config" / name)
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    start, end = _shifted("2026-02-16"), _shifted("2026-03-08")
    truth = generate(data, start=start, end=end, scale=0.1, shift_days=SHIFT_DAYS,
                     config=data / "config/providers.yaml")
    env = {"INCIDENTS_DATA_DIR": str(data), "INCIDENTS_REPORTS_DIR": str(reports),
           "INCIDENTS_CONFIG": str(data / "config/providers.yaml"), "DAGSTER_HOME": str(home)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        result = CliRunner().invoke(app, ["run", "--start", truth.start, "--end", truth.end, "--in-process"])
        assert result.exit_code == 0, result.output
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    yield {"data": data, "reports": reports, "truth": json.loads((data / "scenario/truth.json").read_text())}


def query(world, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(world["data"] / "warehouse.duckdb"), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.sql(sql).pl()


def test_the_world_is_two_years_earlier_and_every_day_is_staged(world):
    truth = world["truth"]
    assert truth["shift_days"] == SHIFT_DAYS and truth["start"].startswith("2024-")
    days = query(world, "SELECT count(DISTINCT day) n, min(day) lo FROM staging.request_logs")
    assert days["n"][0] == 21 and days["lo"][0].isoformat() == truth["start"]


def test_every_planted_outage_is_found_by_telemetry_and_crowd_near_its_start(world):
    episodes = query(world, "SELECT source, provider, country, started_at, peak_value FROM marts.outage_episodes"
                            " WHERE provider = 'anthropic'")
    for outage in world["truth"]["outages"]:
        start = _ts(outage["user_visible_start"])
        near = episodes.filter((pl.col("started_at") - start).abs() <= dt.timedelta(minutes=15))
        assert near.filter(pl.col("source") == "telemetry").height >= 1, (outage["name"], episodes)
        us = near.filter((pl.col("source") == "crowd") & (pl.col("country") == "us"))
        assert us.height == 1, outage["name"]
        assert abs(us["peak_value"][0] - outage["crowd_peak"]["us"]) <= 0.05 * outage["crowd_peak"]["us"]


def test_no_telemetry_episode_is_invented_for_providers_without_planted_trouble_on_quiet_days(world):
    # Before the surge (the first week of the window) nothing was planted for anyone at this volume.
    first_week_end = _ts(world["truth"]["start"] + "T00:00:00+00:00") + dt.timedelta(days=7)
    quiet = query(world, "SELECT * FROM marts.telemetry_episodes").filter(pl.col("started_at") < first_week_end)
    incidents = [i for i in world["truth"]["incidents"] if _ts(i["started_at"]) < first_week_end]
    assert quiet.height <= len(incidents), quiet


def test_the_planted_vendor_incidents_are_reconciled_with_what_users_saw(world):
    recon = query(world, "SELECT * FROM marts.incident_reconciliation")
    for incident in (i for i in world["truth"]["incidents"] if i["planted"]):
        group = recon.filter(pl.col("vendor_incident_ids").list.contains(incident["incident_id"]))
        assert group.height == 1, incident["incident_id"]
        assert group["crowd_started_at"][0] is not None and group["telemetry_started_at"][0] is not None


def test_pages_show_the_window_the_run_saw(world):
    index = (world["reports"] / "index.html").read_text()
    assert world["truth"]["start"] in index and world["truth"]["end"] in index
    assert "2026-03-02" not in index  # nothing of the bundled scenario's own calendar leaks into another world
