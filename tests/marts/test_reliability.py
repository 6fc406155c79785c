"""marts.component_reliability: worst-status timelines, weighted uptime, MTTR/MTBF, ranking sensitivity.

Every expected value is worked out by hand in the comment beside it.
"""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from assets.marts.incidents.assets import incidents
from assets.marts.incidents.lifecycle import incidents_mart
from assets.marts.reliability.assets import component_reliability
from assets.marts.reliability.components import COMPONENT_ALL, COMPONENT_PROVIDER
from assets.marts.reliability.mart import reliability_mart
from assets.marts.reliability.timeline import status_timeline
from assets.marts.reliability.uptime import UptimePolicy, ranking_changes
from pipelines.core.warehouse import connect, read_table, replace_table
from pipelines.core.window import analysis_window

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")
DAY_START = dt.datetime(2026, 3, 2, tzinfo=UTC)
DAY_END = dt.datetime(2026, 3, 3, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def mart_incidents(*rows: tuple) -> pl.DataFrame:
    """marts.incidents rows: (provider, incident_id, impact, started_at, resolved_at, components)."""
    return pl.DataFrame(
        [
            {
                "provider": r[0],
                "incident_id": r[1],
                "impact": r[2],
                "started_at": r[3],
                "resolved_at": r[4],
                "components": r[5],
            }
            for r in rows
        ],
        schema={
            "provider": pl.String,
            "incident_id": pl.String,
            "impact": pl.String,
            "started_at": TS,
            "resolved_at": TS,
            "components": pl.List(pl.String),
        },
    )


def affected(*rows: tuple) -> pl.DataFrame:
    """staging.status_affected_components rows: (provider, incident_id, component, old, new, created_at)."""
    return pl.DataFrame(
        [
            {
                "provider": r[0],
                "incident_id": r[1],
                "update_id": f"{r[1]}-{i}",
                "component_name": r[2],
                "old_status": r[3],
                "new_status": r[4],
                "created_at": r[5],
            }
            for i, r in enumerate(rows)
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


def watched(start: dt.datetime, end: dt.datetime, *providers: str) -> pl.DataFrame:
    """Status-page snapshots of each provider at `start` and at `end`: evidence for the whole window."""
    return pl.DataFrame(
        [(p, moment) for p in providers for moment in (start, end)],
        schema={"provider": pl.String, "snapshot_at": TS},
        orient="row",
    )


def row(frame: pl.DataFrame, provider: str, component: str, period: str = "all") -> dict:
    rows = frame.filter(
        (pl.col("provider") == provider) & (pl.col("component") == component) & (pl.col("period") == period)
    ).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


# A 60-minute partial outage 10:00-11:00 and a 30-minute major outage 10:30-11:00 on one component.
OVERLAP = mart_incidents(
    ("anthropic", "p1", "major", at(2, 10), at(2, 11), ["API"]),  # impact major -> partial_outage
    ("anthropic", "m1", "critical", at(2, 10, 30), at(2, 11), ["API"]),  # impact critical -> major_outage
)


def test_overlap_keeps_the_worst_status_per_slice():
    timeline = status_timeline(OVERLAP, None, DAY_START, DAY_END)
    assert timeline.select("slice_start", "slice_end", "status", "minutes").rows() == [
        (at(2, 10), at(2, 10, 30), "partial_outage", 30.0),
        (at(2, 10, 30), at(2, 11), "major_outage", 30.0),
    ]


@pytest.mark.parametrize("affected_components", [False, True], ids=["from-impact", "from-transitions"])
def test_uptime_of_overlapping_partial_and_major_under_each_policy(affected_components):
    # The same outage described by component status transitions instead of impacts must give the same numbers.
    transitions = (
        affected(
            ("anthropic", "p1", "API", "operational", "partial_outage", at(2, 10)),
            ("anthropic", "p1", "API", "partial_outage", "operational", at(2, 11)),
            ("anthropic", "m1", "API", "operational", "major_outage", at(2, 10, 30)),
            ("anthropic", "m1", "API", "major_outage", "operational", at(2, 11)),
        )
        if affected_components
        else None
    )
    mart = reliability_mart(
        OVERLAP, transitions, DAY_START, DAY_END, snapshots=watched(DAY_START, DAY_END, "anthropic")
    )
    api = row(mart, "anthropic", "API")
    # weighted down = 30 min major * 1.0 + 30 min partial * 0.3 = 39 of 1440 minutes
    assert api["weighted_down_minutes"] == pytest.approx(39.0)
    assert api["uptime_pct"] == pytest.approx(100 * (1 - 39 / 1440))  # 97.2917
    assert api["uptime_pct_w03"] == pytest.approx(100 * (1 - 39 / 1440))
    assert api["uptime_pct_w0"] == pytest.approx(100 * (1 - 30 / 1440))  # 97.9167: only the major half
    assert api["uptime_pct_w05"] == pytest.approx(100 * (1 - 45 / 1440))  # 30 + 15
    assert api["uptime_pct_w1"] == pytest.approx(100 * (1 - 60 / 1440))  # never 90 (no double count)
    assert (api["major_outage_minutes"], api["partial_outage_minutes"]) == (30.0, 30.0)
    assert (api["weight_major"], api["weight_partial"], api["weight_degraded"]) == (1.0, 0.3, 0.0)
    assert api["maintenance_excluded"] is True
    # The provider row over the union timeline equals its only component here.
    assert row(mart, "anthropic", COMPONENT_PROVIDER)["uptime_pct"] == pytest.approx(api["uptime_pct"])


def test_maintenance_leaves_the_denominator_and_loses_to_an_outage():
    incidents = mart_incidents(
        ("anthropic", "mx", "maintenance", at(2, 1), at(2, 3), ["API"]),  # 120 min maintenance 01:00-03:00
        ("anthropic", "o1", "critical", at(2, 2), at(2, 4), ["API"]),  # major 02:00-04:00
    )
    snapshots = watched(DAY_START, DAY_END, "anthropic")
    mart = reliability_mart(incidents, None, DAY_START, DAY_END, snapshots=snapshots)
    api = row(mart, "anthropic", "API")
    # worst status per slice: 01:00-02:00 maintenance (60), 02:00-04:00 major (120)
    assert (api["maintenance_minutes"], api["major_outage_minutes"]) == (60.0, 120.0)
    assert api["counted_minutes"] == 1440 - 60
    assert api["uptime_pct"] == pytest.approx(100 * (1 - 120 / 1380))  # 91.3043
    assert api["incidents"] == 1  # maintenance is not an incident
    counted_in = reliability_mart(
        incidents,
        None,
        DAY_START,
        DAY_END,
        policy=UptimePolicy(maintenance_excluded=False),
        snapshots=snapshots,
    )
    assert row(counted_in, "anthropic", "API")["uptime_pct"] == pytest.approx(100 * (1 - 120 / 1440))
    assert row(counted_in, "anthropic", "API")["maintenance_excluded"] is False


# Five incidents on API (starts 1, 2, 4, 7, 11 March; durations 0.5, 1, 2, 4, 10 h) and one on Console.
FIVE = mart_incidents(
    ("openai", "a1", "major", at(1, 0), at(1, 0, 30), ["API"]),
    ("openai", "a2", "major", at(2, 0), at(2, 1), ["API"]),
    ("openai", "c1", "minor", at(3, 0), at(3, 6), ["Console"]),
    ("openai", "a3", "major", at(4, 0), at(4, 2), ["API"]),
    ("openai", "a4", "major", at(7, 0), at(7, 4), ["API"]),
    ("openai", "a5", "major", at(11, 0), at(11, 10), ["API"]),
)
MARCH_1_TO_30 = (at(1, 0), at(31, 0))  # 30 days


def test_mttr_and_mtbf_on_five_incidents_by_hand():
    mart = reliability_mart(FIVE, None, *MARCH_1_TO_30, snapshots=watched(*MARCH_1_TO_30, "openai"))
    api = row(mart, "openai", "API")
    assert api["incidents"] == 5 and api["resolved_incidents"] == 5
    assert api["mttr_mean_hours"] == pytest.approx(3.5)  # (0.5 + 1 + 2 + 4 + 10) / 5
    assert api["mttr_median_hours"] == pytest.approx(2.0)
    assert api["mttr_p90_hours"] == pytest.approx(7.6)  # rank 0.9 * 4 = 3.6: 4 + 0.6 * (10 - 4)
    assert api["mtbf_mean_days"] == pytest.approx(2.5)  # gaps 1, 2, 3, 4 days (Console's 3 March ignored)
    assert api["share_resolved_1h"] == pytest.approx(0.4)  # 0.5 h and exactly 1 h
    assert api["share_resolved_3h"] == pytest.approx(0.6)
    assert api["incidents_per_30d"] == pytest.approx(5.0)
    console = row(mart, "openai", "Console")
    assert console["incidents"] == 1 and console["mtbf_mean_days"] is None
    assert console["mttr_mean_hours"] == pytest.approx(6.0)
    provider = row(mart, "openai", COMPONENT_PROVIDER)
    assert provider["incidents"] == 6
    assert provider["mtbf_mean_days"] == pytest.approx(2.0)  # (11 - 1) days / 5 gaps
    # Monthly period equals the window here; a component with no incidents has no MTTR and full uptime.
    assert row(mart, "openai", "API", "2026-03")["mttr_mean_hours"] == pytest.approx(3.5)


def test_mttr_runs_from_started_at_not_from_the_first_update():
    # Vendor says it started 10:00, first post 10:20, resolved 11:00: MTTR is 60 min, not 40.
    staged = pl.DataFrame(
        {
            "provider": ["anthropic"],
            "incident_id": ["x1"],
            "title": ["t"],
            "status": ["resolved"],
            "impact": ["critical"],
            "created_at": [at(2, 10, 20)],
            "updated_at": [at(2, 11)],
            "started_at": [at(2, 10)],
            "resolved_at": [at(2, 11)],
            "monitoring_at": [None],
            "shortlink": [None],
            "page_kind": ["statuspage"],
        },
        schema_overrides={"monitoring_at": TS, "shortlink": pl.String},
    )
    updates = pl.DataFrame(
        {
            "provider": ["anthropic"] * 2,
            "incident_id": ["x1"] * 2,
            "update_id": ["u1", "u2"],
            "status": ["investigating", "resolved"],
            "body": ["Investigating.", "Resolved."],
            "created_at": [at(2, 10, 20), at(2, 11)],
        }
    )
    mart = reliability_mart(
        incidents_mart(staged, updates, None, None),
        None,
        DAY_START,
        DAY_END,
        snapshots=watched(DAY_START, DAY_END, "anthropic"),
    )
    assert row(mart, "anthropic", COMPONENT_ALL)["mttr_mean_hours"] == pytest.approx(1.0)
    assert row(mart, "anthropic", COMPONENT_ALL)["major_outage_minutes"] == 60.0


def test_monthly_periods_split_incidents_by_start():
    incidents = mart_incidents(
        ("google", "g1", "critical", at(27, 23, month=2), at(28, 1, month=2), []),
        ("google", "g2", "critical", at(28, 23, month=2), at(1, 1), []),  # crosses into March
        ("google", "g3", "minor", at(5, 12), at(5, 13), []),
    )
    mart = reliability_mart(
        incidents,
        None,
        at(1, 0, month=2),
        at(31, 0),
        snapshots=watched(at(1, 0, month=2), at(31, 0), "google"),
    )
    feb, mar = row(mart, "google", COMPONENT_ALL, "2026-02"), row(mart, "google", COMPONENT_ALL, "2026-03")
    assert (feb["incidents"], mar["incidents"]) == (2, 1)
    assert feb["mtbf_mean_days"] == pytest.approx(1.0)
    assert feb["major_outage_minutes"] == 120 + 60  # g1 2 h, g2 until midnight
    assert mar["major_outage_minutes"] == 60 and mar["degraded_minutes"] == 60
    assert feb["counted_minutes"] == 28 * 1440 and mar["counted_minutes"] == 30 * 1440
    assert row(mart, "google", COMPONENT_ALL)["incidents"] == 3


def test_after_the_fact_transition_uses_old_status_from_the_start():
    # Only a resolved post at 12:00 saying API went major_outage -> operational; incident started 10:00.
    incidents = mart_incidents(("anthropic", "late", "critical", at(2, 10), at(2, 12), ["API"]))
    transitions = affected(("anthropic", "late", "API", "major_outage", "operational", at(2, 12)))
    timeline = status_timeline(incidents, transitions, DAY_START, DAY_END)
    assert timeline.select("slice_start", "slice_end", "status").rows() == [
        (at(2, 10), at(2, 12), "major_outage")
    ]


def test_transitions_are_cut_at_a_stated_resolution_and_unresolved_runs_to_window_end():
    incidents = mart_incidents(
        # stated window ended 11:00 although the operational post came at 11:30
        ("anthropic", "s1", "major", at(2, 10), at(2, 11), ["API"]),
        ("anthropic", "open", "minor", at(2, 20), None, []),
    )
    transitions = affected(
        ("anthropic", "s1", "API", "operational", "major_outage", at(2, 10, 15)),
        ("anthropic", "s1", "API", "major_outage", "partial_outage", at(2, 10, 45)),
        ("anthropic", "s1", "API", "partial_outage", "operational", at(2, 11, 30)),
    )
    timeline = status_timeline(incidents, transitions, DAY_START, DAY_END)
    assert timeline.select("component", "slice_start", "slice_end", "status").rows() == [
        (COMPONENT_ALL, at(2, 20), DAY_END, "degraded_performance"),
        ("API", at(2, 10), at(2, 10, 45), "major_outage"),  # posted 10:15, started 10:00
        ("API", at(2, 10, 45), at(2, 11), "partial_outage"),
    ]


def test_open_incident_lasts_until_last_seen_and_unknown_impact_is_partial():
    incidents = mart_incidents(
        ("google", "feed", None, at(2, 6), at(2, 7), []),  # Atom feeds publish no impact
        ("google", "open", "critical", at(2, 10), None, ["Gemini API"]),
    ).with_columns(last_seen_at=pl.Series([at(2, 7), at(2, 12, 30)], dtype=TS))
    timeline = status_timeline(incidents, None, DAY_START, DAY_END)
    assert timeline.select("component", "slice_start", "slice_end", "status").rows() == [
        (COMPONENT_ALL, at(2, 6), at(2, 7), "partial_outage"),
        ("Gemini API", at(2, 10), at(2, 12, 30), "major_outage"),  # last snapshot 12:30, not midnight
    ]


def test_component_list_on_the_incident_is_not_a_transition():
    # incident.io lists components on the incident with their status at snapshot time (operational
    # after the fact): the impact (major -> partial_outage 10:00-11:00) must still count.
    incidents = mart_incidents(("openai", "io1", "major", at(2, 10), at(2, 11), ["ChatGPT"]))
    listed = affected(("openai", "io1", "ChatGPT", None, "operational", at(2, 10))).with_columns(
        update_id=pl.lit(None, dtype=pl.String), origin=pl.lit("incident")
    )
    timeline = status_timeline(incidents, listed, DAY_START, DAY_END)
    assert timeline.select("component", "slice_start", "slice_end", "status").rows() == [
        ("ChatGPT", at(2, 10), at(2, 11), "partial_outage")
    ]


def test_provider_row_is_the_union_timeline_of_its_components():
    incidents = mart_incidents(
        ("anthropic", "a", "critical", at(2, 10), at(2, 11), ["API"]),
        ("anthropic", "b", "major", at(2, 10, 30), at(2, 12), ["claude.ai"]),
    )
    mart = reliability_mart(
        incidents, None, DAY_START, DAY_END, snapshots=watched(DAY_START, DAY_END, "anthropic")
    )
    provider = row(mart, "anthropic", COMPONENT_PROVIDER)
    # 10:00-11:00 major (API), 11:00-12:00 partial (claude.ai): 60 + 0.3 * 60 = 78
    assert provider["weighted_down_minutes"] == pytest.approx(78.0)
    assert provider["uptime_pct"] == pytest.approx(100 * (1 - 78 / 1440))


def ranked(*providers: tuple) -> pl.DataFrame:
    names = sorted({p[0] for p in providers})
    return reliability_mart(
        mart_incidents(*providers), None, DAY_START, DAY_END, snapshots=watched(DAY_START, DAY_END, *names)
    )


def test_ranking_changes_with_policy_when_partial_weight_decides():
    # A: 300 min partial; B: 120 min major. w0: A 0 down < B 120; w1: A 300 > B 120 -> order flips.
    mart = ranked(
        ("a", "1", "major", at(2, 0), at(2, 5), []),
        ("b", "2", "critical", at(2, 0), at(2, 2), []),
    )
    assert mart["ranking_changes_with_policy"].all()
    # w03: A 90 < B 120 -> A ahead; w05: A 150 > B 120 -> B ahead.
    assert (
        row(mart, "a", COMPONENT_PROVIDER)["uptime_pct_w03"]
        > row(mart, "b", COMPONENT_PROVIDER)["uptime_pct_w03"]
    )
    assert (
        row(mart, "a", COMPONENT_PROVIDER)["uptime_pct_w05"]
        < row(mart, "b", COMPONENT_PROVIDER)["uptime_pct_w05"]
    )


def test_ranking_stable_when_only_major_outages_differ():
    mart = ranked(
        ("a", "1", "critical", at(2, 0), at(2, 1), []),
        ("b", "2", "critical", at(2, 0), at(2, 2), []),
        ("b", "3", "major", at(2, 5), at(2, 6), []),  # B only gets worse as the partial weight grows
    )
    assert not mart["ranking_changes_with_policy"].any()


def test_ranking_changes_ignores_ties():
    assert ranking_changes({"a": [100.0, 99.0], "b": [100.0, 98.0]}) is False
    assert ranking_changes({"a": [99.0, 98.0], "b": [98.5, 98.5]}) is True


def test_config_components_without_incidents_get_full_uptime():
    capabilities = {"anthropic": {"API": "api", "claude.ai": "consumer_app"}}
    mart = reliability_mart(
        OVERLAP, None, DAY_START, DAY_END, capabilities, snapshots=watched(DAY_START, DAY_END, "anthropic")
    )
    quiet = row(mart, "anthropic", "claude.ai")
    assert quiet["incidents"] == 0 and quiet["uptime_pct"] == 100.0 and quiet["mttr_mean_hours"] is None
    assert quiet["capability"] == "consumer_app" and quiet["incidents_per_30d"] == 0.0
    assert set(mart.filter(pl.col("period") == "all")["component"]) == {
        "API",
        "claude.ai",
        COMPONENT_PROVIDER,
    }


def test_both_assets_materialize_from_staged_tables(data_dir, workspace):
    staged = pl.DataFrame(
        {
            "provider": ["anthropic", "openai"],
            "incident_id": ["inc-1", "inc-2"],
            "title": ["Elevated errors on claude.ai", "ChatGPT unavailable"],
            "status": ["resolved", "resolved"],
            "impact": ["critical", "major"],
            "created_at": [at(2, 11, 55), at(3, 9)],
            "updated_at": [at(2, 14), at(3, 9)],
            "started_at": [at(2, 11, 49), None],
            "resolved_at": [at(2, 14), at(3, 9)],
            "monitoring_at": [at(2, 13), None],
            "shortlink": ["https://stspg.io/1", None],
            "page_kind": ["statuspage", "incident_io"],
            "snapshot_file": [
                "raw/status_pages/anthropic/20260302T150000Z-incidents.json",
                "raw/status_pages/openai/20260303T100000Z-incidents.json",
            ],
            "snapshot_at": [at(2, 15), at(3, 10)],
        },
        schema_overrides={"started_at": TS},
    )
    # Anthropic's summary.json was also archived on the window's first and last day: evidence for all of it.
    summaries = pl.DataFrame(
        {
            "provider": ["anthropic", "anthropic"],
            "component_id": ["c1", "c1"],
            "status": ["operational", "operational"],
            "snapshot_at": [at(1, 0, month=12).replace(year=2025), at(15, 23, 50)],
        }
    )
    updates = pl.DataFrame(
        {
            "provider": ["anthropic"] * 3 + ["openai"],
            "incident_id": ["inc-1"] * 3 + ["inc-2"],
            "update_id": ["u1", "u2", "u3", "u4"],
            "status": ["investigating", "monitoring", "resolved", "resolved"],
            "body": [
                "Investigating.",
                "Fix deployed.",
                "Resolved.",
                "From 07:10-08:25 UTC ChatGPT was unavailable.",
            ],
            "created_at": [at(2, 11, 55), at(2, 13), at(2, 14), at(3, 9)],
            "display_at": [at(2, 11, 55), at(2, 13), at(2, 14), at(3, 9)],
            "display_text": [None] * 4,
        },
        schema_overrides={"display_text": pl.String},
    )
    transitions = affected(
        ("anthropic", "inc-1", "claude.ai", "operational", "major_outage", at(2, 11, 55)),
        ("anthropic", "inc-1", "claude.ai", "major_outage", "operational", at(2, 14)),
    )
    with connect(data_dir / "warehouse.duckdb") as con:
        replace_table(con, "staging.status_incidents", staged)
        replace_table(con, "staging.status_incident_updates", updates)
        replace_table(con, "staging.status_affected_components", transitions)
        replace_table(con, "staging.status_components", summaries)

    result = dg.materialize([incidents, component_reliability], resources={"workspace": workspace})
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 2 and all(check.passed for check in checks)

    with connect(data_dir / "warehouse.duckdb", read_only=True) as con:
        mart = read_table(con, "marts.incidents")
        reliability = read_table(con, "marts.component_reliability")
    assert mart.height == 2
    openai = mart.filter(pl.col("provider") == "openai").to_dicts()[0]
    assert openai["duration_minutes"] == 75.0 and openai["stated_window"] is True
    assert openai["posted_after_the_fact"] is True
    assert mart.filter(pl.col("provider") == "anthropic")["components"].to_list() == [["claude.ai"]]

    window = analysis_window(workspace.providers())  # no run tags: the config's analysis block
    window_start, window_end = window.start_ts, window.end_ts
    assert reliability["window_start"].unique().to_list() == [window_start]
    assert reliability["window_end"].unique().to_list() == [window_end]
    # evidence: 2025-12-01 00:00 (first summary) .. 2026-03-15 23:50 (last summary), 10 minutes short
    evidenced_minutes = (window_end - window_start).total_seconds() / 60 - 10
    claude = row(reliability, "anthropic", "claude.ai")
    assert claude["evidence_minutes"] == evidenced_minutes and claude["evidence_state"] == "incidents"
    # major from the 11:49 start to the 14:00 resolution = 131 minutes over the evidenced window
    assert claude["major_outage_minutes"] == 131.0
    assert claude["uptime_pct"] == pytest.approx(100 * (1 - 131 / evidenced_minutes))
    assert claude["capability"] == "consumer_app"
    # openai lists no components, but its title names ChatGPT: the stated 75-minute partial outage is
    # ChatGPT's; its only evidence runs from the stated start 07:10 to the snapshot at 10:00 on 3 March
    assert openai["components"] == ["ChatGPT"] and openai["components_inferred"] is True
    assert openai["capabilities"] == ["consumer_app"] and openai["impact_inferred"] is False
    openai_march = row(reliability, "openai", "ChatGPT", "2026-03")
    assert openai_march["partial_outage_minutes"] == 75.0 and openai_march["evidence_minutes"] == 170.0
    assert openai_march["uptime_pct"] == pytest.approx(100 * (1 - 0.3 * 75 / 170))
    openai_january = row(reliability, "openai", COMPONENT_PROVIDER, "2026-01")
    assert openai_january["uptime_pct"] is None and openai_january["incidents"] is None
    assert openai_january["evidence_state"] == "no_evidence"
    assert "covers 2026-03-03 07:10 to 2026-03-03 10:00 UTC only" in openai_january["uptime_missing_reason"]
    # google is configured but nothing of it was loaded: no uptime, never 100%
    google = row(reliability, "google", COMPONENT_PROVIDER)
    assert google["uptime_pct"] is None and google["evidence_state"] == "no_evidence"
    assert (
        google["uptime_missing_reason"] == "no status-page snapshot or incident of this provider was loaded"
    )
    assert set(reliability["period"]) >= {"all", "2025-12", "2026-01", "2026-02", "2026-03"}


# -- no data is a state: evidence windows -------------------------------------------------------------

CONFIGURED = {"anthropic": {"API": "api"}, "openai": {"ChatGPT": "consumer_app"}}


def test_a_provider_without_snapshots_or_incidents_has_no_uptime_and_says_why():
    mart = reliability_mart(
        OVERLAP, None, DAY_START, DAY_END, CONFIGURED, snapshots=watched(DAY_START, DAY_END, "anthropic")
    )
    for component in (COMPONENT_PROVIDER, "ChatGPT"):
        unseen = row(mart, "openai", component)
        assert unseen["evidence_state"] == "no_evidence" and unseen["evidence_minutes"] == 0.0
        assert unseen["evidence_first_at"] is None and unseen["evidence_last_at"] is None
        assert (
            unseen["uptime_missing_reason"]
            == "no status-page snapshot or incident of this provider was loaded"
        )
        for column in ("uptime_pct", "uptime_pct_w0", "uptime_pct_w1", "incidents", "incidents_per_30d"):
            assert unseen[column] is None, column  # never 100% and never 0 incidents
    assert row(mart, "anthropic", "API")["uptime_missing_reason"] is None
    assert row(mart, "anthropic", "API")["evidence_state"] == "incidents"


def test_snapshots_without_incidents_are_a_genuine_hundred_percent():
    mart = reliability_mart(
        OVERLAP,
        None,
        DAY_START,
        DAY_END,
        CONFIGURED,
        snapshots=watched(DAY_START, DAY_END, "anthropic", "openai"),
    )
    quiet = row(mart, "openai", COMPONENT_PROVIDER)
    assert quiet["uptime_pct"] == 100.0 and quiet["incidents"] == 0
    assert quiet["evidence_state"] == "no_incidents" and quiet["uptime_missing_reason"] is None
    assert quiet["evidence_minutes"] == 1440.0


def test_uptime_counts_only_the_evidenced_part_of_a_period():
    # Snapshots at 06:00 and 18:00 only: 720 evidenced minutes; the 10:00-11:00 outage weighs 39 of them.
    mart = reliability_mart(
        OVERLAP, None, DAY_START, DAY_END, snapshots=watched(at(2, 6), at(2, 18), "anthropic")
    )
    api = row(mart, "anthropic", "API")
    assert (api["evidence_first_at"], api["evidence_last_at"]) == (at(2, 6), at(2, 18))
    assert api["evidence_minutes"] == 720.0 and api["counted_minutes"] == 720.0
    assert api["uptime_pct"] == pytest.approx(100 * (1 - 39 / 720))
    assert api["incidents_per_30d"] == pytest.approx(2 / 720 * 30 * 1440)  # 120 per 30 evidenced days


def test_a_month_outside_the_evidence_has_no_uptime():
    # Window February..March, evidence only on 2 March (incidents from 10:00, snapshot at 18:00).
    mart = reliability_mart(
        OVERLAP, None, at(1, 0, month=2), at(31, 0), snapshots=watched(at(2, 18), at(2, 18), "anthropic")
    )
    february, march = row(mart, "anthropic", "API", "2026-02"), row(mart, "anthropic", "API", "2026-03")
    assert february["uptime_pct"] is None and february["evidence_state"] == "no_evidence"
    assert february["uptime_missing_reason"] == (
        "status-page evidence of this provider covers 2026-03-02 10:00 to 2026-03-02 18:00 UTC only, not this period"
    )
    assert march["evidence_minutes"] == 480.0 and march["uptime_pct"] == pytest.approx(100 * (1 - 39 / 480))
    assert row(mart, "anthropic", "API")["window_start"] == at(1, 0, month=2)
