"""staging.status_* rebuilt from every archived snapshot: dedup, quarantine, metadata, checks."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.ingest.status_pages.archive import load_status_archive
from assets.ingest.status_pages.dedup import dedup_snapshots
from assets.ingest.status_pages.schema import AFFECTED, COMPONENTS, INCIDENTS, TABLES, UPDATES
from assets.staging.status_pages import STATUS_INCIDENTS_CHECK, quality_checks, status_pages
from pipelines.core.config import load_providers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status_pages"


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def newer_snapshot() -> bytes:
    """The next fetch: the open incident got resolved (new update, later updated_at); the others dropped off."""
    document = json.loads((FIXTURES / "statuspage-incidents.json").read_text())
    incident = document["incidents"][0]
    assert incident["id"] == "8k2m4qv7ztrb"
    incident.update(status="resolved", updated_at="2026-03-03T09:00:00.000-08:00",
                    resolved_at="2026-03-03T09:00:00.000-08:00", name="Elevated errors on claude.ai (resolved)")
    incident["incident_updates"].insert(0, {
        "id": "r3s0lv3d0002", "status": "resolved", "body": "This incident has been resolved.",
        "created_at": "2026-03-03T09:00:00.000-08:00", "updated_at": "2026-03-03T09:00:00.000-08:00",
        "display_at": "2026-03-03T09:00:00.000-08:00",
        "affected_components": [{"code": "rwppv331jlwc", "name": "claude.ai", "old_status": "degraded_performance",
                                 "new_status": "operational"}],
    })
    incident["incident_updates"][1]["body"] = "Edited: a fix is in place; monitoring."
    document["incidents"] = [incident]
    return json.dumps(document).encode()


@pytest.fixture
def archive(data_dir: Path) -> Path:
    root = data_dir / "raw" / "status_pages"
    files = {
        "anthropic/20260303T160000Z-incidents.json": (FIXTURES / "statuspage-incidents.json").read_bytes(),
        "anthropic/20260303T160000Z-summary.json": (FIXTURES / "statuspage-summary.json").read_bytes(),
        "anthropic/20260303T180000Z-incidents.json": newer_snapshot(),
        "anthropic/20260303T180000Z-summary.json": (FIXTURES / "statuspage-summary.json").read_bytes(),
        "anthropic/20260304T000000Z-incidents.json": (FIXTURES / "truncated.json").read_bytes(),
        "anthropic/.20260304T010000Z-incidents.json.x1y2.tmp": b"{",  # a fetch in flight: ignored
        "anthropic/notes.txt": b"hello",
        "openai/20260303T180000Z-incidents.json": (FIXTURES / "incident_io-incidents.json").read_bytes(),
        "openai/20260303T180000Z-summary.json": (FIXTURES / "incident_io-summary.json").read_bytes(),
        "google/20260310T120000Z.atom": (FIXTURES / "history.atom").read_bytes(),
        "google/20260301T120000Z.atom": (FIXTURES / "empty.atom").read_bytes(),
        "mystery/20260310T120000Z.atom": (FIXTURES / "history.atom").read_bytes(),
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return data_dir


def test_materialize_builds_all_four_tables_from_every_snapshot(archive, workspace):
    result = dg.materialize([status_pages], resources={"workspace": workspace})
    assert result.success
    metadata = {
        tuple(event.materialization.asset_key.path): {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }
    assert set(metadata) == {("staging", t) for t in TABLES}
    for table in TABLES:
        meta = metadata[("staging", table)]
        assert meta["rows_in"] == meta["rows_accepted"] + meta["rows_quarantined"]
        assert meta["rows_written"] == meta["rows_accepted"] - meta["rows_superseded"]
        assert meta["providers"] == "anthropic, google, openai" and meta["snapshots"] == 9
    incidents_meta = metadata[("staging", INCIDENTS)]
    # anthropic 3 + 1 + 1 + 1 (two incidents.json, two summary.json), openai 2, google 3 accepted;
    # the truncated file, notes.txt, the mystery/ directory and openai's bare incident (no time at all) refused
    assert (incidents_meta["rows_accepted"], incidents_meta["rows_quarantined"], incidents_meta["rows_written"]) == (
        11, 4, 8)
    assert all(check.passed for check in result.get_asset_check_evaluations())
    assert len(result.get_asset_check_evaluations()) == 4

    with duckdb.connect(str(archive / "warehouse.duckdb"), read_only=True) as con:
        incidents = con.sql("SELECT * FROM staging.status_incidents").pl()
        updates = con.sql("SELECT * FROM staging.status_incident_updates").pl()
        affected = con.sql("SELECT * FROM staging.status_affected_components").pl()
        components = con.sql("SELECT * FROM staging.status_components").pl()
        rejects = con.sql("SELECT * FROM quarantine.rejected_rows ORDER BY file").pl()
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'status_incidents'").fetchall())
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE" and types["incident_id"] == "VARCHAR"

    assert incidents.group_by("provider").len().sort("provider").rows() == [("anthropic", 3), ("google", 3),
                                                                            ("openai", 2)]
    # the newer snapshot changed the open incident: its version wins
    changed = incidents.filter(incident_id="8k2m4qv7ztrb").to_dicts()[0]
    assert changed["status"] == "resolved" and changed["resolved_at"] == utc(2026, 3, 3, 17, 0)
    assert changed["title"] == "Elevated errors on claude.ai (resolved)"
    assert changed["snapshot_file"] == "raw/status_pages/anthropic/20260303T180000Z-incidents.json"
    # incidents that dropped off the newer incidents.json are kept from the older snapshot
    assert incidents.filter(incident_id="3xq0v8c2nn6d")["status"].to_list() == ["postmortem"]
    last_seen = dict(incidents.filter(provider="anthropic").select("incident_id", "last_seen_at").rows())
    assert last_seen == {"8k2m4qv7ztrb": utc(2026, 3, 3, 18), "3xq0v8c2nn6d": utc(2026, 3, 3, 16),
                         "0mnt5ch3d001": utc(2026, 3, 3, 16)}

    open_updates = updates.filter(incident_id="8k2m4qv7ztrb").sort("created_at")
    assert open_updates["status"].to_list() == ["investigating", "monitoring", "resolved"]
    assert open_updates["body"].to_list()[1] == "Edited: a fix is in place; monitoring."
    assert updates.select("provider", "incident_id", "update_id").is_duplicated().sum() == 0
    assert affected.filter(update_id="r3s0lv3d0002")["new_status"].to_list() == ["operational"]
    assert affected.filter(incident_id="g3m1n1app001", origin="feed").height == 2

    # components keep one row per snapshot: a history of their states
    assert components.filter(provider="anthropic").group_by("snapshot_at").len().height == 2
    assert components.filter(name="Claude Code")["capability"].unique().to_list() == ["coding_agent"]

    assert rejects["file"].to_list() == [
        "raw/status_pages/anthropic/20260304T000000Z-incidents.json",
        "raw/status_pages/anthropic/notes.txt",
        "raw/status_pages/mystery",
        "raw/status_pages/openai/20260303T180000Z-incidents.json",
    ]
    assert rejects["record_no"].to_list() == [0, 0, 0, 3]
    assert "not valid JSON (truncated or corrupt?)" in rejects["reason"][0]
    assert "unknown provider directory 'mystery'" in rejects["reason"][2]
    assert rejects["reason"][3].startswith("created_at: missing and no update has a time")
    assert set(rejects["source"]) == {"status_pages"}

    # a rerun (after the truncated file was fixed) replaces the tables and this source's quarantine
    (archive / "raw/status_pages/anthropic/20260304T000000Z-incidents.json").unlink()
    shutil.rmtree(archive / "raw/status_pages/mystery")
    assert dg.materialize([status_pages], resources={"workspace": workspace}).success
    with duckdb.connect(str(archive / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.status_incidents").fetchone()[0] == 8
        assert con.execute("SELECT file FROM quarantine.rejected_rows ORDER BY file").fetchall() == [
            ("raw/status_pages/anthropic/notes.txt",), ("raw/status_pages/openai/20260303T180000Z-incidents.json",)]


def test_dedup_prefers_newest_updated_at_then_newest_snapshot(data_dir):
    config = load_providers(data_dir / "config/providers.yaml")
    root = data_dir / "raw/status_pages/anthropic"
    root.mkdir(parents=True)
    older_doc = json.loads((FIXTURES / "statuspage-incidents.json").read_text())
    # same updated_at in both snapshots: the later snapshot wins the tie
    (root / "20260303T160000Z-incidents.json").write_text(json.dumps(older_doc))
    older_doc["incidents"][1]["name"] = "Renamed in the later snapshot"
    (root / "20260303T170000Z-incidents.json").write_text(json.dumps(older_doc))
    # a later snapshot carrying an OLDER updated_at (a stale cache) does not win
    stale = json.loads(json.dumps(older_doc))
    stale["incidents"][0].update(updated_at="2026-03-03T06:30:00.000-08:00", status="investigating")
    (root / "20260303T190000Z-incidents.json").write_text(json.dumps(stale))
    archive = load_status_archive(data_dir, config)
    incidents = archive.tables[INCIDENTS]
    assert incidents.height == 3 and archive.snapshots == 3
    assert incidents.filter(incident_id="3xq0v8c2nn6d")["title"].to_list() == ["Renamed in the later snapshot"]
    kept = incidents.filter(incident_id="8k2m4qv7ztrb").to_dicts()[0]
    assert kept["status"] == "monitoring"
    assert kept["snapshot_file"] == "raw/status_pages/anthropic/20260303T170000Z-incidents.json"
    assert archive.counts[INCIDENTS] == {"rows_in": 9, "rows_accepted": 9, "rows_quarantined": 0,
                                         "rows_written": 3, "rows_superseded": 6}
    assert archive.tables[UPDATES].height == 9 and archive.tables[AFFECTED].height == 9


def test_no_archive_yet_gives_empty_typed_tables(data_dir):
    archive = load_status_archive(data_dir, load_providers(data_dir / "config/providers.yaml"))
    assert all(archive.tables[t].height == 0 for t in TABLES)
    assert archive.tables[INCIDENTS].schema["created_at"] == pl.Datetime("us", "UTC")
    assert dedup_snapshots(archive.tables)[COMPONENTS].height == 0


def test_blocking_check_fails_on_bad_rows():
    good = load_status_archive(Path("/nonexistent"), load_providers(
        Path(__file__).resolve().parents[2] / "data/config/providers.yaml")).tables
    bad = {**good, INCIDENTS: pl.DataFrame([{
        "provider": "anthropic", "incident_id": None, "impact": "severe", "status": "resolved",
        "started_at": utc(2026, 3, 2, 12), "resolved_at": utc(2026, 3, 2, 11), "page_kind": "statuspage",
    }], schema_overrides={"incident_id": pl.String}).with_columns(
        [pl.lit(None, dtype).alias(c) for c, dtype in good[INCIDENTS].schema.items()
         if c not in ("provider", "incident_id", "impact", "status", "started_at", "resolved_at", "page_kind")]
    )}
    result = quality_checks(bad)[INCIDENTS]
    assert result.check_name == STATUS_INCIDENTS_CHECK and not result.passed
    failed = {(f["expectation"], str(f["column"])) for f in result.metadata["failed"].value}
    assert ("expect_column_values_to_not_be_null", "incident_id") in failed
    assert ("expect_column_values_to_be_in_set", "impact") in failed
    assert ("expect_column_values_to_be_between", "resolution_minutes") in failed
