"""Hostile input: SQL-looking values, path tricks and secrets.

- A provider, service or title such as `x'; DROP TABLE staging.incidents; --` is data: it is stored verbatim
  (or quarantined) and every table is still there afterwards.
- Names that come from data or config (provider dirs, file names, partition keys, countries) cannot make
  the pipeline read or write outside the data dir: `..`, absolute paths, NUL bytes and symlinks that
  leave the data dir are refused or ignored.
- A private status page's bearer token (from the env var its config names) never shows in logs, the fetch
  report or the CLI output, and is not forwarded when the page redirects to another origin.

The local HTTP server follows tests/ingest/test_fetch.py (127.0.0.1, port 0; nothing leaves the machine).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from assets.ingest import app_rankings as app_ingest
from assets.ingest import crowd_reports as crowd_ingest
from assets.ingest.fetch import FetchOptions, fetch_all, make_client
from assets.marts.incidents.assets import incidents
from assets.staging.app_rankings import app_ranks
from assets.staging.crowd_reports import crowd_reports
from assets.staging.status_pages import status_pages
from pipelines.core.config import load_providers
from pipelines.core.settings import UnsafePathError, safe_path
from pipelines.core.warehouse import connect, replace_table, replace_where

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = "2026-03-02"
PAYLOADS = [
    "x'; DROP TABLE staging.incidents; --",
    "x\"; DROP TABLE staging.status_incidents; --",
    "'); DELETE FROM quarantine.rejected_rows; --",
    "' OR '1'='1",
    "Robert'); DROP TABLE staging.crowd_reports;--",
]
TOKEN = "sk-private-9f8e7d6c5b4a-TOKEN"
WRONG_TOKEN = "sk-wrong-0a1b2c3d4e5f-TOKEN"
NOW = dt.datetime(2026, 3, 2, 12, 5, tzinfo=dt.UTC)


def tables_and_counts(warehouse, workspace) -> dict[str, int]:
    names = [f"{r['table_schema']}.{r['table_name']}" for r in warehouse.query(
        workspace, "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL")]
    return {name: warehouse.query(workspace, f"SELECT count(*) AS n FROM {name}")[0]["n"] for name in names}


def seed_warehouse(workspace) -> None:
    """A sentinel staging.incidents table (the payload's target) and the status tables from good snapshots."""
    folder = workspace.settings.data_dir / "raw/status_pages/anthropic"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "status_pages/statuspage-incidents.json", folder / "20260301T000000Z-incidents.json")
    assert dg.materialize([status_pages], resources={"workspace": workspace}).success
    with connect(workspace.settings.warehouse_path) as con:
        replace_table(con, "staging.incidents", pl.DataFrame({"sentinel": [1, 2, 3]}))


# ------------------------------------------------------------------------------------------------
# SQL-looking values are data
# ------------------------------------------------------------------------------------------------
def test_sql_in_crowd_services_and_status_titles_is_stored_verbatim_and_drops_nothing(fresh_workspace, warehouse):
    workspace = fresh_workspace("sec_sql")
    seed_warehouse(workspace)
    before = tables_and_counts(warehouse, workspace)
    assert before["staging.incidents"] == 3

    folder = workspace.settings.data_dir / "raw/crowd_reports" / DAY
    folder.mkdir(parents=True)
    lines = [json.dumps({"timestamp": f"2026-03-02T12:0{i}:00Z", "service": p, "country": "us", "reports": i,
                         "problem_type": p}) for i, p in enumerate(PAYLOADS)]
    (folder / "export.jsonl").write_text("\n".join(lines) + "\n")
    with open(folder / "export.csv", "w", newline="") as out:  # CSV quoting of the same values
        out.write("timestamp,service,country,reports\n")
        for i, p in enumerate(PAYLOADS):
            quoted = '"' + p.replace('"', '""') + '"'
            out.write(f"2026-03-02T13:0{i}:00Z,{quoted},gb,{i}\n")
    status_dir = workspace.settings.data_dir / "raw/status_pages/anthropic"
    document = json.loads((FIXTURES / "status_pages/statuspage-incidents.json").read_text())
    for incident, payload in zip(document["incidents"], PAYLOADS, strict=False):
        incident["name"] = payload
        incident["updated_at"] = "2026-03-10T00:00:00Z"  # newer than the seeded snapshot: this version wins
        incident["incident_updates"][0]["body"] = payload
    (status_dir / "20260310T000000Z-incidents.json").write_text(json.dumps(document))

    result = dg.materialize([crowd_reports], partition_key=DAY, resources={"workspace": workspace})
    assert result.success
    assert dg.materialize([status_pages, incidents], resources={"workspace": workspace}).success

    after = tables_and_counts(warehouse, workspace)
    assert set(before) <= set(after)  # nothing dropped
    assert after["staging.incidents"] == 3 and after["staging.status_incidents"] == before["staging.status_incidents"]
    services = warehouse.query(workspace, "SELECT service, provider, problem_type, file FROM staging.crowd_reports")
    for suffix in ("jsonl", "csv"):
        stored = {r["service"] for r in services if r["file"].endswith(suffix)}
        assert stored == set(PAYLOADS)  # verbatim, both formats
    assert {r["provider"] for r in services} == {None}  # not one of our services
    titles = {r["title"] for r in warehouse.query(workspace, "SELECT title FROM staging.status_incidents")}
    assert set(PAYLOADS[:3]) <= titles
    mart_titles = {r["title"] for r in warehouse.query(workspace, "SELECT title FROM marts.incidents")}
    assert set(PAYLOADS[:3]) <= mart_titles
    bodies = {r["body"] for r in warehouse.query(workspace, "SELECT body FROM staging.status_incident_updates")}
    assert set(PAYLOADS[:3]) <= bodies


def test_sql_in_a_provider_directory_name_and_app_names_is_quarantined_or_stored_verbatim(fresh_workspace, warehouse):
    workspace = fresh_workspace("sec_sql_names")
    seed_warehouse(workspace)
    before = tables_and_counts(warehouse, workspace)
    hostile = workspace.settings.data_dir / "raw/status_pages" / PAYLOADS[0]
    hostile.mkdir()
    shutil.copy(FIXTURES / "status_pages/statuspage-incidents.json", hostile / "20260302T000000Z-incidents.json")
    apps = workspace.settings.data_dir / "raw/app_rankings" / DAY
    apps.mkdir(parents=True)
    results = [{"id": str(100 + i), "name": p, "artistName": p} for i, p in enumerate(PAYLOADS)]
    (apps / "us-top-free.json").write_text(json.dumps({"feed": {"country": "us", "results": results}}))

    assert dg.materialize([status_pages], resources={"workspace": workspace}).success
    assert dg.materialize([app_ranks], partition_key=DAY, resources={"workspace": workspace}).success

    after = tables_and_counts(warehouse, workspace)
    assert set(before) <= set(after) and after["staging.incidents"] == 3
    rejects = warehouse.query(workspace, "SELECT file, reason FROM quarantine.rejected_rows WHERE source = ?",
                              ["status_pages"])
    assert [r["file"] for r in rejects] == [f"raw/status_pages/{PAYLOADS[0]}"]
    assert rejects[0]["reason"].startswith(f"unknown provider directory {PAYLOADS[0]!r}")
    providers = {r["provider"] for r in warehouse.query(workspace, "SELECT provider FROM staging.status_incidents")}
    assert providers == {"anthropic"}  # the hostile directory's incidents were not loaded
    names = [r["app_name"] for r in warehouse.query(workspace, "SELECT app_name FROM staging.app_ranks ORDER BY rank")]
    assert names == PAYLOADS


def test_sql_in_request_log_fields_is_quarantined_or_stored_verbatim(fresh_workspace, warehouse):
    from assets.staging.request_logs import request_logs

    workspace = fresh_workspace("sec_sql_logs")
    seed_warehouse(workspace)
    before = tables_and_counts(warehouse, workspace)
    folder = workspace.settings.data_dir / "raw/request_logs" / DAY
    folder.mkdir(parents=True)
    base = json.loads(SECRET_LOG_LINE)
    lines = [json.dumps({**base, "ts": f"2026-03-02T12:0{i}:00Z", "provider": p}) for i, p in enumerate(PAYLOADS)]
    lines += [json.dumps({**base, "ts": f"2026-03-02T13:0{i}:00Z", "model": p, "client_id": p, "error_type": p})
              for i, p in enumerate(PAYLOADS)]
    (folder / "gateway.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "gateway.csv").write_text(  # the same hostile values through the CSV reader (quoted)
        "ts,provider,model,endpoint,status,latency_ms,tokens_in,tokens_out,client_id,region\n"
        + "".join(f'2026-03-02T14:0{i}:00Z,"{p.replace(chr(34), chr(34) * 2)}",m,/e,200,1,1,1,c,r\n'
                  for i, p in enumerate(PAYLOADS)))
    assert dg.materialize([request_logs], partition_key=DAY, resources={"workspace": workspace}).success

    after = tables_and_counts(warehouse, workspace)
    assert {k: v for k, v in after.items() if k in before and k != "quarantine.rejected_rows"} == {
        k: v for k, v in before.items() if k != "quarantine.rejected_rows"}
    rejects = warehouse.query(workspace, "SELECT file, record_no, reason, raw FROM quarantine.rejected_rows "
                                         "WHERE source = 'request_logs' ORDER BY file, record_no")
    assert len(rejects) == 2 * len(PAYLOADS)  # an unknown provider is refused, with the value quoted verbatim
    for reject in rejects:
        assert reject["reason"].startswith("provider: ") and "is not a configured provider" in reject["reason"]
    jsonl = [r for r in rejects if r["file"].endswith(".jsonl")]
    assert [json.loads(r["raw"])["provider"] for r in jsonl] == PAYLOADS
    stored = warehouse.query(workspace, "SELECT model, client_id, error_type FROM staging.request_logs ORDER BY ts")
    assert [(r["model"], r["client_id"], r["error_type"]) for r in stored] == [(p, p, p) for p in PAYLOADS]


@pytest.mark.parametrize("payload", PAYLOADS[:2] + ["2026-03-02' OR '1'='1", "../2026-03-02"])
def test_hostile_partition_keys_are_refused_before_anything_runs(fresh_workspace, payload):
    workspace = fresh_workspace("sec_partition")
    with pytest.raises(dg.DagsterUnknownPartitionError):
        dg.materialize([crowd_reports], partition_key=payload, resources={"workspace": workspace})
    for module in (crowd_ingest, app_ingest):  # the parsers refuse them too, before building any path
        with pytest.raises(ValueError, match="is not a YYYY-MM-DD day"):
            module.day_files(workspace.settings.data_dir, payload)
    assert not workspace.settings.warehouse_path.exists()


@pytest.mark.parametrize("table", [PAYLOADS[0], "staging.x; DROP TABLE staging.incidents", "main.users",
                                   "staging.\"x\"", "staging.x --"])
def test_warehouse_writers_refuse_table_and_column_names_that_are_not_identifiers(tmp_path, table):
    frame = pl.DataFrame({"a": [1]})
    with connect(tmp_path / "w.duckdb") as con:
        with pytest.raises(ValueError, match="not a warehouse table name"):
            replace_table(con, table, frame)
        with pytest.raises(ValueError, match="not a column name"):
            replace_where(con, "staging.t", frame, "a; DROP TABLE staging.t", [1])
        texts = pl.DataFrame({"a": PAYLOADS})
        replace_where(con, "staging.t", texts, "a", PAYLOADS)  # values are parameters: harmless
        replace_where(con, "staging.t", texts, "a", PAYLOADS)
        assert sorted(r[0] for r in con.sql("SELECT a FROM staging.t").fetchall()) == sorted(PAYLOADS)


# ------------------------------------------------------------------------------------------------
# Paths built from data stay inside the data dir
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the data dir holding a 'secret' file; tests assert it is never read or written."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.csv").write_text("timestamp,service,country,reports\n2026-03-02T12:00:00Z,TOPSECRET,us,1\n")
    (folder / "us-top-free.json").write_text('{"feed": {"results": [{"id": "1", "name": "TOPSECRET"}]}}')
    (folder / "20260302T000000Z-incidents.json").write_text(json.dumps(
        {"incidents": [{"id": "topsecret01", "name": "TOPSECRET", "status": "resolved", "impact": "minor",
                        "created_at": "2026-03-02T10:00:00Z", "updated_at": "2026-03-02T11:00:00Z",
                        "incident_updates": []}]}))
    return folder


def listing(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("parts", [("..", "x"), ("a/../../x",), ("/etc/passwd",), ("raw", "../../x"), ("x\x00y",),
                                   ("",), ("raw/status_pages/../../../x",)])
def test_safe_path_refuses_traversal_absolute_nul_and_empty(tmp_path, parts):
    with pytest.raises(UnsafePathError):
        safe_path(tmp_path / "data", *parts)


def test_safe_path_refuses_a_symlink_that_leaves_the_base_and_allows_one_that_stays(tmp_path, outside):
    base = tmp_path / "data"
    (base / "raw" / "inside").mkdir(parents=True)
    (base / "raw" / "escape").symlink_to(outside, target_is_directory=True)
    (base / "raw" / "alias").symlink_to(base / "raw" / "inside", target_is_directory=True)
    with pytest.raises(UnsafePathError, match="outside"):
        safe_path(base, "raw", "escape", "secret.csv")
    assert safe_path(base, "raw", "alias", "f.json") == (base / "raw/inside/f.json").resolve()
    assert safe_path(base, "raw", "a..b.json").name == "a..b.json"  # '..' inside a name is just a name


def test_status_archive_ignores_symlinks_that_leave_the_data_dir(fresh_workspace, warehouse, outside):
    workspace = fresh_workspace("sec_status_links")
    root = workspace.settings.data_dir / "raw/status_pages"
    (root / "anthropic").mkdir(parents=True)
    (root / "openai").symlink_to(outside, target_is_directory=True)  # a provider directory that leaves
    (root / "anthropic" / "20260302T000000Z-incidents.json").symlink_to(outside / "20260302T000000Z-incidents.json")
    shutil.copy(FIXTURES / "status_pages/statuspage-incidents.json", root / "anthropic/20260301T000000Z-incidents.json")
    before = listing(outside)
    assert dg.materialize([status_pages], resources={"workspace": workspace}).success
    rejects = {r["file"]: r["reason"] for r in warehouse.query(workspace, "SELECT file, reason FROM quarantine.rejected_rows")}
    assert "outside" in rejects["raw/status_pages/openai"]
    assert "outside" in rejects["raw/status_pages/anthropic/20260302T000000Z-incidents.json"]
    titles = {r["title"] for r in warehouse.query(workspace, "SELECT title FROM staging.status_incidents")}
    assert titles and "TOPSECRET" not in titles
    assert listing(outside) == before


def test_a_day_folder_symlinked_outside_the_data_dir_is_refused_not_read(fresh_workspace, warehouse, outside):
    workspace = fresh_workspace("sec_day_link")
    raw = workspace.settings.data_dir / "raw/crowd_reports"
    raw.mkdir(parents=True)
    (raw / DAY).symlink_to(outside, target_is_directory=True)
    before = listing(outside)
    result = dg.materialize([crowd_reports], partition_key=DAY, resources={"workspace": workspace},
                            raise_on_error=False)
    assert not result.success  # the step stops with UnsafePathError naming the folder
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "UnsafePathError" in str(failure.event_specific_data.error) and "outside" in str(
        failure.event_specific_data.error)
    assert listing(outside) == before
    if workspace.settings.warehouse_path.exists():
        rows = warehouse.query(workspace, "SELECT count(*) AS n FROM information_schema.tables "
                                          "WHERE table_name = 'crowd_reports'")
        assert rows[0]["n"] == 0


SECRET_LOG_LINE = json.dumps({"ts": "2026-03-02T12:00:00Z", "provider": "anthropic", "model": "TOPSECRET",
                              "endpoint": "/v1/messages", "status": 200, "latency_ms": 1, "tokens_in": 1,
                              "tokens_out": 1, "client_id": "c", "region": "r"}) + "\n"


@pytest.mark.parametrize("source", [
    "crowd_reports", "app_rankings",
    "request_logs",
])
def test_a_file_symlinked_outside_the_data_dir_is_not_loaded(fresh_workspace, warehouse, outside, source):
    from assets.staging.request_logs import request_logs

    workspace = fresh_workspace(f"sec_file_link_{source}")
    folder = workspace.settings.data_dir / "raw" / source / DAY
    folder.mkdir(parents=True)
    link, target, asset, table = {
        "crowd_reports": ("secret.csv", "secret.csv", crowd_reports, "staging.crowd_reports"),
        "app_rankings": ("us-top-free.json", "us-top-free.json", app_ranks, "staging.app_ranks"),
        "request_logs": ("secret.jsonl", "secret.jsonl", request_logs, "staging.request_logs"),
    }[source]
    (outside / "secret.jsonl").write_text(SECRET_LOG_LINE)
    (folder / link).symlink_to(outside / target)
    assert dg.materialize([asset], partition_key=DAY, resources={"workspace": workspace}).success
    loaded = warehouse.query(workspace, f"SELECT * FROM {table}")
    rejects = warehouse.query(workspace, "SELECT * FROM quarantine.rejected_rows")
    assert "TOPSECRET" not in repr(loaded) + repr(rejects)
    assert len(rejects) == 1  # refused with a reason naming the symlink, like status pages do
    assert rejects[0]["record_no"] == 0 and rejects[0]["reason"].startswith("file: symlink leaving the data dir")




def test_request_logs_never_write_through_a_lake_symlink_that_leaves_the_data_dir(fresh_workspace, outside):
    from assets.staging.request_logs import request_logs

    workspace = fresh_workspace("sec_lake_link")
    folder = workspace.settings.data_dir / "raw/request_logs" / DAY
    copy = FIXTURES / "request_logs/good" / DAY / "gateway.jsonl"
    folder.mkdir(parents=True)
    shutil.copy(copy, folder / copy.name)
    workspace.settings.lake_dir.mkdir()
    (workspace.settings.lake_dir / "request_logs").symlink_to(outside, target_is_directory=True)
    before = listing(outside)
    dg.materialize([request_logs], partition_key=DAY, resources={"workspace": workspace}, raise_on_error=False)
    assert listing(outside) == before


def test_fetch_never_writes_through_a_raw_symlink_that_leaves_the_data_dir(fresh_workspace, servers, outside,
                                                                           monkeypatch):
    server, _ = servers
    workspace = fresh_workspace("sec_raw_link")
    monkeypatch.setenv("INCIDENTS_PRIVATE_TOKEN", TOKEN)
    config = configure(workspace.settings.config_path, server, {"anthropic": "/private"})
    workspace.settings.raw_dir.symlink_to(outside, target_is_directory=True)
    before = listing(outside)
    report = fetch(workspace, config)  # no crash: one error line per provider and per chart feed
    assert listing(outside) == before
    assert report.written == [] and len(report.errors) == 2, report.errors
    assert report.errors[0].startswith("anthropic: refusing path") and "outside" in report.errors[0]
    assert report.errors[1].startswith("app_store us/top-free: cannot build the feed URL or path: refusing path")


# ------------------------------------------------------------------------------------------------
# The fetcher: where it writes, and the private page token
# ------------------------------------------------------------------------------------------------
SP_INCIDENTS = (FIXTURES / "status_pages/statuspage-incidents.json").read_bytes()
SP_SUMMARY = (FIXTURES / "status_pages/statuspage-summary.json").read_bytes()
APPLE = b'{"feed": {"title": "Top Free Apps", "country": "us", "updated": "2026-03-02T12:00:00Z", "results": []}}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json", extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        path = self.path.split("?")[0]
        with server.lock:
            server.requests.append((self.path, dict(self.headers)))
        prefix, _, rest = path.lstrip("/").partition("/")
        authorized = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        if prefix == "private":
            if not authorized:  # an error body that echoes what it got, as some servers do
                return self._send(401, f'{{"error": "bad token {self.headers.get("Authorization")}"}}'.encode())
            return self._send(200, SP_SUMMARY if rest.endswith("summary.json") else SP_INCIDENTS)
        if prefix == "echo":  # authorised, but answers with an HTML page quoting the header
            return self._send(200, f"<html>{self.headers.get('Authorization')}</html>".encode(), "text/html")
        if prefix == "elsewhere":  # redirects to another origin (server.other)
            return self._send(302, b"", extra={"Location": f"{server.other}/landing/{rest}"})
        if prefix == "landing":
            return self._send(200, SP_SUMMARY if rest.endswith("summary.json") else SP_INCIDENTS)
        if prefix == "apple":
            return self._send(200, APPLE)
        return self._send(404, b'{"error": "not found"}')


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict]] = []
        self.other = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def _serve() -> _Server:
    srv = _Server()
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return srv


@pytest.fixture
def servers():
    main, other = _serve(), _serve()
    main.other = other.base
    yield main, other
    for srv in (main, other):
        srv.shutdown()
        srv.server_close()


def configure(config_path: Path, server: _Server, pages: dict[str, str], countries=("us",),
              token_env: str | None = "INCIDENTS_PRIVATE_TOKEN"):
    """A providers.yaml whose statuspage-kind pages point at the local server: {provider: url path}."""
    raw = yaml.safe_load(config_path.read_text())
    template = raw["providers"]["anthropic"]
    raw["providers"] = {name: dict(template, status_page={"kind": "statuspage", "url": server.base + path,
                                                          **({"token_env": token_env} if token_env else {})})
                        for name, path in pages.items()}
    raw["app_store"] = {"countries": list(countries), "charts": ["top-free"],
                        "feed_url": server.base + "/apple/{country}/{chart}.json"}
    config_path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_providers(config_path)


def fetch(workspace, config, sleeps: list | None = None):
    with make_client(FetchOptions(timeout_s=5.0), trust_env=False) as client:
        return fetch_all(workspace.settings, config, client=client, now=NOW, sleep=(sleeps or []).append,
                         options=FetchOptions(timeout_s=5.0, backoff_base_s=0.01))


def test_fetch_never_writes_outside_the_data_dir(fresh_workspace, servers, outside, monkeypatch):
    server, _ = servers
    workspace = fresh_workspace("sec_fetch_paths")
    monkeypatch.setenv("INCIDENTS_PRIVATE_TOKEN", TOKEN)
    config = configure(workspace.settings.config_path, server, {"anthropic": "/private", "openai": "/private"},
                       countries=("us", "../../escape", "/abs", "..", "gb/../../x"))
    raw = workspace.settings.data_dir / "raw"
    (raw / "status_pages").mkdir(parents=True)
    (raw / "status_pages" / "openai").symlink_to(outside, target_is_directory=True)
    before = listing(outside)
    tree_before = {p for p in workspace.settings.data_dir.parent.rglob("*")}

    report = fetch(workspace, config)

    assert listing(outside) == before  # nothing written through the symlinked provider directory
    escaped = {p for p in workspace.settings.data_dir.parent.rglob("*")} - tree_before
    assert all(workspace.settings.data_dir in p.parents for p in escaped), escaped
    assert sorted(report.written) == [
        "raw/app_rankings/2026-03-02/us-top-free.json",
        "raw/status_pages/anthropic/20260302T120500Z-incidents.json",
        "raw/status_pages/anthropic/20260302T120500Z-summary.json",
    ]
    assert len(report.errors) == 5  # openai's symlink and the four hostile countries: one line each
    assert report.errors[0].startswith("openai: refusing path") and "outside" in report.errors[0]
    refused = [line for line in report.errors[1:] if "cannot build the feed URL or path: refusing path" in line]
    assert len(refused) == 3  # '../../escape', '/abs', 'gb/../../x'
    # '..' alone makes the harmless name '..-top-free.json' (inside the day folder), but its URL
    # /apple/../top-free.json is normalised by httpx to /top-free.json, which 404s here
    assert "app_store ../top-free" in report.errors[3] and "HTTP 404" in report.errors[3]


def test_private_token_never_appears_in_logs_report_cli_output_or_a_cross_origin_redirect(
    fresh_workspace, servers, monkeypatch, caplog
):
    server, other = servers
    workspace = fresh_workspace("sec_token")
    caplog.set_level(logging.DEBUG)  # httpx / httpcore debug logging included
    monkeypatch.setenv("INCIDENTS_PRIVATE_TOKEN", TOKEN)
    for key, value in {"INCIDENTS_DATA_DIR": workspace.data_dir, "INCIDENTS_CONFIG": workspace.config_path,
                       "INCIDENTS_REPORTS_DIR": workspace.reports_dir}.items():
        monkeypatch.setenv(key, value)
    config = configure(workspace.settings.config_path, server, {
        "anthropic": "/private",  # works with the token
        "openai": "/echo",  # answers HTML that quotes the Authorization header: refused, and not echoed
        "google": "/elsewhere",  # redirects to another origin: httpx must drop the header
    })
    report = fetch(workspace, config)
    assert [line.split(":")[0] for line in report.errors] == ["openai"]
    assert any(path.startswith("/private/") and h.get("Authorization") == f"Bearer {TOKEN}"
               for path, h in server.requests)
    assert other.requests and not any("Authorization" in h or TOKEN in p for p, h in other.requests)

    # the same through the CLI, with the token wrong: a 401 whose body echoes the header
    from typer.testing import CliRunner

    from pipelines.cli import app

    monkeypatch.setenv("INCIDENTS_PRIVATE_TOKEN", WRONG_TOKEN)
    def no_proxy_client(options: FetchOptions, trust_env: bool = True):  # the CLI's client, minus env proxies
        return make_client(options, trust_env=False)

    monkeypatch.setattr("assets.ingest.fetch.make_client", no_proxy_client)
    cli = CliRunner().invoke(app, ["fetch"])
    assert cli.exit_code == 1 and "HTTP 401" in cli.output

    written = "".join(p.read_text(errors="replace") for p in (workspace.settings.data_dir / "raw").rglob("*")
                      if p.is_file())
    everything = "\n".join([caplog.text, *report.lines(), repr(report), cli.output, written])
    assert "private" in caplog.text and report.written  # the run did log and write
    assert TOKEN not in everything and WRONG_TOKEN not in everything
