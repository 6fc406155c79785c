"""Atom / RSS incident-history feeds: Pacific display times, update splitting, safe XML, properties."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.ingest.status_pages.display_time import PACIFIC, parse_display_time
from assets.ingest.status_pages.feed_html import split_updates
from assets.ingest.status_pages.feeds import parse_status_feed
from assets.ingest.status_pages.rows import ParsedSnapshot
from assets.ingest.status_pages.schema import INCIDENT_STATUSES, TABLES, UPDATE_STATUSES
from pipelines.core.config import load_providers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "status_pages"
REPO = Path(__file__).resolve().parents[2]
CONFIG = load_providers(REPO / "data/config/providers.yaml")
CAPABILITIES = CONFIG.providers["google"].components


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def parse(name_or_bytes) -> ParsedSnapshot:
    data = name_or_bytes if isinstance(name_or_bytes, bytes) else (FIXTURES / name_or_bytes).read_bytes()
    return parse_status_feed(data, provider="google", file="raw/status_pages/google/f.atom",
                             snapshot_at=utc(2026, 3, 10, 12), capabilities=CAPABILITIES,
                             now=utc(2031, 1, 1))  # a fixed clock: generated times (to 2030) are in the past


def assert_balanced(parsed: ParsedSnapshot) -> None:
    counts = parsed.counts()
    for table in TABLES:
        assert counts[table]["rows_in"] == counts[table]["rows_accepted"] + counts[table]["rows_quarantined"]
    assert sum(c["rows_quarantined"] for c in counts.values()) == len(parsed.rejects)


def test_atom_history_feed_entries_become_incidents_with_updates():
    parsed = parse("history.atom")
    assert_balanced(parsed)
    assert len(parsed.rejects) == 0
    incidents = {row["incident_id"]: row for row in parsed.incidents.to_dicts()}
    assert set(incidents) == {"g3m1n1app001", "g3m1n1ap1002", "n3wy3ar00001"}  # id from the /incidents/<id> link
    app = incidents["g3m1n1app001"]
    assert app["title"] == "Gemini app errors for some users"
    assert (app["status"], app["impact"], app["page_kind"]) == ("resolved", None, "atom")
    assert app["created_at"] == utc(2026, 3, 2, 16, 41) and app["updated_at"] == utc(2026, 3, 2, 19, 15)
    assert app["resolved_at"] == utc(2026, 3, 2, 19, 15) and app["monitoring_at"] == utc(2026, 3, 2, 17, 30)
    assert app["started_at"] is None
    assert app["shortlink"] == "https://status.example.com/incidents/g3m1n1app001"

    updates = parsed.updates.filter(incident_id="g3m1n1app001").sort("display_at")
    assert updates.select("status", "display_text", "display_at").rows() == [
        ("investigating", "Mar 2, 08:41 PST", utc(2026, 3, 2, 16, 41)),  # PST = UTC-8
        ("monitoring", "Mar 2, 09:30 PST", utc(2026, 3, 2, 17, 30)),
        ("resolved", "Mar 2, 11:15 PST", utc(2026, 3, 2, 19, 15)),
    ]
    assert updates["created_at"].to_list() == updates["display_at"].to_list()
    assert updates["body"].to_list() == [
        "We are investigating reports of errors in the Gemini app.",
        "A fix has been rolled out.\nWe are monitoring & will update.",
        "This incident has been resolved.",
    ]
    # "This incident affected: Gemini app and Gemini API." -> components with capabilities
    assert parsed.affected.select("incident_id", "component_name", "capability", "origin").sort("component_name").rows() == [
        ("g3m1n1app001", "Gemini API", "api", "feed"),
        ("g3m1n1app001", "Gemini app", "consumer_app", "feed"),
    ]


def test_pdt_times_and_the_year_boundary():
    parsed = parse("history.atom")
    latency = parsed.updates.filter(incident_id="g3m1n1ap1002").sort("display_at")
    assert latency.select("display_text", "display_at").rows() == [
        ("Mar 9, 23:20 PDT", utc(2026, 3, 10, 6, 20)),  # PDT = UTC-7, and the UTC day rolls over
        ("Mar 10, 01:05 PDT", utc(2026, 3, 10, 8, 5)),
    ]
    new_year = parsed.updates.filter(incident_id="n3wy3ar00001").sort("display_at")
    # published 2025-12-31 23:30 PST: "Dec 31" is 2025 and "Jan 1" is 2026
    assert new_year["display_at"].to_list() == [utc(2026, 1, 1, 7, 30), utc(2026, 1, 1, 8, 40)]


def test_rss_items_with_guid_and_plain_update_status():
    parsed = parse("history.rss")
    assert_balanced(parsed)
    incidents = {row["incident_id"]: row for row in parsed.incidents.to_dicts()}
    # an item without a link falls back to its guid's Incident/<n> tail
    assert set(incidents) == {"g3m1n1ap1002", "26000042"}
    assist = incidents["26000042"]
    # "Update" is an update status, not an incident status: the incident stays "identified"
    assert assist["status"] == "identified" and assist["page_kind"] == "rss"
    assert assist["created_at"] == utc(2026, 2, 14, 23, 0) and assist["updated_at"] == utc(2026, 2, 15, 0, 0)
    assert sorted(parsed.updates.filter(incident_id=assist["incident_id"])["status"]) == ["identified", "update"]
    assert incidents["g3m1n1ap1002"]["resolved_at"] == utc(2026, 3, 10, 8, 5)


def test_empty_feed_is_fine():
    parsed = parse("empty.atom")
    assert len(parsed.rejects) == 0 and all(parsed.frame(t).height == 0 for t in TABLES)


def _atom(*contents: str, published: str = "2026-03-02T08:41:00-08:00") -> bytes:
    entries = "".join(
        f"<entry><id>tag:x,2005:Incident/{n}</id><published>{published}</published>"
        f"<link rel='alternate' href='https://status.example.com/incidents/inc{n}'/><title>T{n}</title>"
        f"<content type='html'>{escape(content)}</content></entry>"
        for n, content in enumerate(contents)
    )
    return f"<?xml version='1.0' encoding='UTF-8'?><feed xmlns='http://www.w3.org/2005/Atom'>{entries}</feed>".encode()


def _block(when: str, status: str, body: str = "text") -> str:
    month, day, clock, zone = when.replace(",", "").split()
    return (f"<p><small>{month} <var data-var='date'>{day}</var>, <var data-var='time'>{clock}</var> {zone}</small>"
            f"<br><strong>{status}</strong> - {body}</p>")


@pytest.mark.parametrize("content, reason", [
    (_block("Mar 2, 09:00 PST", "Fixed"), "update 1: update status 'Fixed' is not one of"),
    (_block("Mar 2, 09:00 EST", "Resolved"), "time zone 'EST' is not supported"),
    (_block("Mar 32, 09:00 PST", "Resolved"), "is not a real date/time"),
    (_block("Mar 2, 25:00 PST", "Resolved"), "is not a real date/time"),
    (_block("Mar 2, 09:00 PST", "Resolved") + _block("Mars 2, 08:00 PST", "Investigating"),
     "update 2: display time 'Mars 2, 08:00 PST' is not like 'Mar 2, 09:00 PST'"),
])
def test_unknown_status_or_unreadable_time_quarantines_the_entry(content, reason):
    parsed = parse(_atom(_block("Mar 2, 10:00 PST", "Resolved"), content))
    assert_balanced(parsed)
    assert parsed.incidents["incident_id"].to_list() == ["inc0"]
    [reject] = parsed.rejects.rows
    assert reject["record_no"] == 2 and reason in reject["reason"], reject["reason"]
    assert "inc1" in reject["reason"] and "tag:x,2005:Incident/1" in reject["raw"]


def test_entry_without_id_or_published_date_is_quarantined():
    no_id = b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><title>x</title></entry></feed>"
    assert "entry has no <id>" in parse(no_id).rejects.rows[0]["reason"]
    # Atom requires <id> even when the link names the incident
    link_only = _atom(_block("Mar 2, 10:00 PST", "Resolved")).replace(b"<id>tag:x,2005:Incident/0</id>", b"")
    [reject] = parse(link_only).rejects.rows
    assert reject["record_no"] == 1 and "entry has no <id> (link 'https://status.example.com/incidents/inc0')" in reject["reason"]
    rss_no_guid = (b"<rss version='2.0'><channel><item><title>x</title><link>https://s.example.com/incidents/a1</link>"
                   b"<pubDate>Mon, 02 Mar 2026 17:00:00 +0000</pubDate></item></channel></rss>")
    assert "entry has no <guid>" in parse(rss_no_guid).rejects.rows[0]["reason"]
    no_year = _atom(_block("Mar 2, 10:00 PST", "Resolved")).replace(b"<published>2026-03-02T08:41:00-08:00</published>", b"")
    assert "has no year and the entry has no published/updated date" in parse(no_year).rejects.rows[0]["reason"]
    bad_date = _atom(_block("Mar 2, 10:00 PST", "Resolved"), published="last tuesday")
    assert "published: 'last tuesday' is not an RFC 3339 time" in parse(bad_date).rejects.rows[0]["reason"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>"""


@pytest.mark.parametrize("data, reason", [
    (BILLION_LAUGHS, "DOCTYPE or entity declaration is refused"),
    (EXTERNAL, "DOCTYPE or entity declaration is refused"),
    (b"<!DOCTYPE html><html><body>Maintenance</body></html>", "DOCTYPE or entity declaration is refused"),
    ((FIXTURES / "history.atom").read_bytes()[:900], "not well-formed XML (truncated or corrupt?)"),
    (b"", "empty file"),
    ("<feed>caf\u00e9</feed>".encode("latin-1"), "not UTF-8 text: byte 0xe9"),
    (b"<feed><title>&nbsp;</title></feed>", "undefined entity"),
    (b"<html><body>hi</body></html>", "root element <html> is neither an Atom <feed> nor an RSS <rss>"),
    (b"   ", "no element found"),
])
def test_unusable_or_unsafe_xml_is_one_reject_with_record_no_zero(data, reason):
    parsed = parse(data)
    assert_balanced(parsed)
    [reject] = parsed.rejects.rows
    assert reject["record_no"] == 0 and reason in reject["reason"], reject["reason"]
    assert all(parsed.frame(t).height == 0 for t in TABLES)


@pytest.mark.parametrize("text, expected", [
    ("Mar 2, 09:00 PST", utc(2026, 3, 2, 17, 0)),
    ("Jul 4, 09:00 PDT", utc(2026, 7, 4, 16, 0)),
    ("Nov 1, 01:30 PDT", utc(2026, 11, 1, 8, 30)),  # the repeated autumn hour, first pass (daylight time)
    ("Nov 1, 01:30 PST", utc(2026, 11, 1, 9, 30)),  # ... and second pass (standard time)
    ("Jan 5, 10:00 PDT", utc(2026, 1, 5, 17, 0)),  # label disagrees with the calendar: the label's offset wins
    ("Mar 2, 9:00 AM PST", utc(2026, 3, 2, 17, 0)),
    ("Mar 2, 12:15 AM PST", utc(2026, 3, 2, 8, 15)),
    ("Mar 2, 2025, 09:00 PST", utc(2025, 3, 2, 17, 0)),
    ("Mar 2, 09:00 UTC", utc(2026, 3, 2, 9, 0)),
])
def test_parse_display_time(text, expected):
    assert parse_display_time(text, utc(2026, 3, 1) if expected.month < 9 else utc(2026, 10, 31)) == expected


def test_display_year_is_the_one_closest_to_the_published_date():
    assert parse_display_time("Dec 31, 23:30 PST", utc(2026, 1, 1, 7, 30)) == utc(2026, 1, 1, 7, 30)
    assert parse_display_time("Jan 1, 00:40 PST", utc(2026, 1, 1, 7, 30)) == utc(2026, 1, 1, 8, 40)
    assert parse_display_time("Jan 2, 10:00 PST", utc(2025, 12, 30)) == utc(2026, 1, 2, 18, 0)
    assert parse_display_time("Feb 29, 10:00 PST", utc(2028, 2, 28)) == utc(2028, 2, 29, 18, 0)


def test_split_updates_tolerates_blocks_without_paragraphs():
    html_text = ("<small>Mar 2, 10:00 PST</small><br><strong>Resolved</strong> - done<br>really"
                 "<small>Mar 2, 09:00 PST</small><strong>Investigating</strong>: <strong>bold</strong> look")
    updates, other = split_updates(html_text)
    assert [(u.display_text, u.status_word, u.body) for u in updates] == [
        ("Mar 2, 10:00 PST", "Resolved", "done\nreally"),
        ("Mar 2, 09:00 PST", "Investigating", "bold look"),
    ]
    assert other == []


# --- properties -----------------------------------------------------------------------------------

# Characters XML 1.0 can carry at all (no C0 controls but tab/newline, no surrogates)
XML_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300))
def test_arbitrary_bytes_never_crash_the_parser(data):
    assert_balanced(parse(data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.text(alphabet=st.sampled_from(list("<>/pbrsmalongtv PSTD:,0123456789MarJn-&;'\"=")), max_size=200),
       extra=st.text(XML_CHARS, max_size=60))
def test_arbitrary_entry_html_never_crashes(content, extra):
    parsed = parse(_atom(content, extra))
    assert_balanced(parsed)
    assert parsed.counts()["status_incidents"]["rows_in"] == 2


minutes = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 1)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=dt.UTC))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=minutes, gaps=st.lists(st.integers(min_value=0, max_value=60 * 24 * 20), min_size=1, max_size=5),
       statuses=st.lists(st.sampled_from(UPDATE_STATUSES), min_size=5, max_size=5),
       title=st.text(XML_CHARS, min_size=1, max_size=40).filter(lambda t: t.strip() == t and t.strip()),
       rss=st.booleans())
def test_valid_generated_incident_survives_write_then_parse(start, gaps, statuses, title, rss):
    times = [start + dt.timedelta(minutes=sum(gaps[: i + 1])) for i in range(len(gaps))]
    blocks = []
    for when, status in sorted(zip(times, statuses), reverse=True):  # newest first, like the real feed
        local = when.astimezone(PACIFIC)
        display = f"{local:%b} {local.day}, {local:%H:%M} {local.tzname()}"
        blocks.append(_block(display, status.replace("_", " ").capitalize(), html.escape(f"body {status}")))
    content = "".join(blocks)
    if rss:
        data = (f"<rss version='2.0'><channel><item><title>{escape(title)}</title>"
                f"<link>https://status.example.com/incidents/gen1</link><guid>https://status.example.com/incidents/gen1</guid>"
                f"<pubDate>{start:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
                f"<description>{escape(content)}</description></item></channel></rss>").encode()
    else:
        data = _atom(content, published=start.isoformat()).replace(b"<title>T0</title>",
                                                                   f"<title>{escape(title)}</title>".encode())
    parsed = parse(data)
    assert len(parsed.rejects) == 0, parsed.rejects.rows
    [incident] = parsed.incidents.to_dicts()
    assert incident["title"] == title and incident["created_at"] == start
    got = sorted(parsed.updates.select("display_at", "status").rows())
    assert [when for when, _ in got] == sorted(times)
    assert sorted(s for _, s in got) == sorted(statuses[: len(times)])
    real = [(w, s) for w, s in sorted(zip(times, statuses), key=lambda p: p[0]) if s in INCIDENT_STATUSES]
    if real:
        assert incident["status"] in {s for w, s in real if w == real[-1][0]}
