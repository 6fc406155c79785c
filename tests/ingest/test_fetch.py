"""`fetch_all` against a real local HTTP server that misbehaves in the ways live status pages do.

Everything runs on 127.0.0.1 (port 0); nothing contacts the internet. `sleep` is injected, so backoff
costs no time and the delays asked for can be asserted.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from assets.ingest.fetch import fetch_all
from assets.ingest.fetch_checks import validate_body
from assets.ingest.http_retry import USER_AGENT, FetchError, FetchOptions, make_client, retry_delay
from pipelines.core.config import load_providers
from pipelines.core.files import write_atomic
from pipelines.core.settings import get_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status_pages"
SP_INCIDENTS = (FIXTURES / "statuspage-incidents.json").read_bytes()
SP_SUMMARY = (FIXTURES / "statuspage-summary.json").read_bytes()
IO_INCIDENTS = (FIXTURES / "incident_io-incidents.json").read_bytes()
IO_SUMMARY = (FIXTURES / "incident_io-summary.json").read_bytes()
ATOM = (FIXTURES / "history.atom").read_bytes()
RSS = (FIXTURES / "history.rss").read_bytes()
INSTATUS = (FIXTURES / "instatus-summary.json").read_bytes()
BETTERSTACK = (FIXTURES / "betterstack-index.json").read_bytes()
ROOTLY = (FIXTURES / "rootly-incidents.json").read_bytes()
GOOGLE = (FIXTURES / "google_cloud-incidents.json").read_bytes()
AZURE = (FIXTURES / "azure-status.rss").read_bytes()
APPLE = b'{"feed": {"title": "Top Free Apps", "country": "us", "updated": "2026-03-02T12:00:00Z", "results": []}}'
TOKEN = "s3cr3t-t0ken-9f8e7d"
NOW = dt.datetime(2026, 3, 2, 12, 5, 0, tzinfo=dt.UTC)
STAMP = "20260302T120500Z"
OPTIONS = FetchOptions(timeout_s=5.0, backoff_base_s=0.5, retry_after_cap_s=60.0, deadline_s=30.0)
FAST_TIMEOUT = FetchOptions(timeout_s=0.2, backoff_base_s=0.5, deadline_s=30.0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json", extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # one branch per misbehaviour
        server: _Server = self.server  # type: ignore[assignment]
        path = self.path.split("?")[0]
        with server.lock:
            server.requests.append((path, dict(self.headers)))
            server.hits[path] = hits = server.hits.get(path, 0) + 1
        prefix, _, rest = path.lstrip("/").partition("/")
        summary = rest.endswith("summary.json")
        if prefix in ("sp", "slow", "flaky", "limited", "limitdate", "truncated", "html", "loop", "huge",
                      "declared") and summary:
            return self._send(200, SP_SUMMARY)
        if prefix == "sp":
            return self._send(200, SP_INCIDENTS)
        if prefix == "io":
            return self._send(200, IO_SUMMARY if summary else IO_INCIDENTS)
        if prefix == "moved":  # the page moved to Instatus: every path answers with Instatus's summary
            return self._send(200, INSTATUS)
        if path in ("/inst/summary.json", "/bs/index.json", "/rt/api/v1/incidents.json", "/gcp/incidents.json"):
            return self._send(200, {"inst": INSTATUS, "bs": BETTERSTACK, "rt": ROOTLY, "gcp": GOOGLE}[prefix])
        if prefix == "aws":
            return self._send(200, b"[]")  # the AWS dashboard with nothing to report
        if prefix == "azure.rss":
            return self._send(200, AZURE, "application/rss+xml; charset=utf-8")
        if prefix == "changing":  # the same body until the test changes server.body
            return self._send(200, server.body)
        if prefix == "feed.atom":
            return self._send(200, ATOM, "application/atom+xml; charset=utf-8")
        if prefix == "feed.rss":
            return self._send(200, RSS, "application/rss+xml")
        if prefix == "private":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(401, b'{"error": "unauthorized"}')
            return self._send(200, SP_SUMMARY if summary else SP_INCIDENTS)
        if prefix == "slow":
            time.sleep(0.6)
            return self._send(200, SP_INCIDENTS)
        if prefix == "flaky":
            if hits <= 3:
                return self._send((500, 502, 503)[hits - 1], b"<html>oops</html>", "text/html")
            return self._send(200, SP_INCIDENTS)
        if prefix == "limited":
            if hits == 1:
                return self._send(429, b'{"error": "slow down"}', extra={"Retry-After": "7"})
            return self._send(200, SP_INCIDENTS)
        if prefix == "limitdate":
            if hits == 1:
                later = "Wed, 21 Oct 2099 07:28:00 GMT"
                return self._send(429, b"", extra={"Retry-After": later})
            return self._send(200, SP_INCIDENTS)
        if prefix == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(SP_INCIDENTS)))
            self.end_headers()
            self.wfile.write(SP_INCIDENTS[:200])
            self.wfile.flush()
            self.close_connection = True
            return None
        if prefix == "html":
            return self._send(200, b"<!DOCTYPE html><html><body>Status page</body></html>", "text/html")
        if prefix == "plain":
            return self._send(200, IO_SUMMARY if summary else IO_INCIDENTS, "text/plain")
        if prefix == "loop":
            self.send_response(302)
            self.send_header("Location", path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if prefix == "huge":  # 50 MB with no declared length: the cap must trip while streaming
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            chunk = b" " * (1024 * 1024)
            try:
                self.wfile.write(b'{"incidents": [')
                for _ in range(50):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if prefix == "declared":  # announces 50 MB up front
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(b'{"incidents": [')
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if prefix == "apple":
            country = rest.split("/")[0]
            if country == "gb":
                return self._send(503, b"unavailable", "text/plain")
            return self._send(200, APPLE.replace(b'"us"', f'"{country}"'.encode()))
        return self._send(404, b'{"error": "not found"}')


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict]] = []
        self.hits: dict[str, int] = {}
        self.body = SP_INCIDENTS

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server():
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def client():
    with make_client(OPTIONS, trust_env=False) as c:
        yield c


def configure(data_dir: Path, server: _Server, pages: dict[str, tuple[str, str]], countries=("us",),
              token_env: dict[str, str] | None = None):
    """Write a providers.yaml whose status pages point at the local server: {provider: (kind, path)}."""
    path = data_dir / "config" / "providers.yaml"
    raw = yaml.safe_load(path.read_text())
    template = raw["providers"]["anthropic"]
    providers = {}
    for name, (kind, url_path) in pages.items():
        entry = dict(template, status_page={"kind": kind, "url": server.base + url_path})
        if token_env and name in token_env:
            entry["status_page"]["token_env"] = token_env[name]
        providers[name] = entry
    raw["providers"] = providers
    raw["app_store"] = {"countries": list(countries), "charts": ["top-free"],
                        "feed_url": server.base + "/apple/{country}/{chart}.json"}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_providers(path)


def run(config, client, sleeps: list[float] | None = None, options: FetchOptions = OPTIONS, now=NOW):
    sleeps = [] if sleeps is None else sleeps
    return fetch_all(get_settings(), config, client=client, now=now, sleep=sleeps.append, options=options)


def listing(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_happy_path_statuspage_incident_io_atom_rss_and_app_store(data_dir, server, client):
    config = configure(data_dir, server, {
        "anthropic": ("statuspage", "/sp"), "openai": ("incident_io", "/io"),
        "google": ("atom", "/feed.atom"), "rssco": ("rss", "/feed.rss"),
    })
    report = run(config, client)
    assert report.ok, report.errors
    raw = data_dir / "raw"
    assert listing(raw) == {
        f"status_pages/anthropic/{STAMP}-incidents.json": SP_INCIDENTS,
        f"status_pages/anthropic/{STAMP}-summary.json": SP_SUMMARY,
        f"status_pages/openai/{STAMP}-incidents.json": IO_INCIDENTS,
        f"status_pages/openai/{STAMP}-summary.json": IO_SUMMARY,
        f"status_pages/google/{STAMP}.atom": ATOM,
        f"status_pages/rssco/{STAMP}.rss": RSS,
        "app_rankings/2026-03-02/us-top-free.json": APPLE,
    }
    assert sorted(report.written) == sorted(f"raw/{p}" for p in listing(raw))
    assert {path for path, _ in server.requests} >= {"/sp/api/v2/incidents.json", "/sp/api/v2/summary.json",
                                                     "/io/api/v2/incidents.json", "/feed.atom",
                                                     "/apple/us/top-free.json"}
    assert all(headers.get("User-Agent") == USER_AGENT for _, headers in server.requests)
    assert "incidents-fetch" in USER_AGENT


def test_server_errors_then_success_are_retried_with_exponential_backoff(data_dir, server, client):
    config = configure(data_dir, server, {"anthropic": ("statuspage", "/flaky")})
    sleeps: list[float] = []
    report = run(config, client, sleeps)
    assert report.ok, report.errors
    assert server.hits["/flaky/api/v2/incidents.json"] == 4  # 500, 502, 503, then 200
    assert sleeps == [0.5, 1.0, 2.0]
    written = data_dir / "raw/status_pages/anthropic" / f"{STAMP}-incidents.json"
    assert written.read_bytes() == SP_INCIDENTS


@pytest.mark.parametrize("route, expected_delay", [("/limited", 7.0), ("/limitdate", 60.0)])
def test_429_honours_retry_after_seconds_and_http_date_capped(data_dir, server, client, route, expected_delay):
    config = configure(data_dir, server, {"anthropic": ("statuspage", route)})
    sleeps: list[float] = []
    report = run(config, client, sleeps)
    assert report.ok, report.errors
    assert sleeps == [expected_delay]  # Retry-After: 7 -> 7 s; a date in 2099 -> the 60 s cap


def test_timeouts_are_retried_then_reported_and_earlier_snapshots_untouched(data_dir, server):
    config = configure(data_dir, server, {"anthropic": ("statuspage", "/slow"), "openai": ("incident_io", "/io")})
    folder = data_dir / "raw/status_pages/anthropic"
    folder.mkdir(parents=True)
    (folder / "20260301T000000Z-incidents.json").write_bytes(b'{"incidents": []}')
    before = listing(folder)
    sleeps: list[float] = []
    started = time.monotonic()
    with make_client(FAST_TIMEOUT, trust_env=False) as fast:
        report = run(config, fast, sleeps, options=FAST_TIMEOUT)
    assert time.monotonic() - started < 10
    assert len(report.errors) == 1
    line = report.errors[0]
    assert line.startswith("anthropic: incidents.json") and "timed out" in line and "after 4 attempts" in line
    assert sleeps == [0.5, 1.0, 2.0]
    after = listing(folder)
    assert {k: v for k, v in after.items() if k in before} == before  # byte-identical
    assert set(after) - set(before) == {f"{STAMP}-summary.json"}  # the page's other endpoint still landed
    assert (data_dir / f"raw/status_pages/openai/{STAMP}-incidents.json").read_bytes() == IO_INCIDENTS


def test_truncated_body_is_never_written(data_dir, server, client):
    config = configure(data_dir, server, {"anthropic": ("statuspage", "/truncated")})
    folder = data_dir / "raw/status_pages/anthropic"
    folder.mkdir(parents=True)
    (folder / "20260301T000000Z-incidents.json").write_bytes(SP_INCIDENTS)
    before = listing(folder)
    report = run(config, client)
    assert len(report.errors) == 1 and "RemoteProtocolError" in report.errors[0], report.errors
    assert server.hits["/truncated/api/v2/incidents.json"] == OPTIONS.max_attempts
    after = listing(folder)
    assert after["20260301T000000Z-incidents.json"] == before["20260301T000000Z-incidents.json"]
    assert f"{STAMP}-incidents.json" not in after
    assert not [name for name in after if name.startswith(".")]  # no temp file left behind


def test_html_instead_of_json_is_refused_without_retry(data_dir, server, client):
    config = configure(data_dir, server, {"anthropic": ("statuspage", "/html"), "openai": ("incident_io", "/io")})
    sleeps: list[float] = []
    report = run(config, client, sleeps)
    assert report.errors == [
        (f"anthropic: incidents.json ({server.base}/html/api/v2/incidents.json): got an HTML page instead of JSON "
         "(Content-Type text/html)")
    ]
    assert sleeps == []
    assert not (data_dir / f"raw/status_pages/anthropic/{STAMP}-incidents.json").exists()
    assert (data_dir / f"raw/status_pages/openai/{STAMP}-summary.json").exists()


def test_valid_json_with_wrong_content_type_is_accepted(data_dir, server, client):
    config = configure(data_dir, server, {"openai": ("incident_io", "/plain")})
    report = run(config, client)
    assert report.ok, report.errors
    assert (data_dir / f"raw/status_pages/openai/{STAMP}-incidents.json").read_bytes() == IO_INCIDENTS


def test_redirect_loop_is_cut_off(data_dir, server, client):
    config = configure(data_dir, server, {"anthropic": ("statuspage", "/loop")})
    report = run(config, client)
    assert len(report.errors) == 1 and "too many redirects" in report.errors[0]
    assert server.hits["/loop/api/v2/incidents.json"] == OPTIONS.max_redirects + 1


@pytest.mark.parametrize("route", ["/huge", "/declared"])
def test_fifty_megabyte_body_hits_the_size_cap(data_dir, server, client, route):
    config = configure(data_dir, server, {"anthropic": ("statuspage", route)})
    report = run(config, client)
    assert len(report.errors) == 1 and "byte cap" in report.errors[0], report.errors
    assert not (data_dir / f"raw/status_pages/anthropic/{STAMP}-incidents.json").exists()
    assert not [p for p in (data_dir / "raw/status_pages/anthropic").iterdir() if p.name.startswith(".")]


def test_one_line_per_failing_provider_while_others_succeed(data_dir, server, client):
    config = configure(data_dir, server, {
        "anthropic": ("statuspage", "/sp"), "broken": ("statuspage", "/html"), "loopy": ("atom", "/loop/feed"),
        "google": ("atom", "/feed.atom"),
    }, countries=("us", "gb"))
    report = run(config, client)
    assert [line.split(":")[0] for line in report.errors] == ["broken", "loopy", "app_store gb/top-free (http"]
    assert "HTTP 503 after 4 attempts" in report.errors[2]
    assert f"raw/status_pages/anthropic/{STAMP}-incidents.json" in report.written
    assert f"raw/status_pages/google/{STAMP}.atom" in report.written
    assert "raw/app_rankings/2026-03-02/us-top-free.json" in report.written


def test_bearer_token_is_sent_but_never_logged_or_reported(data_dir, server, client, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("INCIDENTS_TEST_TOKEN", TOKEN)
    config = configure(data_dir, server, {"private": ("statuspage", "/private"), "broken": ("statuspage", "/html")},
                       token_env={"private": "INCIDENTS_TEST_TOKEN", "broken": "INCIDENTS_TEST_TOKEN"})
    report = run(config, client)
    assert [line.split(":")[0] for line in report.errors] == ["broken"]
    sent = [h.get("Authorization") for p, h in server.requests if p.startswith("/private/")]
    assert sent == [f"Bearer {TOKEN}"] * 2
    assert not any(h.get("Authorization") for p, h in server.requests if p.startswith("/apple/"))
    everything = caplog.text + "\n".join(report.lines()) + repr(report)
    assert TOKEN not in everything
    assert "private" in caplog.text or report.written  # the run did log and write


def test_wrong_or_missing_token_is_one_clear_error(data_dir, server, client, monkeypatch, caplog):
    monkeypatch.setenv("INCIDENTS_TEST_TOKEN", "wrong-" + TOKEN)
    monkeypatch.delenv("INCIDENTS_MISSING_TOKEN", raising=False)
    config = configure(data_dir, server, {"private": ("statuspage", "/private"), "absent": ("statuspage", "/sp")},
                       token_env={"private": "INCIDENTS_TEST_TOKEN", "absent": "INCIDENTS_MISSING_TOKEN"})
    report = run(config, client)
    assert len(report.errors) == 2
    assert report.errors[0].startswith("private: incidents.json") and "HTTP 401" in report.errors[0]
    assert "token_env" in report.errors[0]
    assert "INCIDENTS_MISSING_TOKEN" in report.errors[1] and "not set" in report.errors[1]
    assert TOKEN not in caplog.text + "\n".join(report.lines())
    assert not any(p.startswith("/sp/") for p, _ in server.requests)


def test_a_second_fetch_in_the_same_second_never_overwrites(data_dir, server, client):
    config = configure(data_dir, server, {"anthropic": ("statuspage", "/sp")})
    folder = data_dir / "raw/status_pages/anthropic"
    folder.mkdir(parents=True)
    (folder / f"{STAMP}-incidents.json").write_bytes(b'{"incidents": []}')
    report = run(config, client)
    assert report.ok
    assert (folder / f"{STAMP}-incidents.json").read_bytes() == b'{"incidents": []}'
    assert (folder / "20260302T120501Z-incidents.json").read_bytes() == SP_INCIDENTS


def test_retry_delay_parses_seconds_dates_and_garbage():
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    assert retry_delay(1, "12", OPTIONS, now) == 12.0
    assert retry_delay(1, "Mon, 02 Mar 2026 12:00:30 GMT", OPTIONS, now) == 30.0
    assert retry_delay(1, "Mon, 02 Mar 2026 11:00:00 GMT", OPTIONS, now) == 0.0  # in the past: go now
    assert retry_delay(1, "100000", OPTIONS, now) == OPTIONS.retry_after_cap_s
    assert retry_delay(3, "soon-ish", OPTIONS, now) == 2.0  # unparsable: plain backoff
    assert retry_delay(20, None, OPTIONS, now) == OPTIONS.backoff_cap_s


@pytest.mark.parametrize("body, expect, content_type, message", [
    (b"", "incidents", "application/json", "empty"),
    (b'{"incidents": [', "incidents", "application/json", "not valid JSON"),
    (b"<html><body>hi</body></html>", "summary", "text/html", "HTML page instead of JSON"),
    (b'{"page": {}}', "summary", "application/json", "no top-level 'components'"),
    (b'{"incidents": {}}', "incidents", "application/json", "not a list"),
    (b'{"feed": []}', "app_feed", "application/json", "not a dict"),
    (b"<!DOCTYPE html><html></html>", "history_feed", "text/html", "HTML page instead of an Atom/RSS feed"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><feed/>', "history_feed", "application/xml", "DOCTYPE"),
    (b"<feed><entry>", "history_feed", "application/atom+xml", "not well-formed"),
    (b"<channel/>", "history_feed", "application/xml", "neither an Atom"),
])
def test_validate_body_refuses_what_the_url_should_not_serve(body, expect, content_type, message):
    with pytest.raises(FetchError, match=message):
        validate_body(body, expect, content_type)


def test_write_atomic_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "a" / "file.json"
    write_atomic(target, b"one")
    assert target.read_bytes() == b"one"

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("pipelines.core.files.os.replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, b"two")
    assert target.read_bytes() == b"one"
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]


def test_default_client_has_timeouts_redirect_limit_and_user_agent():
    with make_client(FetchOptions(timeout_s=3.0, max_redirects=4)) as c:
        assert c.timeout == httpx.Timeout(3.0)
        assert c.max_redirects == 4 and c.follow_redirects
        assert c.headers["User-Agent"] == USER_AGENT


def test_every_platform_is_fetched_from_its_documented_endpoint(data_dir, server, client):
    config = configure(data_dir, server, {
        "mistral": ("instatus", "/inst"), "together": ("betterstack", "/bs"), "acme": ("rootly", "/rt"),
        "google": ("google_cloud", "/gcp/incidents.json"), "aws": ("aws_health", "/aws/currentevents"),
        "azure": ("azure_rss", "/azure.rss"), "openrouter": ("onlineornot", "/oo"),
    })
    report = run(config, client)
    assert sorted(p.removeprefix("raw/status_pages/") for p in report.written if "status_pages" in p) == sorted([
        f"mistral/{STAMP}-instatus.json", f"together/{STAMP}-betterstack.json", f"acme/{STAMP}-rootly.json",
        f"google/{STAMP}-google_cloud.json", f"aws/{STAMP}-aws_health.json", f"azure/{STAMP}-azure.rss"])
    assert (data_dir / f"raw/status_pages/aws/{STAMP}-aws_health.json").read_bytes() == b"[]"
    assert report.errors == [("openrouter: status_page.kind onlineornot publishes no machine-readable feed we read "
                             "(OnlineOrNot and Flashduty pages document none); point the provider at a feed it "
                             "does publish")]
    assert report.hints == []  # every page serves the platform its config names


def test_a_page_that_moved_platform_gets_a_one_line_hint_and_the_old_archive_stays(data_dir, server, client):
    config = configure(data_dir, server, {"mistral": ("statuspage", "/moved"), "anthropic": ("statuspage", "/sp")})
    folder = data_dir / "raw/status_pages/mistral"
    folder.mkdir(parents=True)
    (folder / "20260301T000000Z-incidents.json").write_bytes(SP_INCIDENTS)
    before = listing(folder)
    report = run(config, client)
    hint = f"page {server.base}/moved (mistral) now looks like platform instatus; set kind: instatus"
    assert report.hints == [hint] and hint in report.lines()
    assert report.ok  # a hint, not an error
    after = listing(folder)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {f"{STAMP}-instatus.json"}  # archived under what it is
    assert after[f"{STAMP}-instatus.json"] == INSTATUS
    assert "/moved/api/v2/summary.json" not in server.hits  # the page's other document would say the same
    assert (data_dir / f"raw/status_pages/anthropic/{STAMP}-incidents.json").exists()


def test_cli_fetch_prints_the_hint(data_dir, server, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    configure(data_dir, server, {"mistral": ("statuspage", "/moved")}, countries=())
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    result = CliRunner().invoke(app, ["fetch"], env={"COLUMNS": "250", "NO_PROXY": "127.0.0.1"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "now looks like" in line]
    assert lines == [f"page {server.base}/moved (mistral) now looks like platform instatus; set kind: instatus"]


def test_dedup_stores_a_page_only_when_it_changed(data_dir, server, client):
    config = configure(data_dir, server, {"anthropic": ("instatus", "/changing")}, countries=())
    server.body = INSTATUS
    first = fetch_all(get_settings(), config, client=client, now=NOW, sleep=[].append, dedup=True)
    second = fetch_all(get_settings(), config, client=client, now=NOW + dt.timedelta(hours=1), sleep=[].append,
                       dedup=True)
    assert first.written == [f"raw/status_pages/anthropic/{STAMP}-instatus.json"]
    assert second.written == [] and second.unchanged == first.written
    assert "unchanged since raw/status_pages/anthropic/" in second.lines()[0]
    server.body = INSTATUS.replace(b"IDENTIFIED", b"MONITORING")
    third = fetch_all(get_settings(), config, client=client, now=NOW + dt.timedelta(hours=2), sleep=[].append,
                      dedup=True)
    assert third.written == ["raw/status_pages/anthropic/20260302T140500Z-instatus.json"]
    server.body = INSTATUS  # back to an older body: compared with the newest snapshot only, so stored again
    fourth = fetch_all(get_settings(), config, client=client, now=NOW + dt.timedelta(hours=3), sleep=[].append,
                       dedup=True)
    assert len(fourth.written) == 1
    without = run(config, client, now=NOW + dt.timedelta(hours=4))  # `incidents fetch` keeps every response
    assert len(without.written) == 1
