"""Issue 14's acceptance: a providers.yaml naming 10 catalogue entries by name only runs the status-page stage
(staging.status_* and marts.incidents) against one recorded snapshot of each provider's own platform.

The ten are picked so their catalogue platforms cover every kind the catalogue uses that has a parser:
statuspage, incident_io, google_cloud, aws_health, azure_rss, instatus, rss, betterstack. (atom and rootly
have parsers but no catalogue entry uses them; onlineornot and flashduty are used but publish no feed.)
Expected incidents are counted by hand from the fixtures in tests/fixtures/status_pages/ (see its README
for where each shape comes from), never read back from the parsers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from assets.marts.incidents.assets import incidents
from assets.staging.status_pages import PLATFORM_CHECK, status_pages
from pipelines.cli import app
from pipelines.core.catalogue import load_catalogue
from pipelines.core.resources import Workspace

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status_pages"
STAMP = "20260303T180000Z"  # when the snapshots were archived (UTC)


# provider -> (fixture landed for it, its name in the archive, titles of the incidents it lists that staging
# accepts, titles it lists that staging must quarantine)
LANDED = {
    "anthropic": ("statuspage-incidents.json", "incidents.json", [
        "Elevated errors on claude.ai and Claude Code", "Claude.ai unavailable for many users",
        "Scheduled database maintenance for platform.claude.com"], []),
    "cursor": ("statuspage-summary.json", "summary.json", [  # a summary lists only the unresolved incident
        "Elevated errors on claude.ai and Claude Code"], []),
    "openai": ("incident_io-incidents.json", "incidents.json", [
        "Increased ChatGPT error rates", "Codex tasks delayed"],
        [None]),  # 01JNR9BARE...: an id and nothing else, no time at all
    "cohere": ("incident_io-summary.json", "summary.json", [], []),  # looked at, nothing open: 0, not a gap
    "google": ("google_cloud-incidents.json", "incidents.json", [
        "Vertex Gemini API elevated 503 errors in us-central1", "Retry errors for Google BigQuery in europe-north1"],
        []),
    "aws_bedrock": ("aws_health-currentevents.json", "currentevents.json", [
        "[RESOLVED] Increased Error Rates"], []),
    "azure_openai": ("azure-status.rss", "feed.rss", [
        "Azure OpenAI Service - Degraded availability in East US"], []),
    "mistral": ("instatus-summary.json", "summary.json", [  # two active incidents and one maintenance
        "Elevated error rates on La Plateforme API", "Le Chat slow responses", "Database maintenance"], []),
    "xai": ("history.rss", "history.rss", [
        "Elevated latency on Gemini API", "Gemini Code Assist degraded"], []),
    "together": ("betterstack-index.json", "index.json", [
        "Serverless inference errors", "Fine-tuning queue delays"], []),
}
PARSED_PLATFORMS = {"statuspage", "incident_io", "google_cloud", "aws_health", "azure_rss", "instatus", "rss",
                    "betterstack"}


def snapshot_file(provider: str) -> str:
    return f"raw/status_pages/{provider}/{STAMP}-{LANDED[provider][1]}"


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dg.ExecuteInProcessResult]:
    """The ten providers configured by name, one snapshot each, and one run of the status-page stage."""
    data = tmp_path_factory.mktemp("catalogue") / "data"
    (data / "config").mkdir(parents=True)
    (data / "config/providers.yaml").write_text(
        "analysis: {start: 2025-12-01, end: 2026-03-15}\n"  # the demo scenario's window
        "app_store: {countries: [us], charts: [top-free], feed_url: 'https://rss.marketingtools.apple.com/api/v2/"
        "{country}/apps/{chart}/100/apps.json'}\nproviders:\n"
        + "".join(f"  {provider}: {{}}\n" for provider in LANDED))
    for provider, (fixture, _, _, _) in LANDED.items():
        (data / snapshot_file(provider)).parent.mkdir(parents=True)
        shutil.copy(FIXTURES / fixture, data / snapshot_file(provider))
    workspace = Workspace(data_dir=str(data), reports_dir=str(data.parent / "reports"),
                          config_path=str(data / "config/providers.yaml"))
    return workspace, dg.materialize([status_pages, incidents], resources={"workspace": workspace})


def query(workspace: Workspace, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(Path(workspace.data_dir) / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def test_the_ten_cover_every_parsed_platform_the_catalogue_uses():
    catalogue = load_catalogue()
    assert len(catalogue) >= 30 and set(LANDED) <= set(catalogue)
    used = {entry.status_page.kind for entry in catalogue.values()}
    assert {catalogue[provider].status_page.kind for provider in LANDED} == used & PARSED_PLATFORMS


def test_the_stage_runs_with_every_check_passed_and_no_platform_switch(stage):
    workspace, result = stage
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 7 and all(check.passed for check in checks)  # a suite per table, the mart's, the warning
    assert any(check.check_name == PLATFORM_CHECK for check in checks)
    snapshots = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                     if e.materialization.asset_key.path == ["staging", "status_snapshots"])
    assert snapshots["platform_changes"].value == "none"
    assert snapshots["providers"].value == ", ".join(sorted(LANDED))
    staged = next(e.materialization.metadata for e in result.get_asset_materialization_events()
                  if e.materialization.asset_key.path == ["staging", "status_incidents"])
    listed = sum(len(accepted) + len(refused) for _, _, accepted, refused in LANDED.values())
    assert (staged["rows_in"].value, staged["rows_accepted"].value, staged["rows_quarantined"].value) == (
        listed, listed - 1, 1) == (18, 17, 1)
    assert query(workspace, "SELECT count(*) FROM marts.incidents") == [(17,)]


@pytest.mark.parametrize("provider", sorted(LANDED))
def test_each_provider_lands_exactly_its_fixtures_incidents(stage, provider):
    workspace, _ = stage
    kind = load_catalogue()[provider].status_page.kind
    _, _, accepted, refused = LANDED[provider]
    file = snapshot_file(provider)
    assert query(workspace, "SELECT file, page_kind, configured_kind, incidents FROM staging.status_snapshots "
                            "WHERE provider = ?", provider) == [(file, kind, kind, len(accepted) + len(refused))]
    staged = query(workspace, "SELECT title, page_kind, snapshot_file FROM staging.status_incidents "
                              "WHERE provider = ? ORDER BY title", provider)
    assert staged == [(title, kind, file) for title in sorted(accepted)]
    mart = query(workspace, "SELECT title FROM marts.incidents WHERE provider = ? ORDER BY title", provider)
    assert mart == [(title,) for title in sorted(accepted)]
    rejected = query(workspace, "SELECT record_no, reason FROM quarantine.rejected_rows WHERE file = ?", file)
    assert len(rejected) == len(refused)  # rows in = accepted + quarantined, for this file
    assert all(reason.startswith("created_at: missing") for _, reason in rejected)


def test_incidents_check_accepts_the_config(stage):
    workspace, _ = stage
    env = {"INCIDENTS_DATA_DIR": workspace.data_dir, "INCIDENTS_REPORTS_DIR": workspace.reports_dir,
           "INCIDENTS_CONFIG": workspace.config_path}
    result = CliRunner().invoke(app, ["check"], env=env)
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
