"""marts.component_daily_uptime: the status-page uptime bars' data, worked out by hand, on a generated
world, and as a Dagster asset. Every expected value is computed in the comment beside it."""

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from assets.ingest.status_pages.archive import load_status_archive
from assets.marts.incidents.lifecycle import incidents_mart
from assets.marts.reliability.components import COMPONENT_PROVIDER
from assets.marts.reliability.daily import daily_uptime_mart
from assets.marts.reliability.daily_assets import component_daily_uptime
from assets.marts.reliability.evidence import snapshot_times
from assets.marts.reliability.mart import reliability_mart
from assets.marts.reliability.uptime import DEFAULT_POLICY
from pipelines.core import tables
from pipelines.core.config import load_providers
from pipelines.core.warehouse import connect, read_table, replace_table
from pipelines.scenario import generate

REPO = Path(__file__).resolve().parents[2]
TS = pl.Datetime("us", "UTC")
COMPONENTS = {"anthropic": {"API": "api", "Console": "console"}}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


WINDOW = (at(2, 0), at(5, 0))  # 2, 3 and 4 March
# 2 March: a partial outage 10:00-12:00 overlapped by a degraded spell 11:00-13:00 on the API;
# 3 March: a major outage 23:00-23:30. The page was archived on 2 March 00:00 and 4 March 00:00 only.
INCIDENTS = pl.DataFrame(
    [
        ("anthropic", "p1", "major", at(2, 10), at(2, 12), ["API"]),  # major -> partial_outage
        ("anthropic", "d1", "minor", at(2, 11), at(2, 13), ["API"]),  # minor -> degraded_performance
        ("anthropic", "m1", "critical", at(3, 23), at(3, 23, 30), ["API"]),  # critical -> major_outage
    ],
    schema={
        "provider": pl.String,
        "incident_id": pl.String,
        "impact": pl.String,
        "started_at": TS,
        "resolved_at": TS,
        "components": pl.List(pl.String),
    },
    orient="row",
)
SNAPSHOTS = pl.DataFrame(
    {"provider": ["anthropic", "anthropic"], "snapshot_at": [at(2, 0), at(4, 0)]},
    schema_overrides={"snapshot_at": TS},
)


def day_row(mart: pl.DataFrame, component: str, day: int) -> dict:
    rows = mart.filter(
        (pl.col("component") == component) & (pl.col("day") == dt.date(2026, 3, day))
    ).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_partial_and_major_days_by_hand_and_a_day_without_evidence():
    mart = daily_uptime_mart(INCIDENTS, None, *WINDOW, COMPONENTS, snapshots=SNAPSHOTS)
    assert mart.height == 3 * 3  # API, Console, (provider) x three days
    for component in ("API", COMPONENT_PROVIDER):
        partial = day_row(mart, component, 2)
        # 10-12 partial (the degraded 11-12 loses to it), 12-13 degraded: 120 x 0.3 + 60 x 0 = 36 weighted
        assert (partial["partial_outage_minutes"], partial["degraded_minutes"]) == (120.0, 60.0)
        assert partial["weighted_down_minutes"] == pytest.approx(36.0)
        assert partial["uptime_pct"] == pytest.approx(100 * (1 - 36 / 1440))  # 97.5
        assert partial["worst_status"] == "partial_outage" and partial["incidents"] == 2
        major = day_row(mart, component, 3)
        assert major["uptime_pct"] == pytest.approx(100 * (1 - 30 / 1440))  # 97.917: 30 major minutes
        assert major["worst_status"] == "major_outage" and major["evidence_state"] == "incidents"
        # 4 March: the last snapshot is at 00:00, so the page says nothing about that day
        unknown = day_row(mart, component, 4)
        assert unknown["evidence_minutes"] == 0.0 and unknown["evidence_state"] == "no_evidence"
        assert (
            unknown["uptime_pct"] is None and unknown["worst_status"] is None and unknown["incidents"] is None
        )
    quiet = day_row(mart, "Console", 2)
    assert (quiet["uptime_pct"], quiet["worst_status"], quiet["evidence_state"]) == (
        100.0,
        "operational",
        "no_incidents",
    )
    assert day_row(mart, "Console", 4)["uptime_pct"] is None  # no evidence is not 100%
    assert mart.select("window_start", "window_end").unique().rows() == [WINDOW]


def test_days_add_up_to_the_window_of_component_reliability():
    daily = daily_uptime_mart(INCIDENTS, None, *WINDOW, COMPONENTS, snapshots=SNAPSHOTS)
    window = reliability_mart(INCIDENTS, None, *WINDOW, COMPONENTS, snapshots=SNAPSHOTS).filter(
        pl.col("period") == "all"
    )
    for row in window.iter_rows(named=True):
        days = daily.filter(
            (pl.col("provider") == row["provider"]) & (pl.col("component") == row["component"])
        )
        for column in ("weighted_down_minutes", "counted_minutes", "major_outage_minutes"):
            assert days[column].sum() == pytest.approx(row[column]), (row["component"], column)
    api = window.filter(pl.col("component") == "API").row(0, named=True)
    assert api["uptime_pct"] == pytest.approx(100 * (1 - 66 / 2880))  # 36 + 30 of two evidenced days


def test_asset_writes_the_window_of_its_run(workspace):
    with connect(workspace.settings.warehouse_path) as con:
        replace_table(con, tables.INCIDENTS, INCIDENTS)
        replace_table(con, tables.STATUS_INCIDENTS, SNAPSHOTS.with_columns(incident_id=pl.lit("p1")))
    tags = {"incidents/window_start": "2026-03-02", "incidents/window_end": "2026-03-04"}
    result = dg.materialize([component_daily_uptime], resources={"workspace": workspace}, tags=tags)
    assert result.success
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        mart = read_table(con, tables.COMPONENT_DAILY_UPTIME)
    providers = mart.filter(pl.col("component") == COMPONENT_PROVIDER)
    provider = providers.filter(pl.col("provider") == "anthropic").sort("day")
    assert provider["day"].to_list() == [dt.date(2026, 3, d) for d in (2, 3, 4)]
    assert provider["evidence_state"].to_list() == ["incidents", "incidents", "no_evidence"]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["dagster/row_count"].value == mart.height
    unseen = {p: 3 for p in providers["provider"].unique() if p != "anthropic"}  # configured, never loaded
    assert len(unseen) >= 2 and metadata["days_without_evidence"].data == {"anthropic": 1, **unseen}


# -- a second world: other dates (three weeks of March 2024), a tenth of the traffic --------------------------

START, END = dt.date(2024, 3, 4), dt.date(2024, 3, 24)


def planted_day_minutes(truth: dict, provider: str, component: str, day: dt.date) -> float:
    """Weighted down minutes of the planted segments on `day`, sampled every 6 seconds: at each instant
    the worst (heaviest) planted status counts, so overlaps never add up."""
    weights = {
        "major_outage": DEFAULT_POLICY.weight_major,
        "partial_outage": DEFAULT_POLICY.weight_partial,
        "degraded_performance": DEFAULT_POLICY.weight_degraded,
    }
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()
    instants = midnight + 3.0 + 6.0 * np.arange(14_400)  # the middle of each 6-second step
    weight = np.zeros_like(instants)
    for incident in truth["incidents"]:
        for s in incident["segments"] if incident["provider"] == provider else ():
            if s["component"] == component:
                start, end = (dt.datetime.fromisoformat(s[k]).timestamp() for k in ("start", "end"))
                inside = (instants >= start) & (instants < end)
                weight[inside] = np.maximum(weight[inside], weights[s["status"]])
    return float(weight.sum() * 0.1)


def test_daily_uptime_matches_the_planted_segments_of_a_second_world(data_dir: Path):
    world = data_dir
    generate(
        world,
        seed=11,
        start=START,
        end=END,
        scale=0.1,
        sources=("status_pages",),
        config=world / "config/providers.yaml",
    )
    config = load_providers(world / "config/providers.yaml")
    staged = load_status_archive(world, config).tables
    incidents = incidents_mart(
        staged["status_incidents"],
        staged["status_incident_updates"],
        staged["status_affected_components"],
        config,
    )
    window = (
        dt.datetime.combine(START, dt.time(), tzinfo=dt.UTC),
        dt.datetime.combine(END + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC),
    )
    snapshots = snapshot_times(staged["status_incidents"], staged["status_components"])
    daily = daily_uptime_mart(
        incidents, staged["status_affected_components"], *window, config, snapshots=snapshots
    )
    truth = json.loads((world / "scenario/truth.json").read_text())
    component = truth["uptime"]["components"][0]
    api = daily.filter((pl.col("provider") == "anthropic") & (pl.col("component") == component))
    assert api.height == (END - START).days + 1
    troubled = 0
    for row in api.iter_rows(named=True):
        planted = planted_day_minutes(truth, "anthropic", component, row["day"])
        assert row["weighted_down_minutes"] == pytest.approx(planted, abs=0.5), row["day"]
        assert row["uptime_pct"] == pytest.approx(
            100 * (1 - row["weighted_down_minutes"] / row["counted_minutes"])
        )
        troubled += planted > 0
        assert (row["worst_status"] == "operational") == (row["evidence_state"] == "no_incidents")
    assert troubled >= 2  # the check has bad days to find in this world
