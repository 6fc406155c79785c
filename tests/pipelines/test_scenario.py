"""The bundled scenario: deterministic, in the contract layout, parseable, with the planted values where promised."""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import gzip
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from pipelines.core.config import load_providers
from pipelines.scenario import SOURCES, Truth, generate, load_truth
from pipelines.scenario.dates import DEFAULT_END, DEFAULT_START, utc
from pipelines.scenario.providers import ScenarioConfigError, setup_from_config
from pipelines.scenario.traffic import MIGRATION_LAG_HOURS, TrafficModel, expected_request_rows
from pipelines.scenario.world import build_world

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "data/config/providers.yaml"
SHORT = ("2026-02-28", "2026-03-04")
ATOM = "{http://www.w3.org/2005/Atom}"
CLF = re.compile(r'^(\S+) \S+ (\S+) \[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "(\w+) (\S+) HTTP/[\d.]+" '
                 r'(\d{3}) (\d+|-) "[^"]*" "[^"]*"(?: ([\d.]+))?$')
STAMP = r"\d{8}T\d{6}Z"


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    data = tmp_path_factory.mktemp("scenario") / "data"
    truth = generate(data, start=SHORT[0], end=SHORT[1], config=CONFIG)
    return data, truth


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8")


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _parse_ts(text: object) -> dt.datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


# ---- strict validators: what a parser must refuse --------------------------------------------------------

def _crowd_ok(row: dict, day: dt.date) -> bool:
    ts = _parse_ts(row.get("timestamp"))
    reports = row.get("reports")
    if isinstance(reports, str):
        reports = int(reports) if reports.isdigit() else None
    return (ts is not None and ts.astimezone(dt.UTC).date() == day and bool(row.get("service"))
            and bool(row.get("country")) and isinstance(reports, int) and reports >= 0)


def _request_ok(row: dict, day: dt.date) -> bool:
    ts = _parse_ts(row.get("ts"))
    status = row.get("status")
    if isinstance(status, str):
        status = int(status) if status.isdigit() else None
    return (ts is not None and ts.astimezone(dt.UTC).date() == day and isinstance(status, int)
            and all(row.get(k) not in (None, "") for k in ("provider", "model", "endpoint", "client_id")))


def _records(path: Path) -> list[tuple[int, dict | None, str]]:
    """(line number, parsed row or None, raw line) for a CSV/JSONL/log file."""
    text = _read_text(path)
    lines = text.splitlines()
    out = []
    if path.name.endswith(".csv"):
        header = next(csv.reader([lines[0]]))
        for no, line in enumerate(lines[1:], start=2):
            cells = next(csv.reader([line]))
            out.append((no, dict(zip(header, cells)) if len(cells) == len(header) else None, line))
    elif ".jsonl" in path.name:
        for no, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = None
            out.append((no, row if isinstance(row, dict) else None, line))
    else:
        for no, line in enumerate(lines, start=1):
            m = CLF.match(line)
            row = None
            if m:
                moment = dt.datetime.strptime(m[3], "%d/%b/%Y:%H:%M:%S %z")
                row = {"ts": moment.isoformat(), "status": m[6], "provider": "from-path", "model": "-",
                       "endpoint": m[5], "client_id": m[2]}
            out.append((no, row, line))
    return out


# ---- determinism and layout ------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(tmp_path: Path, short: tuple[Path, Truth]) -> None:
    a = generate(tmp_path / "a", start="2026-03-01", end="2026-03-02", config=CONFIG)
    b = generate(tmp_path / "b", start="2026-03-01", end="2026-03-02", config=CONFIG)
    files_a, files_b = _all_files(tmp_path / "a"), _all_files(tmp_path / "b")
    assert files_a.keys() == files_b.keys() and len(files_a) > 30
    assert files_a == files_b
    assert a == b
    # a day's files do not depend on the range asked for (status snapshots aside: they carry range-level picks)
    long_dir = short[0]
    for rel, content in files_a.items():
        if "/2026-03-02/" in rel:
            assert (long_dir / rel).read_bytes() == content, rel
    c = generate(tmp_path / "c", seed=7, start="2026-03-01", end="2026-03-01", config=CONFIG,
                 sources=("crowd_reports",))
    other_seed = _all_files(tmp_path / "c/raw/crowd_reports/2026-03-01")
    same_seed = {k.rsplit("/", 1)[1]: v for k, v in files_a.items() if "crowd_reports/2026-03-01/" in k}
    assert other_seed.keys() == same_seed.keys() and all(other_seed[k] != same_seed[k] for k in other_seed)
    assert c.seed == 7


def test_files_follow_the_contract_layout(short: tuple[Path, Truth]) -> None:
    data, truth = short
    raw = data / "raw"
    cfg = load_providers(CONFIG)
    patterns = [
        re.compile(rf"^status_pages/(anthropic|openai|google)/{STAMP}(-incidents|-summary)?\.(json|atom|rss)$"),
        re.compile(r"^app_rankings/\d{4}-\d{2}-\d{2}/[a-z]{2}-top-free\.json$"),
        re.compile(r"^crowd_reports/\d{4}-\d{2}-\d{2}/[a-z0-9-]+\.(csv|jsonl|jsonl\.gz)$"),
        re.compile(r"^request_logs/\d{4}-\d{2}-\d{2}/[a-z0-9.-]+\.(jsonl|csv|log|log\.gz)$"),
    ]
    files = [p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file()]
    assert files and all(any(p.match(f) for p in patterns) for f in files), [
        f for f in files if not any(p.match(f) for p in patterns)]
    days = [d.isoformat() for d in (dt.date(2026, 2, 28) + dt.timedelta(days=i) for i in range(5))]
    for day in days:
        assert {f"{c}-top-free.json" for c in cfg.app_store.countries} == {
            p.name for p in (raw / "app_rankings" / day).iterdir()}
        assert len(list((raw / "crowd_reports" / day).iterdir())) == 3
        names = {p.name for p in (raw / "request_logs" / day).iterdir()}
        assert {"anthropic.jsonl", "openai.jsonl", "google.csv", "gateway-access.log.gz"} <= names
    assert (raw / "request_logs/2026-03-01/api.openai.com-access.log").is_file()  # a Sunday
    kinds = {p.suffix for p in (raw / "status_pages/google").iterdir()}
    assert kinds == {".atom"}
    assert any(p.name.endswith("-summary.json") for p in (raw / "status_pages/anthropic").iterdir())
    assert (data / "scenario/truth.json").is_file() and load_truth(data) == truth
    assert set(truth.rows_per_file) == {f"raw/{f}" for f in files}


def test_every_format_parses_and_row_counts_match_the_truth(short: tuple[Path, Truth]) -> None:
    data, truth = short
    for rel, records in truth.rows_per_file.items():
        path = data / rel
        if rel.endswith(".json"):
            doc = json.loads(path.read_text(encoding="utf-8"))
            if "/app_rankings/" in rel:
                feed = doc["feed"]
                rows = feed.get("results", feed.get("entry"))
                assert len(rows) == records == 100
            else:
                assert "page" in doc and len(doc["incidents"]) == records
                if rel.endswith("-summary.json"):
                    assert {"components", "status"} <= doc.keys()
        elif rel.endswith((".atom", ".rss")):
            root = ET.fromstring(path.read_bytes())
            assert len(root.findall(f"{ATOM}entry")) == records
        else:
            assert len(_records(path)) == records
    legacy = json.loads((data / "raw/app_rankings/2026-03-04/us-top-free.json").read_text())
    assert "entry" in legacy["feed"] and "im:name" in legacy["feed"]["entry"][0]
    assert "results" in json.loads((data / "raw/app_rankings/2026-03-03/us-top-free.json").read_text())["feed"]


def test_planted_malformed_records_are_exactly_the_bad_ones(short: tuple[Path, Truth]) -> None:
    data, truth = short
    found: dict[str, set[tuple[str, int]]] = {s: set() for s in SOURCES}
    for rel in truth.rows_per_file:
        path = data / rel
        source = rel.split("/")[1]
        if source in ("crowd_reports", "request_logs"):
            day = dt.date.fromisoformat(rel.split("/")[2])
            check = _crowd_ok if source == "crowd_reports" else _request_ok
            for no, row, _ in _records(path):
                if row is None or not check(row, day):
                    found[source].add((rel, no))
        elif source == "app_rankings":
            feed = json.loads(path.read_text())["feed"]
            for k, row in enumerate(feed.get("results", feed.get("entry", [])), start=1):
                ok = "id" in row and (isinstance(row["id"], str) or "im:id" in row["id"].get("attributes", {}))
                if not ok:
                    found[source].add((rel, k))
        elif rel.endswith(".json") and rel.endswith("-incidents.json"):
            for k, inc in enumerate(json.loads(path.read_text())["incidents"], start=1):
                if ("id" not in inc or inc["impact"] not in ("none", "minor", "major", "critical", "maintenance")
                        or _parse_ts(inc["created_at"].replace("Z", "+00:00")) is None):
                    found[source].add((rel, k))
        elif rel.endswith(".atom"):
            for k, entry in enumerate(ET.fromstring(path.read_bytes()).findall(f"{ATOM}entry"), start=1):
                if entry.find(f"{ATOM}id") is None:
                    found[source].add((rel, k))
    planted: dict[str, set[tuple[str, int]]] = {s: set() for s in SOURCES}
    for bad in truth.malformed_records:
        planted[bad["source"]].add((bad["file"], bad["line_no"] or bad["record_no"]))
    assert found == planted
    assert truth.malformed_rows["status_pages"] >= 3
    assert sum(truth.malformed_rows.values()) == len(truth.malformed_records)
    kinds = {b["kind"] for b in truth.malformed_records}
    assert "unknown_impact" in kinds


# ---- planted values --------------------------------------------------------------------------------------

def test_crowd_peak_on_2_march(short: tuple[Path, Truth]) -> None:
    data, truth = short
    outage = truth.outages[0]
    assert outage.crowd_peak["us"] == 4780 and outage.crowd_peak["us"] > 4700 and outage.crowd_peak_at["us"] == "2026-03-02T12:35:00Z"
    day_dir = data / "raw/crowd_reports/2026-03-02"
    by_country: dict[str, dict[dt.datetime, int]] = {}
    for path in day_dir.iterdir():
        for _, row, _ in _records(path):
            if row and row.get("service") == "Claude" and _crowd_ok(row, dt.date(2026, 3, 2)):
                moment = _parse_ts(row["timestamp"]).astimezone(dt.UTC)
                by_country.setdefault(row["country"], {})[moment] = int(row["reports"])
    us = by_country["us"]
    peak_at = max(us, key=us.get)
    assert us[peak_at] == 4780 and peak_at == utc(2026, 3, 2, 12, 35)
    assert us[utc(2026, 3, 2, 11, 40)] < 100 < us[utc(2026, 3, 2, 11, 55)]
    for country in ("in", "gb", "de", "sg"):
        assert max(by_country[country].values()) == outage.crowd_peak[country] < 4780
    second = truth.outages[1]
    assert second.start == "2026-03-03T14:10:00Z" and second.resolved_at == "2026-03-03T16:40:00Z"


def test_status_page_lags_the_outage(short: tuple[Path, Truth]) -> None:
    data, truth = short
    outage = truth.outages[0]
    assert 20 <= outage.first_post_lag_minutes <= 25 and outage.identified_after_minutes <= 30
    assert "2026-03-02T15:30:00Z" <= outage.resolved_at <= "2026-03-02T16:00:00Z"
    snapshots = sorted((data / "raw/status_pages/anthropic").glob("20260302T*-incidents.json"))
    states = []
    for path in snapshots:
        incidents = {i["id"]: i for i in json.loads(path.read_text())["incidents"]}
        states.append(incidents.get(outage.incident_id, {}).get("status"))
        if outage.incident_id in incidents:
            inc = incidents[outage.incident_id]
            created = _parse_ts(inc["created_at"].replace("Z", "+00:00"))
            started = _parse_ts(inc["started_at"].replace("Z", "+00:00"))
            assert 20 <= (created - started).total_seconds() / 60 <= 25
    assert states[0] == "investigating" and "identified" in states and "monitoring" in states
    assert states[-1] == "resolved"
    summary = json.loads(min((data / "raw/status_pages/anthropic").glob("20260302T13*-summary.json")).read_text())
    status = {c["name"]: c["status"] for c in summary["components"]}
    assert status["claude.ai"] == "major_outage" and status["Claude API (api.anthropic.com)"] == "degraded_performance"
    # the openai page (incident.io) leaves out started_at, shortlink and affected_components
    doc = json.loads(max((data / "raw/status_pages/openai").glob("*.json")).read_text())
    assert all("started_at" not in i and "shortlink" not in i for i in doc["incidents"])
    assert all("affected_components" not in u for i in doc["incidents"] for u in i["incident_updates"])
    assert len(doc["incidents"]) == 50


def test_app_ranks_claude_16_to_1_and_chatgpt_drop(short: tuple[Path, Truth], tmp_path: Path) -> None:
    data, truth = short
    cfg = load_providers(CONFIG)
    claude_id = cfg.providers["anthropic"].apps["Claude by Anthropic"]
    chatgpt_id = cfg.providers["openai"].apps["ChatGPT"]

    def rank(root: Path, day: str, app_id: str, country: str = "us") -> int | None:
        feed = json.loads((root / f"raw/app_rankings/{day}/{country}-top-free.json").read_text())["feed"]
        ids = [r.get("id") for r in feed["results"]]
        return ids.index(app_id) + 1 if app_id in ids else None

    generate(tmp_path, start="2026-02-17", end="2026-02-17", config=CONFIG, sources=("app_rankings",))
    assert rank(tmp_path, "2026-02-17", claude_id) == 16 and rank(tmp_path, "2026-02-17", chatgpt_id) == 1
    assert rank(data, "2026-02-28", claude_id) == 1 and rank(data, "2026-02-28", chatgpt_id) >= 2
    assert rank(data, "2026-03-02", chatgpt_id) > 1
    assert truth.ranks.claude_first_day_at_1 == "2026-02-28" == truth.ranks.chatgpt_drop_day
    # other countries follow with damped movement: Claude climbs but stays below #1
    assert 1 < rank(data, "2026-03-02", claude_id, "gb") < 10
    feed = json.loads((data / "raw/app_rankings/2026-03-02/in-top-free.json").read_text())["feed"]
    assert len({r.get("id") for r in feed["results"]}) == 100 and feed["country"] == "in"


def test_outage_in_request_logs(short: tuple[Path, Truth]) -> None:
    data, truth = short
    api = {e for e, cap in truth.traffic.endpoint_capability["anthropic"].items() if cap == "api"}
    buckets: dict[tuple[str, bool], list[int]] = {}
    for _, row, _ in _records(data / "raw/request_logs/2026-03-02/anthropic.jsonl"):
        if row is None or not _request_ok(row, dt.date(2026, 3, 2)):
            continue
        ts = _parse_ts(row["ts"])
        window = "before" if ts < utc(2026, 3, 2, 11, 30) else "during" if utc(2026, 3, 2, 12) <= ts < utc(
            2026, 3, 2, 14, 30) else "other"
        buckets.setdefault((window, row["endpoint"] in api), []).append(row["status"])
    user_facing = np.array(buckets[("during", False)])
    assert np.mean(np.isin(user_facing, [500, 529])) > 0.6 and (user_facing == 500).any()
    assert np.mean(np.array(buckets[("before", False)]) >= 500) < 0.1
    api_during = np.array(buckets[("during", True)])
    assert 0.05 < np.mean(api_during == 529) < 0.3 and np.mean(api_during == 200) > 0.7


def test_request_volume_near_target() -> None:
    cfg = load_providers(CONFIG)
    world = build_world(2026, DEFAULT_START, DEFAULT_END, cfg)
    total = expected_request_rows(world.traffic, DEFAULT_START, DEFAULT_END)
    assert 1_000_000 <= total <= 1_500_000
    assert expected_request_rows(world.traffic, DEFAULT_START, DEFAULT_END, scale=0.1) == pytest.approx(total / 10)


def test_realised_rows_match_the_expectation(short: tuple[Path, Truth]) -> None:
    _, truth = short
    written = truth.rows["request_logs"] - truth.malformed_rows["request_logs"]
    assert written == pytest.approx(truth.traffic.expected_request_rows, rel=0.03)


def test_traffic_truth_and_lagged_529() -> None:
    cfg = load_providers(CONFIG)
    world = build_world(2026, DEFAULT_START, DEFAULT_END, cfg)
    model: TrafficModel = world.traffic
    hours = np.arange(int(utc(2025, 12, 1).timestamp()), int(utc(2026, 2, 20).timestamp()), 3600)
    load = np.array([model.anthropic_load(h + np.arange(0, 3600, 300)).mean() for h in hours])
    ratio = model.anthropic_529_prob(hours + 1800)
    corr = [np.corrcoef(load[: len(load) - lag], ratio[lag:])[0, 1] for lag in range(13)]
    assert int(np.argmax(corr)) == MIGRATION_LAG_HOURS
    clients = world.clients.new_clients_by_day("anthropic", dt.date(2026, 2, 1), dt.date(2026, 3, 4))
    surge = sum(clients[dt.date(2026, 2, 27) + dt.timedelta(days=k)] for k in range(4))
    normal = sum(clients[dt.date(2026, 2, 2) + dt.timedelta(days=k)] for k in range(4))
    assert surge > 10 * max(normal, 1)


def test_full_range_truth_uptime_and_incident_rates(tmp_path: Path) -> None:
    truth = generate(tmp_path, config=CONFIG, sources=())  # truth only, no raw files
    assert not (tmp_path / "raw").exists() and truth.rows == {s: 0 for s in SOURCES}
    assert 300 <= truth.traffic.traffic_growth_48h_pct <= 550
    assert 4.0 <= truth.traffic.traffic_ratio_vs_trailing_7d_same_hour <= 6.0
    assert truth.migration_lag_hours == 6
    # uptime recomputed from the truth's own incident segments, minute by minute
    lo, hi = utc(2025, 12, 1), utc(2026, 3, 1)
    n_minutes = int((hi - lo).total_seconds() // 60)
    weights = {"major_outage": 1.0, "partial_outage": 0.3, "degraded_performance": 0.0}
    comps = truth.uptime.components
    grid = {c: np.zeros(n_minutes) for c in comps}
    for inc in truth.incidents:
        if inc.provider != "anthropic":
            continue
        for seg in inc.segments:
            a = (dt.datetime.fromisoformat(seg["start"]) - lo).total_seconds() / 60
            b = (dt.datetime.fromisoformat(seg["end"]) - lo).total_seconds() / 60
            a, b = max(0, round(a)), min(n_minutes, round(b))
            if b > a:
                grid[seg["component"]][a:b] = np.maximum(grid[seg["component"]][a:b], weights[seg["status"]])
    uptime = 100 * (1 - sum(g.sum() for g in grid.values()) / (len(comps) * n_minutes))
    assert abs(uptime - 99.36) <= 0.15
    assert uptime == pytest.approx(truth.uptime.uptime_pct, abs=0.01)
    # ordinary life: every provider, each component roughly every 4-9 days, median time to resolve ~1 h
    for provider in ("anthropic", "openai", "google"):
        incidents = [i for i in truth.incidents if i.provider == provider and i.in_window and not i.planted]
        hours = [(dt.datetime.fromisoformat(i.resolved_at) - dt.datetime.fromisoformat(i.started_at)).total_seconds()
                 / 3600 for i in incidents]
        assert 0.6 <= float(np.median(hours)) <= 1.6, provider
        per_component = {}
        for inc in incidents:
            for comp in inc.components:
                per_component[comp] = per_component.get(comp, 0) + 1
        gaps = [105 / n for n in per_component.values()]
        assert 2.5 <= float(np.mean(gaps)) <= 10, (provider, gaps)
        assert any(i.posted_after_the_fact for i in truth.incidents if i.provider == provider) or provider != "anthropic"
    posthoc = [i for i in truth.incidents if i.posted_after_the_fact]
    assert posthoc and all(i.first_post_at > i.resolved_at for i in posthoc)


def test_pacific_display_times_switch_to_pdt(tmp_path: Path) -> None:
    generate(tmp_path, start="2026-03-08", end="2026-03-15", config=CONFIG, sources=("status_pages",))
    feeds = sorted((tmp_path / "raw/status_pages/google").glob("*.atom"))
    entries = ET.fromstring(feeds[-1].read_bytes()).findall(f"{ATOM}entry")
    seen = set()
    for entry in entries:
        html = entry.find(f"{ATOM}content").text
        for zone in re.findall(r"</var> (P[SD]T)</small>", html):
            seen.add(zone)
        published = dt.datetime.fromisoformat(entry.find(f"{ATOM}published").text)
        expected = "PDT" if published >= utc(2026, 3, 8, 10) else "PST"
        first = re.findall(r"</var> (P[SD]T)</small>", html)[-1]  # oldest update = first post
        assert first == expected
    assert seen == {"PST", "PDT"}


def test_crowd_timestamps_use_mixed_offsets_inside_their_day(short: tuple[Path, Truth]) -> None:
    data, _ = short
    offsets = set()
    for path in (data / "raw/crowd_reports").rglob("*.*"):
        day = dt.date.fromisoformat(path.parent.name)
        for _, row, _ in _records(path):
            if row and _crowd_ok(row, day):
                offsets.add(row["timestamp"][19:])
    assert {"Z", "+00:00", "-08:00", "+05:30"} <= offsets


def test_scenario_refuses_configs_and_ranges_it_cannot_serve(tmp_path: Path) -> None:
    cfg = load_providers(CONFIG)
    broken = cfg.model_copy(update={"providers": {k: v for k, v in cfg.providers.items() if k != "google"}})
    with pytest.raises(ScenarioConfigError, match="google"):
        setup_from_config(broken)
    with pytest.raises(ValueError, match="before start"):
        generate(tmp_path, start="2026-03-02", end="2026-03-01", config=CONFIG)
    with pytest.raises(ValueError, match="unknown scenario source"):
        generate(tmp_path, sources=("tweets",), config=CONFIG)
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale=0, config=CONFIG)


def test_rss_history_feed_when_the_config_says_rss(tmp_path: Path) -> None:
    cfg = load_providers(CONFIG)
    google = cfg.providers["google"]
    page = google.status_page.model_copy(update={"kind": "rss"})
    rss_cfg = cfg.model_copy(update={"providers": {**cfg.providers, "google": google.model_copy(
        update={"status_page": page})}})
    truth = generate(tmp_path, start="2026-03-01", end="2026-03-02", config=rss_cfg, sources=("status_pages",))
    feeds = sorted((tmp_path / "raw/status_pages/google").glob("*.rss"))
    assert len(feeds) == 2  # Sunday and the last day of the range
    for feed in feeds:
        items = ET.fromstring(feed.read_bytes()).findall("channel/item")
        assert len(items) == truth.rows_per_file[f"raw/status_pages/google/{feed.name}"] == 50
        assert all(re.search(r"<var data-var='time'>\d{2}:\d{2}</var> P[SD]T", i.find("description").text)
                   for i in items)


# ---- a second world: the same story moved by whole weeks -------------------------------------------------

BACK = 728  # two years earlier (104 weeks); Pacific daylight saving starts and ends on the same weekdays
CANONICAL = ("2026-02-23", "2026-03-08")  # two weeks around the planted outages
MOVED = ("2024-02-26", "2024-03-10")  # the same days, 728 days earlier
_ISO_DAY = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?!\d)")
_STAMP_DAY = re.compile(r"\d{8}(?=T\d{6}Z)")
_CLF_DAY = re.compile(r"\d{2}/[A-Z][a-z]{2}/\d{4}")
_YEARLESS = re.compile(r"\w{3} &lt;var data-var='date'&gt;\d+&lt;/var&gt;|\b\d{1,2} (?:February|March)\b")


def _unshifted(text: str, shift_days: int) -> str:
    """`text` of a world written `shift_days` away, with every calendar day in it (ISO dates, file stamps,
    combined-log dates) moved back to the canonical calendar."""
    delta = dt.timedelta(days=shift_days)
    text = _ISO_DAY.sub(lambda m: (dt.date.fromisoformat(m[0]) - delta).isoformat(), text)
    text = _STAMP_DAY.sub(lambda m: f"{dt.datetime.strptime(m[0], '%Y%m%d').date() - delta:%Y%m%d}", text)
    return _CLF_DAY.sub(lambda m: f"{dt.datetime.strptime(m[0], '%d/%b/%Y').date() - delta:%d/%b/%Y}", text)


def _without_yearless_days(text: str) -> str:
    """Year-less display dates (feed HTML, "2 March" in a postmortem) blanked: they are checked on their own."""
    return _YEARLESS.sub("<day>", text)


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth, Path, Truth]:
    """The canonical two weeks and the same two weeks generated two years earlier, both at a tenth of the traffic."""
    root = tmp_path_factory.mktemp("moved")
    base = generate(root / "base", start=CANONICAL[0], end=CANONICAL[1], scale=0.1, config=CONFIG)
    shifted = generate(root / "shifted", start=MOVED[0], end=MOVED[1], scale=0.1, config=CONFIG, shift_days=-BACK)
    return root / "base", base, root / "shifted", shifted


def test_shifted_truth_is_the_canonical_truth_moved(moved: tuple[Path, Truth, Path, Truth]) -> None:
    _, base, _, shifted = moved
    assert (shifted.shift_days, base.shift_days) == (-BACK, 0)
    assert (shifted.start, shifted.end) == MOVED
    crash, second = shifted.outages
    assert (crash.start, crash.first_post_at, crash.end) == ("2024-03-04T11:49:00Z", "2024-03-04T12:11:00Z",
                                                            "2024-03-04T15:35:00Z")
    assert (second.start, second.name) == ("2024-03-05T14:10:00Z", "2024-03-05 second failure")
    assert crash.crowd_peak == base.outages[0].crowd_peak and crash.crowd_peak_at["us"] == "2024-03-04T12:35:00Z"
    # 2026-02-28 (a Saturday) lands on 2024-03-02: weekdays are kept, month ends are not (2024 has 29 February)
    assert shifted.traffic.crash_at == crash.start and shifted.uptime.window_last_day == "2024-03-02"
    # every time, day and file name of the truth moved by exactly 728 days, nothing else changed
    as_text = [json.dumps({**asdict(t), "shift_days": None}, indent=1) for t in (base, shifted)]
    assert _unshifted(as_text[1], shifted.shift_days) == as_text[0]
    assert "2026-" not in as_text[1] and len(shifted.incidents) == len(base.incidents) > 100


def test_shifted_raw_files_are_the_canonical_files_moved(moved: tuple[Path, Truth, Path, Truth]) -> None:
    base_dir, _, shifted_dir, shifted = moved
    base_files, shifted_files = _all_files(base_dir / "raw"), _all_files(shifted_dir / "raw")
    assert sorted(_unshifted(rel, -BACK) for rel in shifted_files) == sorted(base_files)
    compared = 0
    for rel in shifted_files:
        path = shifted_dir / "raw" / rel
        original = base_dir / "raw" / _unshifted(rel, -BACK)
        if rel.startswith("app_rankings/"):  # the fetch time moves; the chart (and its apps' release dates) do not
            docs = [json.loads(p.read_bytes())["feed"] for p in (original, path)]
            moments = [_parse_ts(d["updated"]["label"]) if isinstance(d["updated"], dict)
                       else email.utils.parsedate_to_datetime(d["updated"]) for d in docs]
            assert moments[1] - moments[0] == dt.timedelta(days=-BACK), rel
            assert {**docs[1], "updated": None} == {**docs[0], "updated": None}, rel
            continue
        text = _without_yearless_days(_read_text(path))
        assert _unshifted(text, -BACK) == _without_yearless_days(_read_text(original)), rel
        compared += 1
    assert compared > 100
    # spot checks in the real formats: the first request of the crash day, the crowd peak, a status snapshot
    first = json.loads(_read_text(shifted_dir / "raw/request_logs/2024-03-04/anthropic.jsonl").splitlines()[0])
    assert _parse_ts(first["ts"]).date() == dt.date(2024, 3, 4)
    us_peak = [r for _, r, _ in _records(shifted_dir / "raw/crowd_reports/2024-03-04/claude.csv")
               if r and r["country"] == "us" and _parse_ts(r["timestamp"]) == utc(2024, 3, 4, 12, 35)]
    assert [int(r["reports"]) for r in us_peak] == [shifted.outages[0].crowd_peak["us"]]
    snapshot = max((shifted_dir / "raw/status_pages/anthropic").glob("*-incidents.json"))
    assert "post-incident review of the 4 March login" in snapshot.read_text()  # the text names the moved day


def test_shift_keeps_weekdays_and_moves_the_default_window(tmp_path: Path,
                                                           moved: tuple[Path, Truth, Path, Truth]) -> None:
    with pytest.raises(ValueError, match=r"multiple of 7 .*got 3; the nearest are 0 and 7"):
        generate(tmp_path, shift_days=3, config=CONFIG)
    with pytest.raises(ValueError, match="the nearest are -735 and -728"):
        generate(tmp_path, shift_days=-730, config=CONFIG)
    with pytest.raises(TypeError, match="whole number"):
        generate(tmp_path, shift_days=7.0, config=CONFIG)  # type: ignore[arg-type]
    shifted_dir = moved[2]
    host_log_days = {p.parent.name for p in (shifted_dir / "raw/request_logs").glob("*/api.openai.com-access.log")}
    summary_days = {p.name[:8] for p in (shifted_dir / "raw/status_pages/anthropic").glob("*T12*-summary.json")}
    assert host_log_days and {dt.date.fromisoformat(d).weekday() for d in host_log_days} == {6}  # Sundays
    assert summary_days and {dt.datetime.strptime(d, "%Y%m%d").weekday() for d in summary_days} == {0}  # Mondays
    # no start/end given: the default window moves with the world (truth only, no raw files)
    later = generate(tmp_path / "later", config=CONFIG, sources=(), shift_days=364)
    assert (later.start, later.end, later.shift_days) == ("2026-11-30", "2027-03-14", 364)
    assert later.outages[0].start == "2027-03-01T11:49:00Z" and later.ranks.claude_first_day_at_1 == "2027-02-27"


def test_shifted_feed_follows_the_daylight_saving_rules_of_its_own_year(tmp_path: Path) -> None:
    """2027 switches to PDT on 14 March (2026: 8 March); the feeds of a world moved a year later follow 2027."""
    generate(tmp_path, start="2027-03-14", end="2027-03-21", config=CONFIG, sources=("status_pages",),
             shift_days=364)
    feed = max((tmp_path / "raw/status_pages/google").glob("*.atom"))
    assert feed.name.startswith("20270321T23")  # the weekly Sunday feed, on the moved calendar
    zones = set()
    for entry in ET.fromstring(feed.read_bytes()).findall(f"{ATOM}entry"):
        published = dt.datetime.fromisoformat(entry.find(f"{ATOM}published").text)
        first = re.findall(r"</var> (P[SD]T)</small>", entry.find(f"{ATOM}content").text)[-1]
        assert first == ("PDT" if published >= utc(2027, 3, 14, 10) else "PST")
        assert published.utcoffset() == dt.timedelta(hours=-7 if first == "PDT" else -8)
        zones.add(first)
    assert zones == {"PST", "PDT"}


def _user_facing_statuses(data: Path, truth: Truth, start: dt.datetime, end: dt.datetime) -> np.ndarray:
    """HTTP statuses of our requests to Anthropic's apps and agents (not its API) in [start, end)."""
    api = {e for e, cap in truth.traffic.endpoint_capability["anthropic"].items() if cap == "api"}
    statuses = []
    for day in (start.date() + dt.timedelta(days=k) for k in range((end - start).days + 1)):
        for _, row, _ in _records(data / f"raw/request_logs/{day}/anthropic.jsonl"):
            if row and _request_ok(row, day) and row["endpoint"] not in api and start <= _parse_ts(row["ts"]) < end:
                statuses.append(int(row["status"]))
    return np.array(statuses)


def test_planted_outages_stand_out_at_a_tenth_of_the_traffic(moved: tuple[Path, Truth, Path, Truth]) -> None:
    """Scale sanity: at 0.1x (and moved to 2024) each planted outage still has enough user-facing requests and
    a clear error ratio against the quiet week before; the crowd peaks do not scale with traffic."""
    _, base, data, truth = moved
    quiet = _user_facing_statuses(data, truth, _parse_ts(truth.start + "T00:00:00Z"), _parse_ts(truth.outages[0].start))
    quiet_ratio = np.mean(quiet >= 500)  # 2.2 % in 555 requests
    assert len(quiet) > 300 and quiet_ratio < 0.04
    for outage in truth.outages:  # 48 requests each: 85 % and 44 % of them failed
        during = _user_facing_statuses(data, truth, _parse_ts(outage.start), _parse_ts(outage.end))
        ratio = np.mean(during >= 500)
        assert len(during) >= 30 and ratio > max(0.3, 10 * quiet_ratio), (outage.name, len(during), ratio)
    assert [o.crowd_peak["us"] for o in truth.outages] == [o.crowd_peak["us"] for o in base.outages] == [4780, 2150]
