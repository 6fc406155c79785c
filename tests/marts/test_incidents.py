"""marts.incidents: lifecycle times, stated windows, stage durations, fallbacks. Values computed by hand."""

import datetime as dt

import polars as pl
import pytest

from assets.marts.incidents.columns import INCIDENT_COLUMNS
from assets.marts.incidents.inference import components_named, impact_from_words
from assets.marts.incidents.lifecycle import incidents_mart
from assets.marts.incidents.stated_window import anchor_stated_window, parse_stated_window

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")
CAPABILITIES = {"anthropic": {"claude.ai": "consumer_app", "Claude API (api.anthropic.com)": "api"}}


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def incidents_frame(*rows: dict) -> pl.DataFrame:
    base = {
        "provider": "anthropic",
        "title": "Elevated errors",
        "status": "resolved",
        "impact": "major",
        "created_at": None,
        "updated_at": None,
        "started_at": None,
        "resolved_at": None,
        "monitoring_at": None,
        "shortlink": None,
        "page_kind": "statuspage",
        "snapshot_file": "x.json",
    }
    schema = {
        "provider": pl.String,
        "incident_id": pl.String,
        "title": pl.String,
        "status": pl.String,
        "impact": pl.String,
        "created_at": TS,
        "updated_at": TS,
        "started_at": TS,
        "resolved_at": TS,
        "monitoring_at": TS,
        "shortlink": pl.String,
        "page_kind": pl.String,
        "snapshot_file": pl.String,
    }
    return pl.DataFrame([{**base, **row} for row in rows], schema=schema)


def updates_frame(*rows: tuple) -> pl.DataFrame:
    """rows: (incident_id, status, created_at, body[, provider])"""
    return pl.DataFrame(
        [
            {
                "provider": r[4] if len(r) > 4 else "anthropic",
                "incident_id": r[0],
                "update_id": f"{r[0]}-{i}",
                "status": r[1],
                "body": r[3],
                "created_at": r[2],
                "display_at": r[2],
                "display_text": None,
            }
            for i, r in enumerate(rows)
        ],
        schema={
            "provider": pl.String,
            "incident_id": pl.String,
            "update_id": pl.String,
            "status": pl.String,
            "body": pl.String,
            "created_at": TS,
            "display_at": TS,
            "display_text": pl.String,
        },
    )


def affected_frame(*rows: tuple) -> pl.DataFrame:
    """rows: (incident_id, component_name, old_status, new_status, created_at)"""
    return pl.DataFrame(
        [
            {
                "provider": "anthropic",
                "incident_id": r[0],
                "update_id": f"{r[0]}-u",
                "component_name": r[1],
                "old_status": r[2],
                "new_status": r[3],
                "created_at": r[4],
            }
            for r in rows
        ],
        schema={
            "provider": pl.String,
            "incident_id": pl.String,
            "update_id": pl.String,
            "component_name": pl.String,
            "old_status": pl.String,
            "new_status": pl.String,
            "created_at": TS,
        },
    )


def one(frame: pl.DataFrame, incident_id: str) -> dict:
    rows = frame.filter(pl.col("incident_id") == incident_id).to_dicts()
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We saw errors from 19:52-20:35 UTC on claude.ai.", ("19:52", "20:35")),
        ("Between 19:52 and 20:35 UTC some requests failed.", ("19:52", "20:35")),
        ("Impact from 23:50-00:20 UTC.", ("23:50", "00:20")),
        ("from 9:05 UTC to 10:40 UTC", ("09:05", "10:40")),
        ("from 19:52 \u2013 20:35 UTC", ("19:52", "20:35")),
    ],
)
def test_parse_stated_window_reads_the_utc_window(body, expected):
    start, end = parse_stated_window(body)
    assert (start.strftime("%H:%M"), end.strftime("%H:%M")) == expected


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "We are investigating since 19:52 UTC.",
        "from 19:52-20:35 PST",
        "from 19:52-19:52 UTC",
        "between 3 and 5 regions",
    ],
)
def test_parse_stated_window_ignores_bodies_without_a_utc_window(body):
    assert parse_stated_window(body) is None


def test_anchor_places_a_midnight_crossing_window_on_the_right_days():
    start, end = parse_stated_window("from 23:50-00:20 UTC")
    # Posted 00:40 on 3 March: the window began the evening before, not later that day.
    assert anchor_stated_window(start, end, anchor=at(3, 0, 40), posted_at=at(3, 0, 40)) == (
        at(2, 23, 50),
        at(3, 0, 20),
    )


def test_lifecycle_and_stage_durations():
    inc = incidents_frame(
        {
            "incident_id": "i1",
            "created_at": at(2, 10, 5),
            "updated_at": at(4, 12),
            "started_at": at(2, 10),
            "resolved_at": at(2, 12),
            "shortlink": "https://stspg.io/x",
        }
    )
    upd = updates_frame(
        ("i1", "investigating", at(2, 10, 5), "We are investigating elevated errors."),
        ("i1", "update", at(2, 10, 20), "Still investigating."),
        ("i1", "identified", at(2, 10, 30), "The issue has been identified."),
        ("i1", "monitoring", at(2, 11), "A fix has been implemented."),
        ("i1", "resolved", at(2, 12), "This incident has been resolved."),
        ("i1", "postmortem", at(4, 12), "Postmortem published."),
    )
    row = one(incidents_mart(inc, upd, None, None), "i1")
    assert row["started_at"] == at(2, 10)
    assert row["acknowledged_at"] == at(2, 10, 5)
    assert (row["identified_at"], row["monitoring_at"]) == (at(2, 10, 30), at(2, 11))
    assert (row["resolved_at"], row["postmortem_at"]) == (at(2, 12), at(4, 12))
    assert row["duration_minutes"] == 120.0
    assert row["time_to_acknowledge"] == 5.0
    assert row["time_to_identify"] == 25.0  # investigating 10:05 -> identified 10:30
    assert row["time_to_repair"] == 30.0
    assert row["time_to_verify"] == 60.0
    assert row["time_to_postmortem"] == 2 * 24 * 60.0
    assert row["posted_after_the_fact"] is False and row["stated_window"] is False
    assert row["components"] == [] and row["capabilities"] == []
    assert row["update_count"] == 6
    assert list(incidents_mart(inc, upd, None, None).columns) == list(INCIDENT_COLUMNS)


def test_incident_io_without_started_at_falls_back_to_first_update_then_created_at():
    inc = incidents_frame(
        {
            "incident_id": "o1",
            "provider": "openai",
            "page_kind": "incident_io",
            "created_at": at(5, 14),
            "updated_at": at(5, 15),
            "resolved_at": at(5, 15),
        },
        {
            "incident_id": "o2",
            "provider": "openai",
            "page_kind": "incident_io",
            "created_at": at(6, 8),
            "updated_at": at(6, 9),
            "resolved_at": at(6, 9),
        },
    )
    upd = updates_frame(
        ("o1", "investigating", at(5, 14, 10), "Elevated error rates for ChatGPT.", "openai"),
        ("o1", "resolved", at(5, 15), "Resolved.", "openai"),
    )
    mart = incidents_mart(inc, upd, None, None)
    first = one(mart, "o1")
    assert first["started_at"] == first["vendor_started_at"] == at(5, 14, 10)
    assert first["duration_minutes"] == 50.0
    assert first["time_to_acknowledge"] == 0.0
    assert one(mart, "o2")["started_at"] == at(6, 8)  # no updates at all: created_at
    assert one(mart, "o2")["components"] == []


def test_stated_window_overrides_vendor_times_and_keeps_them():
    inc = incidents_frame(
        {
            "incident_id": "s1",
            "created_at": at(2, 21),
            "updated_at": at(2, 21),
            "started_at": at(2, 21),
            "resolved_at": at(2, 21),
        }
    )
    upd = updates_frame(
        ("s1", "resolved", at(2, 21), "Between 19:52 and 20:35 UTC, claude.ai returned errors.")
    )
    row = one(incidents_mart(inc, upd, None, None), "s1")
    assert (row["started_at"], row["resolved_at"]) == (at(2, 19, 52), at(2, 20, 35))
    assert (row["vendor_started_at"], row["vendor_resolved_at"]) == (at(2, 21), at(2, 21))
    assert row["stated_window"] is True
    assert row["duration_minutes"] == 43.0
    assert row["time_to_acknowledge"] == 68.0  # real start 19:52 -> first post 21:00
    assert row["posted_after_the_fact"] is True


def test_stated_window_across_midnight_uses_the_evening_before():
    inc = incidents_frame(
        {"incident_id": "m1", "created_at": at(3, 0, 40), "updated_at": at(3, 1), "resolved_at": at(3, 1)}
    )
    upd = updates_frame(
        ("m1", "monitoring", at(3, 0, 40), "Errors from 23:50-00:20 UTC; we are monitoring."),
        ("m1", "resolved", at(3, 1), "Resolved."),
    )
    row = one(incidents_mart(inc, upd, None, None), "m1")
    assert (row["started_at"], row["resolved_at"]) == (at(2, 23, 50), at(3, 0, 20))
    assert row["duration_minutes"] == 30.0
    assert row["posted_after_the_fact"] is True  # first post 00:40 came after the 00:20 end


def test_latest_stated_window_wins():
    inc = incidents_frame(
        {
            "incident_id": "w1",
            "started_at": at(2, 19, 55),
            "created_at": at(2, 20),
            "updated_at": at(3, 9),
            "resolved_at": at(2, 21),
        }
    )
    upd = updates_frame(
        ("w1", "investigating", at(2, 20), "Errors since 19:55 UTC."),
        ("w1", "resolved", at(2, 21), "Errors from 19:55-20:40 UTC."),
        ("w1", "postmortem", at(3, 9), "Between 19:52 and 20:35 UTC requests failed."),
    )
    row = one(incidents_mart(inc, upd, None, None), "w1")
    assert (row["started_at"], row["resolved_at"]) == (at(2, 19, 52), at(2, 20, 35))
    assert row["posted_after_the_fact"] is False


def test_only_a_resolved_update_is_posted_after_the_fact():
    inc = incidents_frame(
        {
            "incident_id": "r1",
            "started_at": at(7, 9),
            "created_at": at(7, 11),
            "updated_at": at(7, 11),
            "resolved_at": at(7, 11),
        }
    )
    upd = updates_frame(("r1", "resolved", at(7, 11), "A brief outage affected logins."))
    row = one(incidents_mart(inc, upd, None, None), "r1")
    assert row["posted_after_the_fact"] is True
    assert row["duration_minutes"] == 120.0 and row["stated_window"] is False


def test_unresolved_incident_keeps_resolved_at_null():
    inc = incidents_frame(
        {
            "incident_id": "u1",
            "status": "monitoring",
            "started_at": at(8, 10),
            "created_at": at(8, 10),
            "updated_at": at(8, 11),
            "monitoring_at": at(8, 11),
        }
    )
    upd = updates_frame(
        ("u1", "investigating", at(8, 10), "Investigating errors from 09:50-10:05 UTC."),
        ("u1", "monitoring", at(8, 11), "Monitoring."),
    )
    row = one(incidents_mart(inc, upd, None, None), "u1")
    assert row["resolved_at"] is None and row["vendor_resolved_at"] is None
    assert row["duration_minutes"] is None and row["time_to_verify"] is None
    assert row["started_at"] == at(8, 9, 50)  # the stated start still applies
    assert row["monitoring_at"] == at(8, 11)
    assert row["posted_after_the_fact"] is False
    assert row["last_seen_at"] == at(8, 11)  # updated_at / last update; no snapshot_at column given


def test_components_and_capabilities_from_affected_components():
    inc = incidents_frame(
        {
            "incident_id": "c1",
            "started_at": at(2, 10),
            "created_at": at(2, 10),
            "updated_at": at(2, 12),
            "resolved_at": at(2, 12),
        }
    )
    upd = updates_frame(("c1", "investigating", at(2, 10), "x"), ("c1", "resolved", at(2, 12), "y"))
    aff = affected_frame(
        ("c1", "claude.ai", "operational", "major_outage", at(2, 10)),
        ("c1", "Claude Code", "operational", "partial_outage", at(2, 10)),
        ("c1", "claude.ai", "major_outage", "operational", at(2, 12)),
    )
    row = one(incidents_mart(inc, upd, aff, CAPABILITIES), "c1")
    assert row["components"] == ["Claude Code", "claude.ai"]
    assert row["capabilities"] == ["consumer_app"]  # Claude Code is not in this mapping


def test_newest_snapshot_row_wins_when_staging_repeats_an_incident():
    inc = incidents_frame(
        {
            "incident_id": "d1",
            "status": "investigating",
            "started_at": at(2, 10),
            "created_at": at(2, 10),
            "updated_at": at(2, 10),
        },
        {
            "incident_id": "d1",
            "status": "resolved",
            "started_at": at(2, 10),
            "created_at": at(2, 10),
            "updated_at": at(2, 11),
            "resolved_at": at(2, 11),
        },
    )
    mart = incidents_mart(inc, None, None, None)
    assert mart.height == 1
    assert one(mart, "d1")["resolved_at"] == at(2, 11)


def test_missing_key_columns_are_reported_with_the_table_name():
    with pytest.raises(ValueError, match="staging.status_incidents.*incident_id"):
        incidents_mart(pl.DataFrame({"provider": ["x"]}), None, None, None)


# -- components and impact read from the incident's own words (feeds without lists) ------------------

FEED_COMPONENTS = ["Claude Code", "API", "Claude API (api.anthropic.com)", "claude.ai"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Degraded performance for Claude Code", ["Claude Code"]),
        ("degraded performance for CLAUDE   code and the api", ["API", "Claude Code"]),  # any case, spaces
        ("Errors on Claude API (api.anthropic.com)", ["Claude API (api.anthropic.com)"]),  # not also "API"
        (
            "Errors on Claude API (api.anthropic.com) and the public API",
            ["API", "Claude API (api.anthropic.com)"],
        ),
        ("claude.ai login failures", ["claude.ai"]),
        ("Rapid growth, APIs and Claude Coder", []),  # whole words only: not rAPId, APIs or Coder
        ("Elevated errors on Claude Opus 4.6", []),
        (None, []),
    ],
)
def test_components_named_in_the_text_are_whole_words_any_case(text, expected):
    assert components_named(text, FEED_COMPONENTS) == expected


@pytest.mark.parametrize(
    ("title", "body", "statuses", "expected"),
    [
        ("Major outage of claude.ai", "We are investigating.", (), "critical"),
        ("Partial outage for Claude Code", "", (), "major"),
        ("Elevated latency on the API", "Users may see a partial outage.", (), "major"),  # worst wins
        ("Elevated latency on the API", "We are investigating.", (), "minor"),
        (
            "Elevated errors on the API",
            "We are investigating.",
            (),
            "major",
        ),  # failing requests: partial outage
        ("Slow responses", "Error rates have returned to normal levels.", (), "minor"),  # not "errors"
        ("Degraded performance for Claude Code", None, (), "minor"),
        ("Scheduled maintenance of the API", "The API will be unavailable.", (), "maintenance"),
        ("Database upgrade", "Work is under way.", ("scheduled", "in_progress", "completed"), "maintenance"),
        ("Sign-in change", "We are investigating reports.", ("investigating",), None),  # no status words
    ],
)
def test_impact_from_status_words(title, body, statuses, expected):
    text = "\n".join(t for t in (title, body) if t)
    assert impact_from_words(title, text, statuses) == expected


def test_feed_incident_without_lists_gets_inferred_components_capabilities_and_impact():
    capabilities = {"anthropic": {"Claude Code": "coding_agent", "API": "api", "claude.ai": "consumer_app"}}
    inc = incidents_frame(
        {
            "incident_id": "f1",
            "title": "Degraded performance for Claude Code",
            "impact": None,
            "page_kind": "atom",
            "created_at": at(2, 10),
            "resolved_at": at(2, 11),
        },
        {
            "incident_id": "f2",
            "title": "Slow responses",
            "impact": None,
            "page_kind": "atom",
            "created_at": at(2, 12),
            "resolved_at": at(2, 13),
        },
        {
            "incident_id": "s1",
            "title": "Major outage of claude.ai",
            "impact": "minor",
            "created_at": at(2, 14),
            "resolved_at": at(2, 15),
        },
        {
            "incident_id": "f3",
            "title": "Scheduled work",
            "impact": None,
            "page_kind": "atom",
            "created_at": at(2, 16),
            "resolved_at": at(2, 17),
        },
    )
    upd = updates_frame(
        ("f1", "investigating", at(2, 10), "We are investigating degraded performance for Claude Code."),
        (
            "f2",
            "investigating",
            at(2, 12),
            "Requests to the API and claude.ai are failing: a partial outage.",
        ),
        ("s1", "investigating", at(2, 14), "Investigating."),
        ("f3", "resolved", at(2, 17), "Done."),
    )
    listed = affected_frame(("s1", "Claude Code", "operational", "degraded_performance", at(2, 14)))
    mart = incidents_mart(inc, upd, listed, capabilities)
    f1, f2, s1, f3 = (one(mart, i) for i in ("f1", "f2", "s1", "f3"))
    assert (f1["components"], f1["capabilities"], f1["components_inferred"]) == (
        ["Claude Code"],
        ["coding_agent"],
        True,
    )
    assert (f1["impact"], f1["impact_inferred"]) == ("minor", True)
    assert f2["components"] == ["API", "claude.ai"] and f2["capabilities"] == ["api", "consumer_app"]
    assert (f2["impact"], f2["impact_inferred"]) == ("major", True)  # "partial outage" beats "slow"
    # a listed component and a published impact always win over the words
    assert (s1["components"], s1["components_inferred"]) == (["Claude Code"], False)
    assert (s1["impact"], s1["impact_inferred"]) == ("minor", False)
    # nothing in the words: nothing inferred, nothing invented
    assert (f3["components"], f3["components_inferred"], f3["impact"], f3["impact_inferred"]) == (
        [],
        False,
        None,
        False,
    )
