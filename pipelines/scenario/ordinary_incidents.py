"""Every provider's ordinary incidents: a Poisson process per provider and week, lognormal time to resolve.

Drawn first as `IncidentSpec` (what happens, with uncalibrated durations), then materialized into `Incident`s
with status-page updates, telemetry effects and a crowd bump. Texts come from data/incident_texts.json.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from pipelines.scenario.datafiles import read_data
from pipelines.scenario.dates import DAY_S, UTC
from pipelines.scenario.ids import stable_id, ulid
from pipelines.scenario.incidents import (
    STATUS_ORDER,
    CrowdBump,
    Effect,
    Incident,
    Segment,
    Update,
    join_names,
)
from pipelines.scenario.providers import PROVIDER_CODE, ProviderSetup
from pipelines.scenario.rng import S_INCIDENTS, rng_for

# ordinary incidents: provider-level rate (an incident touches 1-3 components, so each component sees one
# every ~4-9 days), component-status mix (degraded, partial, major)
INCIDENT_RATE_PER_DAY = {"anthropic": 0.58, "openai": 0.52, "google": 0.42}
STATUS_MIX = {"anthropic": (0.30, 0.45, 0.25), "openai": (0.40, 0.42, 0.18), "google": (0.45, 0.40, 0.15)}
PRIMARY_WEIGHTS = {"api": 0.30, "consumer_app": 0.28, "coding_agent": 0.24, "console": 0.18}
CROWD_PROVIDER_FACTOR = {"anthropic": 1.0, "openai": 2.0, "google": 0.8}
USER_FACING = ("consumer_app", "coding_agent")

# telemetry: extra error probability on requests to an affected capability, by component status
TELEMETRY_ERROR = {"major_outage": 0.55, "partial_outage": 0.15, "degraded_performance": 0.03}
TELEMETRY_LATENCY = {"major_outage": 1.5, "partial_outage": 1.5, "degraded_performance": 2.5}


def _texts() -> dict[str, dict[str, list[str]]]:
    """model_names {provider: [...]}, titles {capability: [...]}, bodies {update status: [...]}."""
    return read_data("incident_texts")


@dataclass
class IncidentSpec:
    """An ordinary incident before its durations are calibrated."""

    provider: str
    week: int
    index: int
    start: dt.datetime
    duration_s: float
    lag_s: float
    f_identified: float | None
    f_monitoring: float | None
    comps: list[tuple[str, str, str]]  # (component, capability, status)
    impact: str
    title: str
    bodies: dict[str, int]
    posthoc_delay_s: float | None
    postmortem_delay_s: float | None
    crowd_peak: float
    problem_type: str


def _impact(statuses: list[str], u: float) -> str:
    n_major = statuses.count("major_outage")
    if n_major:
        return "critical" if n_major >= 2 else "major"
    if "partial_outage" in statuses:
        return "major" if u < 0.35 else "minor"
    return "minor" if u < 0.7 else "none"


def _crowd_peak(provider: str, comps: list[tuple[str, str, str]], noise: float) -> float:
    level = 0.0
    for _, cap, status in comps:
        if cap in USER_FACING:
            base = {"major_outage": 140.0, "partial_outage": 45.0, "degraded_performance": 14.0}[status]
        elif cap == "api":
            base = {"major_outage": 30.0, "partial_outage": 12.0, "degraded_performance": 5.0}[status]
        else:
            base = 3.0
        level = max(level, base)
    return level * CROWD_PROVIDER_FACTOR[provider] * noise


def _title(r: np.random.Generator, provider: str, comps: list[tuple[str, str, str]]) -> str:
    texts = _texts()
    templates = texts["titles"].get(comps[0][1], texts["titles"]["api"])
    model = texts["model_names"][provider][int(r.integers(0, 4))]
    if len(comps) > 1 and r.random() < 0.5:
        return f"Elevated errors across {join_names([c for c, _, _ in comps])}"
    return templates[int(r.integers(0, len(templates)))].format(comp=comps[0][0], model=model)


def _draw_spec(r: np.random.Generator, setup: ProviderSetup, weights: np.ndarray, week: int,
               index: int) -> IncidentSpec:
    """One incident of a week; the order of the draws is part of the scenario (same seed, same world)."""
    provider = setup.key
    caps = [cap for _, cap in setup.components]
    start_s = week * 7 * DAY_S + int(r.integers(0, 7 * DAY_S))
    n_comps = min(len(caps), int(r.choice([1, 2, 3], p=[0.6, 0.3, 0.1])))
    primary = int(r.choice(len(caps), p=weights))
    others = [i for i in r.permutation(len(caps)).tolist() if i != primary][: n_comps - 1]
    picked = [primary, *sorted(others)]
    statuses = [STATUS_ORDER[int(r.choice(3, p=STATUS_MIX[provider]))] for _ in picked]
    comps = [(setup.components[i][0], setup.components[i][1], st) for i, st in zip(picked, statuses)]
    duration_s = float(np.clip(r.lognormal(math.log(3600), 0.95), 8 * 60, 20 * 3600))
    lag_s = float(np.clip(r.lognormal(math.log(12 * 60), 0.6), 120, 90 * 60))
    lag_s = min(lag_s, 0.5 * duration_s)
    f_id = float(r.uniform(0.15, 0.45)) if r.random() < 0.7 else None
    f_mon = float(r.uniform(0.6, 0.9)) if r.random() < 0.8 else None
    impact = _impact(statuses, float(r.random()))
    primary_cap = comps[0][1]
    title = _title(r, provider, comps)
    bodies = {k: int(r.integers(0, len(v))) for k, v in _texts()["bodies"].items()}
    posthoc = r.random() < 0.06
    posthoc_delay = float(r.uniform(20 * 60, 180 * 60)) if posthoc else None
    worst = max(STATUS_ORDER.index(s) for s in statuses)
    postmortem = float(r.uniform(2, 5) * DAY_S) if worst == 2 and r.random() < 0.3 else None
    crowd_peak = _crowd_peak(provider, comps, float(r.lognormal(0, 0.45)))
    # the dict literal draws the consumer-app problem type for every incident (part of the stream)
    problem = {"api": "api", "consumer_app": ("app", "website", "login")[int(r.integers(0, 3))],
               "coding_agent": "login" if "Auth" in title or "Login" in title else "app",
               "console": "website"}.get(primary_cap, "app")
    return IncidentSpec(provider, week, index, dt.datetime.fromtimestamp(start_s, UTC), duration_s, lag_s,
                        f_id, f_mon, comps, impact, title, bodies, posthoc_delay, postmortem, crowd_peak, problem)


def draw_specs(seed: int, setup: ProviderSetup, first_week: int, last_week: int) -> list[IncidentSpec]:
    """The ordinary incidents of one provider over [first_week, last_week] (weeks since 1970-01-01)."""
    provider = setup.key
    weights = np.array([PRIMARY_WEIGHTS.get(cap, 0.1) for _, cap in setup.components])
    weights = weights / weights.sum()
    specs = []
    for week in range(first_week, last_week + 1):
        r = rng_for(seed, S_INCIDENTS, PROVIDER_CODE[provider], week)
        for index in range(int(r.poisson(INCIDENT_RATE_PER_DAY[provider] * 7))):
            specs.append(_draw_spec(r, setup, weights, week, index))
    return specs


def _hhmm(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M")


def _ids(seed: int, spec: IncidentSpec) -> tuple[str, list[str]]:
    """The incident id and six update ids in the provider's page style (incident.io ids are ULIDs)."""
    key = (spec.provider, spec.week, spec.index)
    if spec.provider == "openai":
        return ulid(seed, spec.start, *key), [ulid(seed, spec.start, *key, "update", k) for k in range(6)]
    update_ids = [stable_id(seed, *key, "update", k) for k in range(6)]
    if spec.provider == "google":
        return stable_id(seed, *key, length=20,
                         alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), update_ids
    return stable_id(seed, *key, "incident"), update_ids


def _updates(spec: IncidentSpec, end: dt.datetime, ids: list[str]) -> list[Update]:
    """The status-page posts: live updates, or one "resolved" post after the fact; maybe a postmortem."""
    start = spec.start
    comps_text = join_names([c for c, _, _ in spec.comps])
    down = [(c, "operational", st) for c, _, st in spec.comps]
    up = [(c, st, "operational") for c, _, st in spec.comps]

    def body(status: str) -> str:
        return _texts()["bodies"][status][spec.bodies[status]].format(comps=comps_text)

    updates: list[Update] = []
    if spec.posthoc_delay_s is not None:
        created = end + dt.timedelta(seconds=round(spec.posthoc_delay_s))
        text = (f"{comps_text} experienced elevated errors from {_hhmm(start)}-{_hhmm(end)} UTC. "
                "This incident has been resolved.")
        updates.append(Update(ids[0], "resolved", created, text, up))
    else:
        created = start + dt.timedelta(seconds=round(spec.lag_s))
        updates.append(Update(ids[0], "investigating", created, body("investigating"), down))
        last = created
        for k, (status, frac) in enumerate((("identified", spec.f_identified), ("monitoring", spec.f_monitoring))):
            if frac is None:
                continue
            at = start + dt.timedelta(seconds=round((end - start).total_seconds() * frac))
            if at <= last + dt.timedelta(minutes=1) or at >= end - dt.timedelta(minutes=1):
                continue
            updates.append(Update(ids[1 + k], status, at, body(status), []))
            last = at
        updates.append(Update(ids[3], "resolved", end, body("resolved"), up))
    if spec.postmortem_delay_s is not None:
        updates.append(Update(ids[4], "postmortem", end + dt.timedelta(seconds=round(spec.postmortem_delay_s)),
                              body("postmortem"), []))
    return updates


def materialize(seed: int, spec: IncidentSpec, factor: float) -> Incident:
    """The incident with its duration multiplied by `factor` (the uptime calibration)."""
    start = spec.start
    duration = dt.timedelta(seconds=round(spec.duration_s * factor))
    end = start + duration
    incident_id, update_ids = _ids(seed, spec)
    updates = _updates(spec, end, update_ids)
    created = updates[0].at
    page_started = created if spec.posthoc_delay_s is not None else start
    segments = [Segment(c, cap, st, start, end) for c, cap, st in spec.comps]
    effects = [Effect(cap, start, end, TELEMETRY_ERROR[st], TELEMETRY_LATENCY[st],
                      overload_share=0.6 if spec.provider == "anthropic" else 0.5) for _, cap, st in spec.comps]
    minutes = duration.total_seconds() / 60
    keyframes = ((0.0, 0.0), (min(12.0, minutes / 2), 0.85), (max(minutes, 1.0), 1.0), (minutes + 25, 0.25),
                 (minutes + 60, 0.0))
    crowd = CrowdBump(start, spec.crowd_peak, keyframes, None, spec.problem_type)
    return Incident(spec.provider, incident_id, spec.title, spec.impact, start, end, created, page_started,
                    updates, segments, effects, crowd, posted_after_the_fact=spec.posthoc_delay_s is not None)
