"""marts.incidents and marts.component_reliability on a second generated world (other dates: five weeks
of May-June 2024, 0.1x traffic, status pages only), checked against the generator's planted truth."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from assets.ingest.status_pages.archive import load_status_archive
from assets.marts.incidents.lifecycle import incidents_mart
from assets.marts.reliability.evidence import snapshot_times
from assets.marts.reliability.mart import reliability_mart
from assets.marts.reliability.uptime import DEFAULT_POLICY
from pipelines.core.config import load_providers
from pipelines.scenario import generate

REPO = Path(__file__).resolve().parents[2]
START, END = dt.date(2024, 5, 6), dt.date(2024, 6, 9)
WINDOW_START = dt.datetime.combine(START, dt.time(), tzinfo=dt.UTC)
WINDOW_END = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
WEIGHTS = {
    "major_outage": DEFAULT_POLICY.weight_major,
    "partial_outage": DEFAULT_POLICY.weight_partial,
    "degraded_performance": DEFAULT_POLICY.weight_degraded,
}
AFFECTED_LINE = re.compile(r"&lt;p&gt;This incident affected: .*?&lt;/p&gt;")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("second_world") / "data"
    (data / "config").mkdir(parents=True)
    shutil.copy(REPO / "data/config/providers.yaml", data / "config/providers.yaml")
    generate(
        data,
        seed=7,
        start=START,
        end=END,
        scale=0.1,
        sources=("status_pages",),
        config=data / "config/providers.yaml",
    )
    return data


def marts(data: Path) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    config = load_providers(data / "config/providers.yaml")
    staged = load_status_archive(data, config).tables
    mart = incidents_mart(
        staged["status_incidents"],
        staged["status_incident_updates"],
        staged["status_affected_components"],
        config,
    )
    reliability = reliability_mart(
        mart,
        staged["status_affected_components"],
        WINDOW_START,
        WINDOW_END,
        config,
        snapshots=snapshot_times(staged["status_incidents"], staged["status_components"]),
    )
    return mart, reliability, json.loads((data / "scenario/truth.json").read_text())


def planted_weighted_minutes(truth: dict, provider: str, component: str, end: dt.datetime) -> float:
    """Weighted down minutes of the planted segments in [WINDOW_START, end), worst status per instant."""
    segments = [
        (
            max(dt.datetime.fromisoformat(s["start"]), WINDOW_START),
            min(dt.datetime.fromisoformat(s["end"]), end),
            WEIGHTS[s["status"]],
        )
        for incident in truth["incidents"]
        if incident["provider"] == provider
        for s in incident["segments"]
        if s["component"] == component
    ]
    cuts = sorted({t for a, b, _ in segments if b > a for t in (a, b)})
    return sum(
        max((w for a, b, w in segments if a <= left and b >= right), default=0.0)
        * (right - left).total_seconds()
        / 60
        for left, right in itertools.pairwise(cuts)
    )


def test_component_downtime_and_uptime_match_the_planted_segments(world: Path):
    _, reliability, truth = marts(world)
    rows = reliability.filter((pl.col("provider") == "anthropic") & (pl.col("period") == "all"))
    evidence_end = rows["evidence_last_at"][0]
    # the evidence ends at the last daily snapshot (23:50 + up to 9 min on the last day), not at midnight
    assert dt.datetime.combine(END, dt.time(23, 50), tzinfo=dt.UTC) <= evidence_end < WINDOW_END
    components = truth["uptime"]["components"]
    assert sorted(rows.filter(pl.col("component").is_in(components))["component"]) == sorted(components)
    for row in rows.filter(pl.col("component").is_in(components)).iter_rows(named=True):
        planted = planted_weighted_minutes(truth, "anthropic", row["component"], evidence_end)
        assert planted > 30, row["component"]  # the check has something to find in this world
        # within half a minute: a partial weight of 0.25 or 0.35 instead of 0.3 moves these by 10+ minutes
        assert row["weighted_down_minutes"] == pytest.approx(planted, abs=0.5), row["component"]
        counted = (evidence_end - WINDOW_START).total_seconds() / 60
        assert row["uptime_pct"] == pytest.approx(100 * (1 - planted / counted), abs=1e-3)
        assert row["evidence_state"] == "incidents"
    assert reliability.select("window_start", "window_end").unique().rows() == [(WINDOW_START, WINDOW_END)]


def test_a_feed_without_component_lists_names_the_planted_components(world: Path, tmp_path: Path):
    # The same world, but Google's history feeds lose their "This incident affected: ..." lines.
    stripped = tmp_path / "data"
    shutil.copytree(world, stripped)
    for feed in (stripped / "raw/status_pages/google").iterdir():
        feed.write_text(AFFECTED_LINE.sub("", feed.read_text(encoding="utf-8")), encoding="utf-8")
    mart, reliability, truth = marts(stripped)
    planted = {
        i["incident_id"]: set(i["components"]) for i in truth["incidents"] if i["provider"] == "google"
    }
    google = mart.filter(pl.col("provider") == "google")
    inferred = google.filter(pl.col("components_inferred"))
    assert inferred.height >= 0.9 * google.height >= 30
    named = [(set(r["components"]), planted[r["incident_id"]]) for r in inferred.iter_rows(named=True)]
    assert all(found <= truth_set for found, truth_set in named)  # never a component the incident did not hit
    assert sum(found == truth_set for found, truth_set in named) >= 0.9 * len(named)
    # feeds publish no impact: most texts carry status words ("elevated errors", "failing"); the others
    # ("Login issues ..." + "We are currently investigating this issue.") stay unknown, never guessed
    assert google["impact_inferred"].sum() >= 0.9 * google.height
    assert (
        google.filter(~pl.col("impact_inferred"))["impact"].null_count()
        == google.height - google["impact_inferred"].sum()
    )
    # component rows now exist for the configured names instead of one page-wide '(all)'
    components = set(reliability.filter(pl.col("provider") == "google")["component"])
    assert {"Gemini API", "Gemini app"} <= components
