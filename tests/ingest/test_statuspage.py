"""Statuspage API v2 / incident.io JSON parser: hand-written samples of the real formats, plus properties."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.ingest.status_pages.rows import ParsedSnapshot
from assets.ingest.status_pages.schema import (
    AFFECTED,
    COMPONENT_STATUSES,
    COMPONENTS,
    IMPACTS,
    INCIDENT_STATUSES,
    INCIDENTS,
    TABLES,
    UPDATE_STATUSES,
    UPDATES,
)
from assets.ingest.status_pages.statuspage_json import parse_statuspage_json
from pipelines.core.config import load_providers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status_pages"
REPO = Path(__file__).resolve().parents[2]
CONFIG = load_providers(REPO / "data/config/providers.yaml")
SNAPSHOT_AT = dt.datetime(2026, 3, 3, 16, 0, tzinfo=dt.UTC)
PARSE_NOW = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)  # a fixed clock: generated times (to 2030) are in the past


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def parse(name_or_bytes, provider="anthropic", kind="statuspage", file="raw/status_pages/x/f.json"):
    data = name_or_bytes if isinstance(name_or_bytes, bytes) else (FIXTURES / name_or_bytes).read_bytes()
    return parse_statuspage_json(
        data, provider=provider, file=file, snapshot_at=SNAPSHOT_AT, page_kind=kind,
        capabilities=CONFIG.providers[provider].components, now=PARSE_NOW,
    )


def assert_balanced(parsed: ParsedSnapshot) -> None:
    counts = parsed.counts()
    for table in TABLES:
        assert counts[table]["rows_in"] == counts[table]["rows_accepted"] + counts[table]["rows_quarantined"]
    assert sum(c["rows_quarantined"] for c in counts.values()) == len(parsed.rejects)


def test_statuspage_incidents_json_is_read_exactly():
    parsed = parse("statuspage-incidents.json")
    assert_balanced(parsed)
    assert len(parsed.rejects) == 0
    incidents = {row["incident_id"]: row for row in parsed.incidents.to_dicts()}
    assert set(incidents) == {"8k2m4qv7ztrb", "3xq0v8c2nn6d", "0mnt5ch3d001"}
    big = incidents["3xq0v8c2nn6d"]
    assert big["title"] == "Claude.ai unavailable for many users"
    assert (big["status"], big["impact"], big["page_kind"]) == ("postmortem", "critical", "statuspage")
    # -08:00 offsets become UTC; milliseconds kept
    assert big["created_at"] == utc(2026, 3, 2, 11, 49, 42, 123000)
    assert big["started_at"] == utc(2026, 3, 2, 11, 40)
    assert big["monitoring_at"] == utc(2026, 3, 2, 16, 10)
    assert big["resolved_at"] == utc(2026, 3, 2, 17, 0)
    assert big["shortlink"] == "https://stspg.io/3xq0v8c2"
    assert big["snapshot_at"] == SNAPSHOT_AT and big["snapshot_file"] == "raw/status_pages/x/f.json"
    open_one = incidents["8k2m4qv7ztrb"]
    assert open_one["resolved_at"] is None and open_one["status"] == "monitoring"
    assert incidents["0mnt5ch3d001"]["impact"] == "maintenance"

    updates = parsed.updates.filter(incident_id="3xq0v8c2nn6d").sort("created_at")
    assert updates["status"].to_list() == ["investigating", "identified", "monitoring", "resolved", "postmortem"]
    assert updates["update_id"].to_list()[0] == "1nv35t1g4t01"
    assert parsed.updates.filter(incident_id="0mnt5ch3d001")["status"].to_list() == ["completed", "scheduled"]

    affected = parsed.affected.filter(update_id="1nv35t1g4t01").sort("component_name")
    assert affected.select("component_name", "old_status", "new_status", "capability", "origin").rows() == [
        ("Claude API (api.anthropic.com)", "operational", "degraded_performance", "api", "update"),
        ("claude.ai", "operational", "major_outage", "consumer_app", "update"),
    ]
    assert affected["created_at"].to_list() == [utc(2026, 3, 2, 11, 49, 42, 123000)] * 2
    # affected_components: null and [] are both "none listed"
    assert parsed.affected.filter(update_id="p0stm0rt3m01").height == 0
    assert parsed.components.height == 0


def test_summary_json_gives_components_with_capability_and_unresolved_incidents():
    parsed = parse("statuspage-summary.json")
    assert_balanced(parsed)
    components = {row["name"]: row for row in parsed.components.to_dicts()}
    assert components["claude.ai"]["status"] == "degraded_performance"
    assert components["claude.ai"]["capability"] == "consumer_app"
    assert components["Claude Code"]["capability"] == "coding_agent"
    assert components["platform.claude.com"]["capability"] == "console"
    assert components["claude.ai"]["component_id"] == "rwppv331jlwc"
    assert components["claude.ai"]["updated_at"] == utc(2026, 3, 3, 15, 40)
    assert all(row["snapshot_at"] == SNAPSHOT_AT and row["is_group"] is False for row in components.values())
    assert parsed.incidents["incident_id"].to_list() == ["8k2m4qv7ztrb"]


def test_incident_io_variant_accepts_missing_and_null_fields():
    parsed = parse("incident_io-incidents.json", provider="openai", kind="incident_io")
    assert_balanced(parsed)
    # an incident with nothing but an id cannot be placed in time (marts.incidents needs a start): refused
    assert [(r["record_no"], r["reason"]) for r in parsed.rejects.rows] == [
        (3, "created_at: missing and no update has a time; the incident cannot be placed in time")]
    incidents = {row["incident_id"]: row for row in parsed.incidents.to_dicts()}
    first = incidents["01JNQ8R2X5V8K7C0W3E9T4H6M1"]
    assert first["started_at"] is None and first["shortlink"] is None and first["monitoring_at"] is None
    assert first["resolved_at"] == utc(2026, 3, 2, 16, 30) and first["page_kind"] == "incident_io"
    # nulls are completed from the updates, never invented otherwise
    codex = incidents["01JNR2AB7Y0CODEX0000000001"]
    assert codex["status"] == "monitoring" and codex["impact"] is None
    assert codex["created_at"] == utc(2026, 3, 3, 9, 5) and codex["updated_at"] == utc(2026, 3, 3, 9, 40)
    assert codex["monitoring_at"] == utc(2026, 3, 3, 9, 40) and codex["resolved_at"] is None
    assert "01JNR9BARE000000000000001" not in incidents
    # updates without ids get stable ids from status and time; display_at stands in for created_at
    codex_updates = parsed.updates.filter(incident_id="01JNR2AB7Y0CODEX0000000001").sort("created_at")
    assert codex_updates["update_id"].to_list() == [
        "01JNR2AB7Y0CODEX0000000001:identified@20260303T090500Z",
        "01JNR2AB7Y0CODEX0000000001:monitoring@20260303T094000Z",
    ]
    # no affected_components on any update: the incident's own component list is used
    assert parsed.affected.select("incident_id", "update_id", "component_name", "capability", "origin").rows() == [
        ("01JNQ8R2X5V8K7C0W3E9T4H6M1", None, "ChatGPT", "consumer_app", "incident")
    ]


def test_incident_io_summary_with_missing_ids_and_times():
    parsed = parse("incident_io-summary.json", provider="openai", kind="incident_io")
    rows = {row["name"]: row for row in parsed.components.to_dicts()}
    assert rows["Sora"]["component_id"] == "Sora" and rows["Sora"]["capability"] is None
    assert rows["API"]["capability"] == "api" and rows["API"]["updated_at"] is None


def test_statuspage_kind_requires_what_atlassian_always_sends():
    parsed = parse("incident_io-incidents.json", provider="openai", kind="statuspage")
    assert_balanced(parsed)
    reasons = parsed.rejects.frame().sort("record_no").select("record_no", "reason").rows()
    assert [r[0] for r in reasons] == [2, 3]
    assert "status: missing" in reasons[0][1] and "set its status_page.kind to incident_io" in reasons[0][1]
    assert "name: missing" in reasons[1][1]


def test_unknown_impact_quarantines_the_incident_not_the_file():
    parsed = parse("unknown-impact.json")
    assert_balanced(parsed)
    rejects = parsed.rejects.frame().sort("record_no").to_dicts()
    assert rejects[0]["record_no"] == 1
    assert rejects[0]["reason"] == ("incidents[0] (id 'badimpact001'): impact: 'severe' is not one of none, minor, "
                                   "major, critical, maintenance")
    assert json.loads(rejects[0]["raw"])["impact"] == "severe"
    # an unknown component status quarantines only that affected-component row
    assert rejects[1]["record_no"] == 2 and "old_status: 'down' is not one of" in rejects[1]["reason"]
    assert parsed.incidents["incident_id"].to_list() == ["goodone00001"]
    assert parsed.updates.height == 1 and parsed.affected.height == 0
    assert parsed.counts()[INCIDENTS] == {"rows_in": 2, "rows_accepted": 1, "rows_quarantined": 1}
    assert parsed.counts()[AFFECTED] == {"rows_in": 1, "rows_accepted": 0, "rows_quarantined": 1}


def _one_incident(**changes) -> bytes:
    incident = {
        "id": "abc", "name": "x", "status": "resolved", "impact": "minor",
        "created_at": "2026-03-01T10:00:00Z", "updated_at": "2026-03-01T11:00:00Z",
        "started_at": "2026-03-01T09:55:00Z", "resolved_at": "2026-03-01T11:00:00Z",
        "incident_updates": [{"id": "u1", "status": "resolved", "body": "ok", "created_at": "2026-03-01T11:00:00Z"}],
    }
    incident.update(changes)
    return json.dumps({"page": {}, "incidents": [incident]}).encode()


@pytest.mark.parametrize("changes, reason", [
    ({"status": "down"}, "status: 'down' is not one of investigating"),
    ({"impact": "Major"}, "impact: 'Major' is not one of"),
    ({"resolved_at": "2026-03-01T09:00:00Z"}, "resolved_at 2026-03-01T09:00:00Z is before started_at"),
    ({"created_at": "2026-03-01 10:00:00"}, "created_at: '2026-03-01 10:00:00' has no UTC offset"),
    ({"created_at": "yesterday"}, "created_at: 'yesterday' is not an ISO 8601 time"),
    ({"created_at": 1772359200}, "created_at: expected an ISO 8601 time string, got int"),
    ({"id": ""}, "incidents[0].id: is empty"),
    ({"id": None}, "incidents[0].id: missing"),
    ({"incident_updates": {"id": "u1"}}, "incident_updates: expected a list, got dict"),
    ({"incident_updates": [{"id": "u1", "status": "fixed", "created_at": "2026-03-01T11:00:00Z"}]},
     "incident_updates[0].status: 'fixed' is not one of"),
    ({"created_at": "2099-01-01T00:00:00Z"}, "created_at: 2099-01-01T00:00:00Z is in the future"),
    ({"updated_at": "2031-01-01T01:00:01Z"}, "updated_at: 2031-01-01T01:00:01Z is in the future"),  # skew: 1 h
])
def test_bad_values_quarantine_the_incident_with_a_reason(changes, reason):
    parsed = parse(_one_incident(**changes))
    assert_balanced(parsed)
    assert parsed.incidents.height == 0 and parsed.updates.height == 0
    [reject] = parsed.rejects.rows
    assert reject["record_no"] == 1 and reason in reject["reason"], reject["reason"]


@pytest.mark.parametrize("data, reason", [
    ((FIXTURES / "truncated.json").read_bytes(), "not valid JSON (truncated or corrupt?)"),
    (b"", "empty file"),
    ("{\"incidents\": [], \"x\": \"caf\u00e9\"}".encode("latin-1"), "not UTF-8 text: byte 0xe9"),
    (b"<!DOCTYPE html><html><body>Down for maintenance</body></html>", "not valid JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (b'{"page": {"id": "x"}}', "neither 'incidents' nor 'components' found"),
    (b'{"incidents": {"id": "x"}}', "'incidents' must be a list"),
    (b"[" * 100_000, "nested too deeply"),
])
def test_unusable_file_is_one_reject_with_record_no_zero(data, reason):
    parsed = parse(data)
    assert_balanced(parsed)
    [reject] = parsed.rejects.rows
    assert reject["record_no"] == 0 and reason in reject["reason"], reject["reason"]
    assert reject["file"] == "raw/status_pages/x/f.json"
    assert all(parsed.frame(t).height == 0 for t in TABLES)


def test_resolution_inside_the_minute_the_incident_started_is_in_order():
    # started_at is entered at minute precision; a resolution stamped within that minute is fine
    parsed = parse(_one_incident(started_at="2026-03-01T11:00:00.900Z", resolved_at="2026-03-01T11:00:00.100Z"))
    assert len(parsed.rejects) == 0 and parsed.incidents.height == 1
    parsed = parse(_one_incident(started_at="2026-03-01T11:00:30Z", resolved_at="2026-03-01T10:59:59Z"))
    assert "is before started_at" in parsed.rejects.rows[0]["reason"]


def test_summary_file_errors_are_charged_to_components_and_bad_components_quarantined():
    parsed = parse_statuspage_json(b"{", provider="anthropic", file="f", file_table=COMPONENTS)
    assert parsed.counts()[COMPONENTS]["rows_quarantined"] == 1
    doc = {"components": [{"id": "a", "name": "claude.ai", "status": "on_fire"}, {"id": "b"}, "text",
                          {"id": "c", "name": "API", "status": "operational", "group": True}]}
    parsed = parse(json.dumps(doc).encode())
    assert_balanced(parsed)
    assert parsed.components["component_id"].to_list() == ["c"]
    assert parsed.components["is_group"].to_list() == [True]
    assert [r["record_no"] for r in parsed.rejects.rows] == [1, 2, 3]
    assert "status: 'on_fire' is not one of" in parsed.rejects.rows[0]["reason"]


# --- properties -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["2026-03-02T10:00:00Z", "resolved", "major", "operational", "claude.ai"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "name", "status", "impact", "created_at", "updated_at", "started_at", "resolved_at",
                         "incident_updates", "affected_components", "components", "body", "display_at", "group",
                         "old_status", "new_status", "code", "incidents", "page"]) | st.text(max_size=5),
        children, max_size=6),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), kind=st.sampled_from(["statuspage", "incident_io"]))
def test_arbitrary_bytes_never_crash_the_parser(data, kind):
    assert_balanced(parse(data, kind=kind))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incidents=st.lists(json_values, max_size=4), components=json_values,
       kind=st.sampled_from(["statuspage", "incident_io"]))
def test_arbitrary_json_shapes_end_accepted_or_quarantined(incidents, components, kind):
    document = {"page": {}, "incidents": incidents, "components": components}
    parsed = parse(json.dumps(document).encode(), kind=kind)
    assert_balanced(parsed)
    if isinstance(components, list):
        assert parsed.counts()[COMPONENTS]["rows_in"] == len(components)
    if isinstance(components, list) or components is None:
        assert parsed.counts()[INCIDENTS]["rows_in"] == len(incidents)


zones = st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-8)), dt.timezone(dt.timedelta(hours=5, minutes=30))])
times = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=zones)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4, max_size=16)


@st.composite
def incidents(draw):
    started = draw(times)
    updates = []
    for position, update_id in enumerate(draw(st.lists(ids, min_size=0, max_size=5, unique=True))):
        components = draw(st.lists(st.fixed_dictionaries({
            "code": ids, "name": st.sampled_from(sorted(CONFIG.providers["anthropic"].components) + ["Other thing"]),
            "old_status": st.sampled_from(COMPONENT_STATUSES), "new_status": st.sampled_from(COMPONENT_STATUSES),
        }), max_size=3, unique_by=lambda c: c["name"]))
        updates.append({
            "id": update_id, "status": draw(st.sampled_from(UPDATE_STATUSES)), "body": draw(st.text(max_size=40)),
            "created_at": (started + dt.timedelta(minutes=10 * position)).isoformat(),
            "display_at": (started + dt.timedelta(minutes=10 * position)).isoformat(),
            "affected_components": components,
        })
    resolved = draw(st.none() | st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)))
    return {
        "id": draw(ids), "name": draw(st.text(min_size=1, max_size=60)),
        "status": draw(st.sampled_from(INCIDENT_STATUSES)), "impact": draw(st.sampled_from(IMPACTS)),
        "created_at": started.isoformat(), "updated_at": (started + dt.timedelta(hours=1)).isoformat(),
        "started_at": started.isoformat(),
        "resolved_at": None if resolved is None else (started + resolved).isoformat(),
        "monitoring_at": None, "shortlink": draw(st.none() | st.just("https://stspg.io/abc")),
        "incident_updates": updates,
    }


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(incident=incidents(), kind=st.sampled_from(["statuspage", "incident_io"]))
def test_valid_incident_survives_write_then_parse(incident, kind):
    data = json.dumps({"page": {"id": "p"}, "incidents": [incident]}, indent=1).encode()
    parsed = parse(data, kind=kind)
    assert len(parsed.rejects) == 0, parsed.rejects.rows
    [row] = parsed.incidents.to_dicts()
    assert row["incident_id"] == incident["id"] and row["title"] == incident["name"]
    assert (row["status"], row["impact"]) == (incident["status"], incident["impact"])
    assert row["started_at"] == dt.datetime.fromisoformat(incident["started_at"]).astimezone(dt.UTC)
    if incident["resolved_at"]:
        assert row["resolved_at"] == dt.datetime.fromisoformat(incident["resolved_at"]).astimezone(dt.UTC)
    updates = parsed.updates.to_dicts()
    assert [u["update_id"] for u in updates] == [u["id"] for u in incident["incident_updates"]]
    assert [u["status"] for u in updates] == [u["status"] for u in incident["incident_updates"]]
    assert [u["body"] for u in updates] == [u["body"] for u in incident["incident_updates"]]
    assert parsed.affected.height == sum(len(u["affected_components"]) for u in incident["incident_updates"])
    expected = {c["name"]: CONFIG.providers["anthropic"].components.get(c["name"])
                for u in incident["incident_updates"] for c in u["affected_components"]}
    assert dict(parsed.affected.select("component_name", "capability").unique().rows()) == expected
    assert set(parsed.updates["status"]) <= set(UPDATE_STATUSES) and parsed.frame(UPDATES).height == len(updates)
