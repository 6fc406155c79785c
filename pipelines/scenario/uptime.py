"""Anthropic's pre-March uptime: the weighted-downtime maths and the calibration that lands it on the target."""

from __future__ import annotations

import datetime as dt
import itertools

from pipelines.scenario.dates import day_start
from pipelines.scenario.incidents import Incident, Segment
from pipelines.scenario.ordinary_incidents import IncidentSpec, materialize

UPTIME_WINDOW = (dt.date(2025, 12, 1), dt.date(2026, 2, 28))  # inclusive UTC days ("pre-March")
UPTIME_TARGET_PCT = 99.36
STATUS_WEIGHTS = {"major_outage": 1.0, "partial_outage": 0.3, "degraded_performance": 0.0}


def weighted_downtime_minutes(incidents: list[Incident], components: list[str], window_start: dt.datetime,
                              window_end: dt.datetime) -> dict[str, float]:
    """Per component: minutes of the window weighted by the worst concurrent status (major 1, partial 0.3)."""
    out = {}
    for comp in components:
        segs = [(max(s.start, window_start), min(s.end, window_end), STATUS_WEIGHTS[s.status])
                for i in incidents for s in i.segments if s.component == comp]
        segs = [(a, b, w) for a, b, w in segs if b > a and w > 0]
        points = sorted({p for a, b, _ in segs for p in (a, b)})
        total = 0.0
        for a, b in itertools.pairwise(points):
            weight = max((w for sa, sb, w in segs if sa <= a and sb >= b), default=0.0)
            total += weight * (b - a).total_seconds() / 60
        out[comp] = total
    return out


def uptime_pct(incidents: list[Incident], components: list[str], first_day: dt.date, last_day: dt.date) -> float:
    window_start, window_end = day_start(first_day), day_start(last_day) + dt.timedelta(days=1)
    down = weighted_downtime_minutes(incidents, components, window_start, window_end)
    total = len(components) * (window_end - window_start).total_seconds() / 60
    return 100.0 * (1.0 - sum(down.values()) / total)


def calibrate(seed: int, specs: list[IncidentSpec], components: list[str]) -> tuple[list[Incident], float]:
    """Scale the durations of Anthropic's pre-March incidents so the window uptime lands on the target."""
    lo_day, hi_day = UPTIME_WINDOW
    w0, w1 = day_start(lo_day), day_start(hi_day) + dt.timedelta(days=1)
    inside = [w0 - dt.timedelta(days=1) <= s.start < w1 for s in specs]

    def segments_only(factor: float) -> list[Incident]:  # what the uptime maths needs, cheaply
        out = []
        for s, flag in zip(specs, inside):
            end = s.start + dt.timedelta(seconds=round(s.duration_s * (factor if flag else 1.0)))
            segs = [Segment(c, cap, st, s.start, end) for c, cap, st in s.comps]
            out.append(Incident(s.provider, "", "", "", s.start, end, s.start, s.start, [], segs, [], None))
        return out

    lo, hi = 0.4, 2.5
    for _ in range(30):
        mid = (lo + hi) / 2
        if uptime_pct(segments_only(mid), components, lo_day, hi_day) > UPTIME_TARGET_PCT:
            lo = mid
        else:
            hi = mid
    factor = (lo + hi) / 2
    return [materialize(seed, s, factor if flag else 1.0) for s, flag in zip(specs, inside)], factor
