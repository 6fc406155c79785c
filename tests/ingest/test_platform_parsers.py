"""Every status platform beyond Statuspage: recognised from content, parsed into the four tables, bad input
quarantined with the field and the reason. Fixture shapes and their sources: tests/fixtures/status_pages/README.md.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from assets.ingest.status_pages.detect import detect_platform, document_time, same_platform
from assets.ingest.status_pages.parsers import parse_document
from assets.ingest.status_pages.schema import INCIDENTS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status_pages"
NOW = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
CAPABILITIES = {"Amazon Bedrock": "api", "Vertex Gemini API": "api", "Serverless Inference API": "api"}


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def parse(kind: str, data: bytes):
    return parse_document(data, kind, provider="p", file="f", snapshot_at=NOW, capabilities=CAPABILITIES, now=NOW)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def rows(parsed, *columns):
    return [tuple(row[c] for c in columns) for row in parsed.incidents.sort("incident_id").to_dicts()]


@pytest.mark.parametrize("name, kind", [
    ("instatus-summary.json", "instatus"), ("betterstack-index.json", "betterstack"),
    ("google_cloud-incidents.json", "google_cloud"), ("aws_health-currentevents.json", "aws_health"),
    ("rootly-incidents.json", "rootly"), ("azure-status.rss", "azure_rss"),
    ("statuspage-incidents.json", "statuspage"), ("statuspage-summary.json", "statuspage"),
    ("incident_io-incidents.json", "incident_io"), ("history.atom", "atom"), ("history.rss", "rss"),
    ("truncated.json", None),
])
def test_platform_is_recognised_from_content(name, kind):
    assert detect_platform(fixture(name)) == kind


def test_detection_refuses_to_guess():
    assert detect_platform(b"[]") is None  # Google Cloud and AWS Health both say "nothing" this way
    assert detect_platform(b"<!DOCTYPE html><html></html>", "text/html") is None
    assert detect_platform(b'{"hello": 1}') is None
    assert detect_platform(b"\xff\xfe" + '[{"event_log": [], "service": "ec2"}]'.encode("utf-16-le")) == "aws_health"
    assert same_platform("statuspage", "incident_io") and same_platform("atom", "rss")
    assert not same_platform("statuspage", "instatus") and not same_platform("rss", "azure_rss")


def test_document_time_is_the_documents_own():
    assert document_time(fixture("betterstack-index.json")) == utc(2026, 3, 2, 13, 5)
    assert document_time(fixture("azure-status.rss")) == utc(2026, 3, 2, 13, 40)
    assert document_time(fixture("rootly-incidents.json")) == utc(2026, 3, 2, 13)
    assert document_time(fixture("google_cloud-incidents.json")) is None  # an array: no page time


def test_instatus_active_incidents_and_maintenance():
    parsed = parse("instatus", fixture("instatus-summary.json"))
    assert rows(parsed, "incident_id", "status", "impact", "started_at", "page_kind") == [
        ("cm7pzz0ef0001qtmzw8n5b4c3", "scheduled", "maintenance", utc(2026, 3, 3, 2), "instatus"),
        ("cm7q1x9ab0042qtmz3k2d8f1e", "identified", "major", utc(2026, 3, 2, 11, 52, 10), "instatus"),
        # no id: followed by the last segment of its URL
        ("cm7q2b1cd0077qtmzk1x0v9a2", "investigating", "minor", utc(2026, 3, 2, 12, 40), "instatus"),
    ]
    assert len(parsed.rejects) == 0


def test_betterstack_reports_updates_and_resources():
    parsed = parse("betterstack", fixture("betterstack-index.json"))
    assert rows(parsed, "incident_id", "status", "impact", "started_at", "resolved_at") == [
        ("501", "investigating", "major", utc(2026, 3, 2, 11, 45), None),  # downtime at 11:48 is its worst
        ("502", "resolved", "minor", utc(2026, 2, 27, 8), utc(2026, 2, 27, 9, 15)),
    ]
    assert parsed.updates.sort("created_at")["status"].to_list() == ["update", "resolved", "update", "update"]
    affected = parsed.affected.filter(incident_id="501").sort("created_at")
    assert affected.select("component_name", "new_status", "capability").rows() == [
        ("Serverless Inference API", "major_outage", "api"), ("Serverless Inference API", "degraded_performance", "api")]
    assert parsed.components.sort("component_id").select("name", "status").rows() == [
        ("Serverless Inference API", "degraded_performance"), ("Fine-tuning", None)]  # not monitored: no evidence


def test_google_cloud_incidents():
    parsed = parse("google_cloud", fixture("google_cloud-incidents.json"))
    assert rows(parsed, "incident_id", "status", "impact", "started_at", "resolved_at", "shortlink") == [
        ("mLBHeCxhRia17anXCSX1", "resolved", "major", utc(2026, 3, 2, 11, 50), utc(2026, 3, 2, 14, 20),
         "https://status.cloud.google.com/incidents/mLBHeCxhRia17anXCSX1"),
        ("rZvZvSKVdDHyWh4dZJ8D", "investigating", "minor", utc(2026, 3, 3, 6, 30), None,
         "https://status.cloud.google.com/incidents/rZvZvSKVdDHyWh4dZJ8D"),
    ]
    vertex = parsed.updates.filter(incident_id="mLBHeCxhRia17anXCSX1").sort("created_at")
    assert vertex.select("status", "created_at").rows() == [("update", utc(2026, 3, 2, 12, 3, 11)),
                                                            ("resolved", utc(2026, 3, 2, 14, 30, 41))]
    assert parsed.affected.select("component_name", "capability", "origin").sort("component_name").rows() == [
        ("Google BigQuery", None, "incident"), ("Vertex Gemini API", "api", "incident")]


def test_aws_health_events():
    parsed = parse("aws_health", fixture("aws_health-currentevents.json"))
    assert rows(parsed, "incident_id", "status", "impact", "started_at", "resolved_at") == [
        ("bedrock-us-east-1@1772452200", "resolved", "major", utc(2026, 3, 2, 11, 50), utc(2026, 3, 2, 13, 10))]
    assert parsed.updates.sort("created_at").select("status", "created_at").rows() == [
        ("update", utc(2026, 3, 2, 11, 53)), ("resolved", utc(2026, 3, 2, 13, 11))]
    assert sorted(parsed.affected["component_name"]) == ["Amazon Bedrock", "Amazon SageMaker"]
    assert parse("aws_health", b"[]").incidents.height == 0  # the healthy dashboard: nothing listed, no reject
    assert len(parse("aws_health", b"[]").rejects) == 0


def test_rootly_incidents():
    parsed = parse("rootly", fixture("rootly-incidents.json"))
    assert rows(parsed, "incident_id", "status", "impact", "started_at", "monitoring_at") == [
        ("abc123", "monitoring", "minor", utc(2026, 3, 2, 10, 30), utc(2026, 3, 2, 11, 20))]
    assert parsed.updates.sort("created_at")["status"].to_list() == ["investigating", "monitoring"]


def test_azure_items_are_open_incidents_with_their_text():
    parsed = parse("azure_rss", fixture("azure-status.rss"))
    assert rows(parsed, "incident_id", "title", "status", "impact", "created_at") == [
        ("TM4Q-8XZ", "Azure OpenAI Service - Degraded availability in East US", None, None, utc(2026, 3, 2, 12, 20))]
    body = parsed.updates["body"].to_list()[0]
    assert body.startswith("Impact Statement: Starting at 11:55 UTC") and "<p>" not in body


def _json(name: str):
    return json.loads(fixture(name))


def _bad(document) -> bytes:
    return json.dumps(document).encode()


def bad_cases():
    instatus = _json("instatus-summary.json")
    instatus["activeIncidents"][0]["impact"] = "CATASTROPHIC"
    instatus["activeIncidents"][1]["started"] = "yesterday"
    google = _json("google_cloud-incidents.json")
    google[0]["status_impact"] = "SERVICE_MELTDOWN"
    google[1]["updates"] = "none"
    aws = _json("aws_health-currentevents.json")
    aws.append(copy.deepcopy(aws[0]) | {"date": "2026-03-02"})
    aws.append(copy.deepcopy(aws[0]) | {"status": "9"})
    rootly = _json("rootly-incidents.json")
    rootly["incidents"].append(copy.deepcopy(rootly["incidents"][0]) | {"status": "cancelled", "url": "/x/y"})
    better = _json("betterstack-index.json")
    better["included"][1]["attributes"]["status"] = "on_fire"
    return [
        ("instatus", _bad(instatus), 1, {1: "activeIncidents[0].impact: 'CATASTROPHIC' is not one of Instatus's",
                                         2: "activeIncidents[1].started: 'yesterday' is not an ISO 8601 time"}),
        ("google_cloud", _bad(google), 0, {1: "[0].status_impact: 'SERVICE_MELTDOWN' is not one of Google Cloud's",
                                           2: "[1].updates: expected a list, got str"}),
        ("aws_health", _bad(aws), 1, {2: "[1].date: '2026-03-02' is not a time in epoch seconds",
                                      3: "[2].status: '9' is not one of AWS Health's"}),
        ("rootly", _bad(rootly), 1, {2: "incidents[1].status: 'cancelled' is not one of Rootly's"}),
        ("betterstack", _bad(better), 2, {2: "included[1].attributes.status: 'on_fire' is not one of Better Stack's"}),
        ("google_cloud", b'{"incidents": []}', 0, {0: "expected a JSON array of incidents"}),
        ("instatus", b'{"activeIncidents": {}}', 0, {0: "'activeIncidents' must be a list, got dict"}),
        ("betterstack", b'{"data": {"type": "status_page"', 0, {0: "not valid JSON (truncated or corrupt?)"}),
        ("azure_rss", b"<rss><channel><item><title>x</title><pubDate>someday</pubDate></item></channel></rss>", 0,
         {1: "item[0].pubDate: 'someday' is not an RFC 822 date"}),
        ("azure_rss", b"<rss><channel><item>", 0, {0: "not well-formed XML"}),
    ]


@pytest.mark.parametrize("kind, data, accepted, reasons", bad_cases())
def test_bad_input_is_quarantined_with_field_and_reason(kind, data, accepted, reasons):
    parsed = parse(kind, data)
    counts = parsed.counts()[INCIDENTS]
    got = {row["record_no"]: row["reason"] for row in parsed.rejects.rows}
    assert set(got) == set(reasons), got
    for record_no, reason in reasons.items():
        assert got[record_no].startswith(reason) or reason in got[record_no], got[record_no]
    table = "status_components" if kind == "betterstack" and 0 not in reasons else INCIDENTS
    assert parsed.counts()[table]["rows_quarantined"] == len(reasons)
    assert counts["rows_in"] == counts["rows_accepted"] + counts["rows_quarantined"]
    assert parsed.incidents.height == accepted
