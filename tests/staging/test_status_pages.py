"""staging.status_* rebuilt from every archived snapshot: dedup, quarantine, metadata, checks."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.ingest.status_pages.archive import load_status_archive
from assets.ingest.status_pages.dedup import dedup_snapshots
from assets.ingest.status_pages.detect import same_platform
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
    assert set(metadata) == {("staging", t) for t in (*TABLES, "status_snapshots")}
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
    assert len(result.get_asset_check_evaluations()) == 6  # a suite per table, and the platform warning
    assert metadata[("staging", "status_snapshots")]["platform_changes"] == "none"

    with duckdb.connect(str(archive / "warehouse.duckdb"), read_only=True) as con:
        incidents = con.sql("SELECT * FROM staging.status_incidents").pl()
        updates = con.sql("SELECT * FROM staging.status_incident_updates").pl()
        affected = con.sql("SELECT * FROM staging.status_affected_components").pl()
        components = con.sql("SELECT * FROM staging.status_components").pl()
        rejects = con.sql("SELECT * FROM quarantine.rejected_rows ORDER BY file").pl()
        reads = con.sql("SELECT * FROM staging.status_snapshots ORDER BY file").pl()
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

    # one row per snapshot read: an empty feed is evidence of "no incidents" (0), a broken file of nothing (null)
    counts = {row["file"].removeprefix("raw/status_pages/"): (row["page_kind"], row["incidents"])
              for row in reads.to_dicts()}
    assert counts == {  # incidents listed, accepted or quarantined (openai's bare incident counts: it was listed)
        "anthropic/20260303T160000Z-incidents.json": ("statuspage", 3),
        "anthropic/20260303T160000Z-summary.json": ("statuspage", 1),
        "anthropic/20260303T180000Z-incidents.json": ("statuspage", 1),
        "anthropic/20260303T180000Z-summary.json": ("statuspage", 1),
        "anthropic/20260304T000000Z-incidents.json": (None, None),
        "google/20260301T120000Z.atom": ("atom", 0),
        "google/20260310T120000Z.atom": ("atom", 3),
        "openai/20260303T180000Z-incidents.json": ("incident_io", 3),
        "openai/20260303T180000Z-summary.json": ("incident_io", 0),
    }
    assert reads.height == 9 and set(reads["time_source"]) == {"name"}
    openai = reads.filter(provider="openai")
    assert set(openai["page_kind"]) == {"incident_io"} and set(openai["configured_kind"]) == {"incident_io"}

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
    result = quality_checks(bad)[INCIDENTS].result()
    assert result.check_name == STATUS_INCIDENTS_CHECK and not result.passed
    failed = {(f["expectation"], str(f["column"])) for f in result.metadata["failed"].value}
    assert ("expect_column_values_to_not_be_null", "incident_id") in failed
    assert ("expect_column_values_to_be_in_set", "impact") in failed
    assert ("expect_column_values_to_be_between", "resolution_minutes") in failed


def _land(data_dir: Path, files: dict[str, bytes]) -> Path:
    root = data_dir / "raw" / "status_pages"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_a_platform_switch_between_two_snapshots_is_flagged(data_dir, workspace):
    """anthropic is configured as statuspage; its newest snapshot is Instatus: metadata + a warning, data loads."""
    _land(data_dir, {
        "anthropic/20260302T100000Z-incidents.json": (FIXTURES / "statuspage-incidents.json").read_bytes(),
        "anthropic/20260302T120000Z-instatus.json": (FIXTURES / "instatus-summary.json").read_bytes(),
    })
    result = dg.materialize([status_pages], resources={"workspace": workspace})
    assert result.success  # the warning does not block
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["status_platform_matches_config"].passed
    assert checks["status_platform_matches_config"].severity == dg.AssetCheckSeverity.WARN
    meta = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                if e.materialization.asset_key.path == ["staging", "status_snapshots"])
    assert meta["platform_changes"].value == (
        "anthropic: newest snapshot raw/status_pages/anthropic/20260302T120000Z-instatus.json looks like platform "
        "instatus, config says statuspage; set kind: instatus")
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        kinds = con.execute("SELECT page_kind, count(*) FROM staging.status_incidents GROUP BY 1 ORDER BY 1").fetchall()
    assert kinds == [("instatus", 3), ("statuspage", 3)]  # both platforms' incidents are in the tables

    # the switch back (or a config fixed to the new kind) clears the flag
    _land(data_dir, {"anthropic/20260302T130000Z-incidents.json": (FIXTURES / "statuspage-incidents.json").read_bytes()})
    archive = load_status_archive(data_dir, load_providers(data_dir / "config/providers.yaml"))
    assert archive.platform_changes() == []


def test_snapshots_with_any_name_are_read_by_content_and_timed(data_dir):
    """history.atom (a download), a file with an impossible stamp, one with no time in name or content."""
    root = _land(data_dir, {
        "google/history.atom": (FIXTURES / "history.atom").read_bytes(),
        "anthropic/20260325T240000Z-incidents.json": (FIXTURES / "statuspage-incidents.json").read_bytes(),
        "anthropic/saved-gcp.json": (FIXTURES / "google_cloud-incidents.json").read_bytes(),
        "anthropic/feed-copy.xml": (FIXTURES / "empty.atom").read_bytes().replace(b"<updated>", b"<x>").replace(
            b"</updated>", b"</x>"),
        "anthropic/notes.txt": b"not a snapshot",
    })
    stamp = dt.datetime(2026, 3, 5, 6, 7, 8, tzinfo=dt.UTC).timestamp()
    os.utime(root / "anthropic/feed-copy.xml", (stamp, stamp))
    archive = load_status_archive(data_dir, load_providers(data_dir / "config/providers.yaml"))
    reads = {r["file"].rpartition("/")[2]: r for r in archive.snapshot_reads.to_dicts()}
    assert set(reads) == {"history.atom", "20260325T240000Z-incidents.json", "saved-gcp.json", "feed-copy.xml"}
    # the feed's own <updated>; the page's updated_at (the impossible 24:00 stamp is not used); newest incident
    assert (reads["history.atom"]["snapshot_at"], reads["history.atom"]["time_source"]) == (
        utc(2026, 3, 10, 19), "content")
    assert (reads["20260325T240000Z-incidents.json"]["snapshot_at"],
            reads["20260325T240000Z-incidents.json"]["time_source"]) == (utc(2026, 3, 3, 18, 15, 2, 118000), "content")
    assert (reads["saved-gcp.json"]["snapshot_at"], reads["saved-gcp.json"]["page_kind"]) == (
        utc(2026, 3, 3, 7, 2), "google_cloud")
    assert (reads["feed-copy.xml"]["snapshot_at"], reads["feed-copy.xml"]["time_source"]) == (
        utc(2026, 3, 5, 6, 7, 8), "mtime")
    assert reads["feed-copy.xml"]["incidents"] == 0  # an empty feed: evidence of no incidents, not a gap
    incidents = archive.tables[INCIDENTS]
    assert incidents.filter(provider="google").height == 3
    assert incidents.filter(snapshot_file="raw/status_pages/anthropic/saved-gcp.json").height == 2
    assert incidents["snapshot_at"].null_count() == 0
    refused = [(r["file"].rpartition("/")[2], r["reason"]) for r in archive.rejects.rows if r["record_no"] == 0]
    assert [name for name, _ in refused] == ["notes.txt"] and refused[0][1].startswith("not a snapshot")


def test_second_world_every_snapshot_is_evidence_and_a_moved_page_is_flagged(data_dir):
    """A generated world two years earlier at 0.1x, status pages only: one status_snapshots row per file, each
    timed by its name, counting what the file lists; the planted malformed records are the only rejects."""
    from pipelines.scenario import generate

    truth = generate(data_dir, start="2024-01-01", end="2024-01-28", scale=0.1, sources=["status_pages"],
                     shift_days=-728)
    config = load_providers(data_dir / "config/providers.yaml")
    archive = load_status_archive(data_dir, config)
    reads = archive.snapshot_reads
    files = sorted(p for p in (data_dir / "raw/status_pages").rglob("*") if p.is_file())
    assert reads.height == len(files) > 20
    assert set(reads["time_source"]) == {"name"}
    assert reads["snapshot_at"].min() >= utc(2024, 1, 1) and reads["snapshot_at"].max() < utc(2024, 1, 29)
    for row in reads.to_dicts():
        path = data_dir / row["file"]
        if path.suffix == ".json":
            listed = json.loads(path.read_text())
            assert row["incidents"] == len(listed.get("incidents") or []) + len(listed.get("scheduled_maintenances") or [])
        assert same_platform(row["page_kind"], row["configured_kind"])
    assert archive.platform_changes() == []
    assert sorted((r["file"], r["record_no"]) for r in archive.rejects.rows) == sorted(
        (m["file"], m["record_no"]) for m in truth.malformed_records if m["source"] == "status_pages")

    # openai moves to Instatus on the last day: only its newest snapshot says so
    (data_dir / "raw/status_pages/openai/20240128T235959Z-instatus.json").write_bytes(
        (FIXTURES / "instatus-summary.json").read_bytes())
    moved = load_status_archive(data_dir, config).platform_changes()
    assert len(moved) == 1 and moved[0].startswith("openai: newest snapshot") and moved[0].endswith("set kind: instatus")
