"""The vendor incident as the scenario plants it: status-page updates, component segments, effects on our
requests and the crowd-report bump it causes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

STATUS_ORDER = ("degraded_performance", "partial_outage", "major_outage")


def join_names(names: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass
class Update:
    update_id: str
    status: str  # investigating | identified | monitoring | resolved | postmortem
    at: dt.datetime
    body: str
    affected: list[tuple[str, str, str]] = field(default_factory=list)  # (component, old, new)


@dataclass
class Segment:
    component: str
    capability: str
    status: str
    start: dt.datetime
    end: dt.datetime


@dataclass
class Effect:
    """Extra error probability (and latency factor) on our requests to one capability of a provider."""

    capability: str
    start: dt.datetime
    end: dt.datetime
    error_prob: float
    latency_factor: float = 1.0
    overload_share: float = 0.6  # share of the extra errors that are "overloaded" (529 / 503) vs 500
    ramp_minutes: float = 0.0  # linear ramp from 0 at start


@dataclass
class CrowdBump:
    """A crowd-report bump: keyframes (minutes after start, fraction of peak) scaled by the US peak."""

    start: dt.datetime
    peak_us: float
    keyframes: tuple[tuple[float, float], ...]
    country_peaks: dict[str, float] | None = None  # planted exact peaks per country
    problem_type: str = "app"


@dataclass
class Incident:
    provider: str
    incident_id: str
    title: str
    impact: str
    started_at: dt.datetime  # true start (user-visible)
    ended_at: dt.datetime  # true end of the failure
    created_at: dt.datetime  # first post on the status page
    page_started_at: dt.datetime  # what the page reports as started_at
    updates: list[Update]
    segments: list[Segment]
    effects: list[Effect]
    crowd: CrowdBump | None
    posted_after_the_fact: bool = False
    planted: bool = False

    def _first(self, status: str) -> dt.datetime | None:
        return next((u.at for u in self.updates if u.status == status), None)

    @property
    def identified_at(self) -> dt.datetime | None:
        return self._first("identified")

    @property
    def monitoring_at(self) -> dt.datetime | None:
        return self._first("monitoring")

    @property
    def page_resolved_at(self) -> dt.datetime | None:
        return self._first("resolved")

    @property
    def postmortem_at(self) -> dt.datetime | None:
        return self._first("postmortem")

    @property
    def components(self) -> list[str]:
        return list(dict.fromkeys(s.component for s in self.segments))

    @property
    def component_status(self) -> dict[str, str]:
        worst: dict[str, str] = {}
        for s in self.segments:
            if s.component not in worst or STATUS_ORDER.index(s.status) > STATUS_ORDER.index(worst[s.component]):
                worst[s.component] = s.status
        return worst
