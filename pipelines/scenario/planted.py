"""The two planted Anthropic outages of 2 and 3 March 2026, calibrated on public reporting of the events.

They are built on the canonical calendar like the rest of the world; only their texts that name a day (the
postmortem, the outage names in the truth) say the day of the written, shifted calendar.
"""

from __future__ import annotations

import datetime as dt

from pipelines.scenario.dates import CRASH_START, SECOND_FAILURE_START, Shift, utc
from pipelines.scenario.ids import stable_id
from pipelines.scenario.incidents import CrowdBump, Effect, Incident, Segment, Update
from pipelines.scenario.providers import ProviderSetup

PLANTED_CROWD_US = (
    # minutes after 11:49, fraction of the US peak (4,780 reports per 5-minute bucket at 12:35)
    (-4, 0.0), (1, 0.20), (6, 0.48), (11, 0.66), (16, 0.78), (21, 0.85), (26, 0.89), (31, 0.92), (41, 0.94),
    (46, 1.0), (51, 0.93), (61, 0.88), (81, 0.80), (101, 0.72), (131, 0.58), (161, 0.45), (189, 0.33),
    (206, 0.22), (221, 0.12), (236, 0.05), (266, 0.02), (311, 0.0),
)
PLANTED_CROWD_US_2 = (
    (-4, 0.0), (1, 0.25), (6, 0.55), (11, 0.72), (16, 0.83), (21, 0.90), (26, 0.93), (35, 1.0), (41, 0.92),
    (56, 0.80), (76, 0.62), (96, 0.45), (116, 0.30), (136, 0.16), (151, 0.07), (171, 0.02), (201, 0.0),
)
CRASH_PEAKS = {"us": 4780.0, "in": 1240.0, "gb": 860.0, "de": 610.0, "sg": 390.0}
SECOND_PEAKS = {"us": 2150.0, "in": 640.0, "gb": 410.0, "de": 300.0, "sg": 180.0}
PLANTED_QUIET = (utc(2026, 3, 2, 4), utc(2026, 3, 4))  # no ordinary Anthropic incident overlaps the outages

Span = tuple[str | None, str, dt.datetime, dt.datetime]  # (component or None, status, start, end)


def _t(h: int, m: int, day: int = 2) -> dt.datetime:
    return utc(2026, 3, day, h, m)


def _segments(setup: ProviderSetup, *spans: Span) -> list[Segment]:
    """Segments of the components this config has (a missing component is None and skipped)."""
    return [Segment(comp, setup.capability_of(comp), status, a, b) for comp, status, a, b in spans if comp]


def _affected(*triples: tuple[str | None, str, str]) -> list[tuple[str, str, str]]:
    return [(c, o, n) for c, o, n in triples if c]


def _update_id(seed: int, outage: int, k: int) -> str:
    return stable_id(seed, "planted", outage, "update", k)


def _crash(seed: int, setup: ProviderSetup, shift: Shift) -> Incident:
    """2 March: logins to claude.ai and Claude Code fail; the API stays largely functional."""
    written_day = shift.day(CRASH_START.date())
    consumer, coding = setup.component("consumer_app"), setup.component("coding_agent")
    api, console = setup.component("api"), setup.component("console")
    user_facing = " and ".join(c for c in (consumer, coding) if c)
    return Incident(
        provider="anthropic",
        incident_id=stable_id(seed, "planted", 1, "incident"),
        title=f"Elevated errors on {user_facing}, including login failures",
        impact="critical",
        started_at=CRASH_START,
        ended_at=_t(15, 35),
        created_at=_t(12, 11),
        page_started_at=CRASH_START,
        updates=[
            Update(_update_id(seed, 1, 0), "investigating", _t(12, 11),
                   f"We are currently investigating elevated errors on {user_facing}, including failed logins.",
                   _affected((consumer, "operational", "major_outage"), (coding, "operational", "major_outage"),
                             (console, "operational", "partial_outage"), (api, "operational", "degraded_performance"))),
            Update(_update_id(seed, 1, 1), "identified", _t(12, 16),
                   "The issue has been identified: our login and session services are overloaded by unprecedented "
                   "demand. We are working on a fix. The Claude API is largely functional."),
            Update(_update_id(seed, 1, 2), "identified", _t(13, 5), "We are continuing to work on a fix for this issue."),
            Update(_update_id(seed, 1, 3), "monitoring", _t(14, 58),
                   "A fix has been implemented and we are monitoring the results. Some users may still see errors.",
                   _affected((consumer, "major_outage", "degraded_performance"),
                             (coding, "major_outage", "degraded_performance"),
                             (console, "partial_outage", "operational"))),
            Update(_update_id(seed, 1, 4), "resolved", _t(15, 41), "This incident has been resolved.",
                   _affected((consumer, "degraded_performance", "operational"),
                             (coding, "degraded_performance", "operational"),
                             (api, "degraded_performance", "operational"))),
            Update(_update_id(seed, 1, 5), "postmortem", _t(17, 30, day=5),
                   f"We have published a post-incident review of the {written_day.day} {written_day:%B} login "
                   "and availability outage."),
        ],
        segments=_segments(setup,
                           (consumer, "major_outage", CRASH_START, _t(14, 58)),
                           (consumer, "degraded_performance", _t(14, 58), _t(15, 41)),
                           (coding, "major_outage", CRASH_START, _t(14, 58)),
                           (coding, "degraded_performance", _t(14, 58), _t(15, 41)),
                           (console, "partial_outage", CRASH_START, _t(14, 58)),
                           (api, "degraded_performance", CRASH_START, _t(15, 41))),
        effects=[Effect("consumer_app", CRASH_START, _t(14, 58), 0.85, 1.5, 0.55, ramp_minutes=6),
                 Effect("coding_agent", CRASH_START, _t(14, 58), 0.85, 1.5, 0.55, ramp_minutes=6),
                 Effect("consumer_app", _t(14, 58), _t(15, 35), 0.20, 1.5, 0.55),
                 Effect("coding_agent", _t(14, 58), _t(15, 35), 0.20, 1.5, 0.55),
                 Effect("api", CRASH_START, _t(15, 35), 0.10, 1.3, 1.0, ramp_minutes=10)],
        crowd=CrowdBump(CRASH_START, CRASH_PEAKS["us"], PLANTED_CROWD_US, dict(CRASH_PEAKS), "login"),
        planted=True,
    )


def _second_failure(seed: int, setup: ProviderSetup) -> Incident:
    """3 March: claude.ai fails again, Claude Code partly; shorter and smaller than the crash."""
    consumer, coding, api = setup.component("consumer_app"), setup.component("coding_agent"), setup.component("api")
    user_facing = " and ".join(c for c in (consumer, coding) if c)
    return Incident(
        provider="anthropic",
        incident_id=stable_id(seed, "planted", 2, "incident"),
        title=f"Elevated errors on {consumer or user_facing}",
        impact="major",
        started_at=SECOND_FAILURE_START,
        ended_at=_t(16, 35, day=3),
        created_at=_t(14, 27, day=3),
        page_started_at=SECOND_FAILURE_START,
        updates=[
            Update(_update_id(seed, 2, 0), "investigating", _t(14, 27, day=3),
                   f"We are investigating elevated errors on {user_facing}.",
                   _affected((consumer, "operational", "major_outage"), (coding, "operational", "partial_outage"),
                             (api, "operational", "degraded_performance"))),
            Update(_update_id(seed, 2, 1), "identified", _t(14, 41, day=3),
                   "The issue has been identified and a fix is being implemented."),
            Update(_update_id(seed, 2, 2), "monitoring", _t(16, 12, day=3),
                   "A fix has been implemented and we are monitoring the results.",
                   _affected((consumer, "major_outage", "degraded_performance"),
                             (coding, "partial_outage", "degraded_performance"))),
            Update(_update_id(seed, 2, 3), "resolved", _t(16, 40, day=3), "This incident has been resolved.",
                   _affected((consumer, "degraded_performance", "operational"),
                             (coding, "degraded_performance", "operational"),
                             (api, "degraded_performance", "operational"))),
        ],
        segments=_segments(setup,
                           (consumer, "major_outage", SECOND_FAILURE_START, _t(16, 12, day=3)),
                           (consumer, "degraded_performance", _t(16, 12, day=3), _t(16, 40, day=3)),
                           (coding, "partial_outage", SECOND_FAILURE_START, _t(16, 12, day=3)),
                           (coding, "degraded_performance", _t(16, 12, day=3), _t(16, 40, day=3)),
                           (api, "degraded_performance", SECOND_FAILURE_START, _t(16, 40, day=3))),
        effects=[Effect("consumer_app", SECOND_FAILURE_START, _t(16, 12, day=3), 0.65, 1.5, 0.55, ramp_minutes=5),
                 Effect("coding_agent", SECOND_FAILURE_START, _t(16, 12, day=3), 0.35, 1.5, 0.55, ramp_minutes=5),
                 Effect("consumer_app", _t(16, 12, day=3), _t(16, 35, day=3), 0.12, 1.3, 0.55),
                 Effect("api", SECOND_FAILURE_START, _t(16, 35, day=3), 0.05, 1.2, 1.0, ramp_minutes=10)],
        crowd=CrowdBump(SECOND_FAILURE_START, SECOND_PEAKS["us"], PLANTED_CROWD_US_2, dict(SECOND_PEAKS), "login"),
        planted=True,
    )


def planted_outages(seed: int, setup: ProviderSetup, shift: Shift) -> list[tuple[Incident, dict]]:
    """The two outages with what the truth says about them (name, crowd services, planted telemetry)."""
    first, second = (shift.day_iso(moment.date()) for moment in (CRASH_START, SECOND_FAILURE_START))
    meta_first = {"name": f"{first} claude.ai and Claude Code login outage", "services": [setup.crowd_service],
                  "telemetry": {"consumer_and_coding_error_prob": 0.85, "api_extra_529_prob": 0.10}}
    meta_second = {"name": f"{second} second failure", "services": [setup.crowd_service],
                   "telemetry": {"consumer_error_prob": 0.65, "coding_error_prob": 0.35, "api_extra_529_prob": 0.05}}
    return [(_crash(seed, setup, shift), meta_first), (_second_failure(seed, setup), meta_second)]
