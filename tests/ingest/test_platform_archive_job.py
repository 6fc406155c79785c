"""pipelines/archive.py: the hourly archive job, run for real against a local page (127.0.0.1 only)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.archive import archive_status_pages_job, archive_status_pages_schedule

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status_pages"


class _Page(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        body = self.server.body if self.path == "/summary.json" else b'{"error": "not found"}'  # type: ignore[attr-defined]
        self.send_response(200 if self.path == "/summary.json" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def page():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.body = (FIXTURES / "instatus-summary.json").read_bytes()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_archive_job_stores_changes_only(data_dir, workspace, page, monkeypatch):
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    config = data_dir / "config/providers.yaml"
    raw = yaml.safe_load(config.read_text())
    entry = dict(raw["providers"]["anthropic"],
                 status_page={"kind": "instatus", "url": f"http://127.0.0.1:{page.server_address[1]}"})
    raw["providers"] = {"mistral": entry}
    config.write_text(yaml.safe_dump(raw, sort_keys=False))
    folder = data_dir / "raw/status_pages/mistral"

    def run() -> dict:
        result = archive_status_pages_job.execute_in_process(resources={"workspace": workspace})
        assert result.success
        (event,) = [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]
        return {k: v.value for k, v in event.event_specific_data.metadata.items()}

    assert run() == {"written": 1, "unchanged": 0, "errors": "none", "platform_changes": "none"}
    assert run()["unchanged"] == 1  # the next hour, the same page: nothing stored
    assert len(list(folder.iterdir())) == 1
    page.body = page.body.replace(b"IDENTIFIED", b"RESOLVED")
    assert run()["written"] == 1
    assert len(list(folder.iterdir())) == 2
    assert not (data_dir / "raw/app_rankings").exists()  # status pages only


def test_schedule_is_hourly_and_off_by_default():
    assert archive_status_pages_schedule.cron_schedule == "7 * * * *"
    assert archive_status_pages_schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert archive_status_pages_schedule.job_name == "archive_status_pages_job"
