"""The planted truth of the bundled scenario and the curves every source writer shares.

The world is built once per `generate()` call by `build_world(seed, start, end, config)`:

* incidents of every provider (a Poisson process per provider and week, lognormal time to resolve) plus
  the two planted Anthropic outages of 2 and 3 March 2026;
* the traffic model of our own gateway (trend, daily and weekly cycle, hourly bursts, the migration
  wave before the crash) and Anthropic's 529 ratio, which follows the load six hours later;
* the client-id plan (new client ids surge for Anthropic before 2 March);
* the App Store rank plan of the three providers' apps per country and day.

Randomness: every draw comes from `rng_for(seed, stream, *keys)`, a numpy Generator seeded from the scenario
seed and fixed integer keys (stream, provider, week or day). Nothing random lives at module level, and because
each week of incidents and each day of rows has its own key, a day's files do not depend on the range asked for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from pipelines.core.config import ProvidersConfig

UTC = dt.UTC
DAY_S = 86_400

DEFAULT_START = dt.date(2025, 12, 1)
DEFAULT_END = dt.date(2026, 3, 15)
# The world (incident history, rank walks, traffic bursts) spans at least these days, so the first status
# snapshot already lists 50 incidents and a short range sees the same world as the full one.
WORLD_START = dt.date(2025, 6, 2)
WORLD_END = dt.date(2026, 6, 28)

PROVIDERS = ("anthropic", "openai", "google")
PROVIDER_CODE = {"anthropic": 1, "openai": 2, "google": 3}
CAPABILITIES = ("api", "consumer_app", "coding_agent", "console")
USER_FACING = ("consumer_app", "coding_agent")

# rng streams (the first key after the seed)
S_INCIDENTS, S_RANKS, S_CROWD, S_REQUESTS, S_CLIENTS, S_BURSTS, S_STATUS, S_MALFORMED, S_RANK_WALK = range(1, 10)

# ---- planted calendar ------------------------------------------------------------------------------------


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, s, tzinfo=UTC)


CRASH_START = utc(2026, 3, 2, 11, 49)
SECOND_FAILURE_START = utc(2026, 3, 3, 14, 10)
PENTAGON_DEAL_PUBLIC = dt.date(2026, 2, 27)
CLAUDE_RANK_ANCHOR_DAY = dt.date(2026, 2, 17)
MIGRATION_LAG_HOURS = 6
MIGRATION_MULTIPLIER_48H = 5.0  # Anthropic load multiplier over the 48 h before the crash (~+400 %)
USER_GROWTH_DEC_FEB = 0.60  # Anthropic's free users (and our traffic to it) grow 60 % from 1 Dec to 1 Mar

UPTIME_WINDOW = (dt.date(2025, 12, 1), dt.date(2026, 2, 28))  # inclusive UTC days ("pre-March")
UPTIME_TARGET_PCT = 99.36
STATUS_WEIGHTS = {"major_outage": 1.0, "partial_outage": 0.3, "degraded_performance": 0.0}
STATUS_ORDER = ("degraded_performance", "partial_outage", "major_outage")

# ordinary incidents: provider-level rate (an incident touches 1-3 components, so each component sees one
# every ~4-9 days), component-status mix (degraded, partial, major)
INCIDENT_RATE_PER_DAY = {"anthropic": 0.58, "openai": 0.52, "google": 0.42}
STATUS_MIX = {"anthropic": (0.30, 0.45, 0.25), "openai": (0.40, 0.42, 0.18), "google": (0.45, 0.40, 0.15)}
PRIMARY_WEIGHTS = {"api": 0.30, "consumer_app": 0.28, "coding_agent": 0.24, "console": 0.18}
CROWD_PROVIDER_FACTOR = {"anthropic": 1.0, "openai": 2.0, "google": 0.8}

# telemetry: extra error probability on requests to an affected capability, by component status
TELEMETRY_ERROR = {"major_outage": 0.55, "partial_outage": 0.15, "degraded_performance": 0.03}
TELEMETRY_LATENCY = {"major_outage": 1.5, "partial_outage": 1.5, "degraded_performance": 2.5}


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """A numpy Generator for one stream of the scenario: seeded from the seed and integer keys only."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *(int(k) for k in keys)]))


_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def stable_id(seed: int, *parts: object, length: int = 12, alphabet: str = _ID_ALPHABET) -> str:
    """A deterministic id (Statuspage style by default) from the seed and some labels."""
    digest = hashlib.blake2b(("\x1f".join([str(seed), *map(str, parts)])).encode(), digest_size=32).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, rem = divmod(number, len(alphabet))
        chars.append(alphabet[rem])
    return "".join(chars)


def ulid(seed: int, at: dt.datetime, *parts: object) -> str:
    """An incident.io-style ULID: 10 characters of millisecond time, 16 of deterministic randomness."""
    ms = int(at.timestamp() * 1000)
    head = []
    for _ in range(10):
        ms, rem = divmod(ms, 32)
        head.append(_ULID_ALPHABET[rem])
    return "".join(reversed(head)) + stable_id(seed, "ulid", *parts, length=16, alphabet=_ULID_ALPHABET)


def iso_z(moment: dt.datetime) -> str:
    """UTC ISO 8601 with a Z, second precision (the truth file's time format)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_s(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# ---- scenario view of the providers config ---------------------------------------------------------------


class ScenarioConfigError(ValueError):
    """The providers config cannot host the bundled scenario (it needs anthropic, openai and google)."""


@dataclass(frozen=True)
class ProviderSetup:
    key: str
    components: tuple[tuple[str, str], ...]  # (name, capability) in config order
    app_name: str | None
    app_id: str | None
    crowd_service: str
    log_names: tuple[str, ...]
    hosts: tuple[str, ...]
    path_prefixes: tuple[str, ...]
    page_kind: str
    page_url: str
    display_name: str

    def component(self, capability: str) -> str | None:
        return next((name for name, cap in self.components if cap == capability), None)

    def capability_of(self, name: str) -> str:
        return dict(self.components)[name]


@dataclass(frozen=True)
class ScenarioSetup:
    providers: dict[str, ProviderSetup]
    countries: tuple[str, ...]
    charts: tuple[str, ...]


def setup_from_config(config: ProvidersConfig) -> ScenarioSetup:
    missing = [p for p in PROVIDERS if p not in config.providers]
    if missing:
        raise ScenarioConfigError(
            f"the bundled scenario needs providers {', '.join(PROVIDERS)} in the providers config; "
            f"missing: {', '.join(missing)} (restore data/config/providers.yaml or add them)"
        )
    providers = {}
    for key in PROVIDERS:
        p = config.providers[key]
        if not p.components:
            raise ScenarioConfigError(f"providers.{key}.components is empty; the scenario needs at least one")
        if not p.crowd_services:
            raise ScenarioConfigError(f"providers.{key}.crowd_services is empty; the scenario needs one")
        app_name, app_id = next(iter(p.apps.items()), (None, None))
        providers[key] = ProviderSetup(
            key=key,
            components=tuple(p.components.items()),
            app_name=app_name,
            app_id=app_id,
            crowd_service=p.crowd_services[0],
            log_names=tuple(p.request_logs.names),
            hosts=tuple(p.request_logs.hosts),
            path_prefixes=tuple(p.request_logs.path_prefixes),
            page_kind=p.status_page.kind,
            page_url=p.status_page.url,
            display_name=p.display_name,
        )
    return ScenarioSetup(providers, tuple(config.app_store.countries), tuple(config.app_store.charts))


# ---- incidents -------------------------------------------------------------------------------------------


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
    def last_update_at(self) -> dt.datetime:
        return self.updates[-1].at

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


_MODEL_NAMES = {
    "anthropic": ("Claude Opus 4.6", "Claude Sonnet 4.6", "Claude Haiku 4.5", "Claude Sonnet 4.5"),
    "openai": ("GPT-5.2", "GPT-5.1", "GPT-5 mini", "GPT-4.1 mini"),
    "google": ("Gemini 3 Pro", "Gemini 2.5 Flash", "Gemini 3 Flash", "Gemini 2.5 Pro"),
}
_TITLES = {
    "api": ("Elevated errors on {model}", "Elevated error rates for {comp}", "Increased latency on {comp}",
            "Degraded performance for {comp}", "Elevated errors on {model} requests"),
    "consumer_app": ("Elevated errors on {comp}", "Login issues on {comp}", "{comp} unavailable for some users",
                     'Errors with "Projects" & file uploads on {comp}', "Slow responses on {comp}"),
    "coding_agent": ("Elevated errors on {comp}", "Authentication failures for {comp}",
                     "Degraded performance for {comp}", "{comp} sessions failing to start"),
    "console": ("Errors loading {comp}", "Usage page delays on {comp}", "Billing page errors on {comp}"),
}
_BODIES = {
    "investigating": ("We are currently investigating this issue.",
                      "We are investigating elevated error rates on {comps}.",
                      "We are investigating reports of degraded performance for {comps}."),
    "identified": ("The issue has been identified and a fix is being implemented.",
                   "We have identified the cause and are rolling out a mitigation."),
    "monitoring": ("A fix has been implemented and we are monitoring the results.",
                   "Error rates have returned to normal levels. We are monitoring."),
    "resolved": ("This incident has been resolved.",
                 "This incident has been resolved. We apologise for the disruption."),
    "postmortem": ("A post-incident review has been published.",
                   "We have completed our review of this incident; a summary is available on this page."),
}


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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


@dataclass
class _Spec:
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


def _draw_specs(seed: int, setup: ProviderSetup, first_week: int, last_week: int) -> list[_Spec]:
    provider = setup.key
    caps = [cap for _, cap in setup.components]
    weights = np.array([PRIMARY_WEIGHTS.get(cap, 0.1) for cap in caps])
    weights = weights / weights.sum()
    mix = STATUS_MIX[provider]
    specs = []
    for week in range(first_week, last_week + 1):
        r = rng_for(seed, S_INCIDENTS, PROVIDER_CODE[provider], week)
        for index in range(int(r.poisson(INCIDENT_RATE_PER_DAY[provider] * 7))):
            start_s = week * 7 * DAY_S + int(r.integers(0, 7 * DAY_S))
            n_comps = min(len(caps), int(r.choice([1, 2, 3], p=[0.6, 0.3, 0.1])))
            primary = int(r.choice(len(caps), p=weights))
            others = [i for i in r.permutation(len(caps)).tolist() if i != primary][: n_comps - 1]
            picked = [primary, *sorted(others)]
            statuses = [STATUS_ORDER[int(r.choice(3, p=mix))] for _ in picked]
            comps = [(setup.components[i][0], setup.components[i][1], st) for i, st in zip(picked, statuses)]
            duration_s = float(np.clip(r.lognormal(math.log(3600), 0.95), 8 * 60, 20 * 3600))
            lag_s = float(np.clip(r.lognormal(math.log(12 * 60), 0.6), 120, 90 * 60))
            lag_s = min(lag_s, 0.5 * duration_s)
            f_id = float(r.uniform(0.15, 0.45)) if r.random() < 0.7 else None
            f_mon = float(r.uniform(0.6, 0.9)) if r.random() < 0.8 else None
            impact = _impact(statuses, float(r.random()))
            primary_cap = comps[0][1]
            templates = _TITLES.get(primary_cap, _TITLES["api"])
            model = _MODEL_NAMES[provider][int(r.integers(0, 4))]
            if len(comps) > 1 and r.random() < 0.5:
                title = f"Elevated errors across {_join([c for c, _, _ in comps])}"
            else:
                title = templates[int(r.integers(0, len(templates)))].format(comp=comps[0][0], model=model)
            bodies = {k: int(r.integers(0, len(v))) for k, v in _BODIES.items()}
            posthoc = r.random() < 0.06
            posthoc_delay = float(r.uniform(20 * 60, 180 * 60)) if posthoc else None
            worst = max(STATUS_ORDER.index(s) for s in statuses)
            postmortem = float(r.uniform(2, 5) * DAY_S) if worst == 2 and r.random() < 0.3 else None
            crowd_peak = _crowd_peak(provider, comps, float(r.lognormal(0, 0.45)))
            problem = {"api": "api", "consumer_app": ("app", "website", "login")[int(r.integers(0, 3))],
                       "coding_agent": "login" if "Auth" in title or "Login" in title else "app",
                       "console": "website"}.get(primary_cap, "app")
            specs.append(_Spec(provider, week, index, dt.datetime.fromtimestamp(start_s, UTC), duration_s, lag_s,
                               f_id, f_mon, comps, impact, title, bodies, posthoc_delay, postmortem,
                               crowd_peak, problem))
    return specs


def _hhmm(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M")


def _materialize(seed: int, spec: _Spec, factor: float) -> Incident:
    start = spec.start
    duration = dt.timedelta(seconds=round(spec.duration_s * factor))
    end = start + duration
    comp_names = [c for c, _, _ in spec.comps]
    comps_text = _join(comp_names)
    ids = [stable_id(seed, spec.provider, spec.week, spec.index, "update", k) for k in range(6)]
    if spec.provider == "openai":  # incident.io ids are ULIDs
        ids = [ulid(seed, start, spec.provider, spec.week, spec.index, "update", k) for k in range(6)]
    incident_id = stable_id(seed, spec.provider, spec.week, spec.index, "incident")
    if spec.provider == "openai":
        incident_id = ulid(seed, start, spec.provider, spec.week, spec.index)
    elif spec.provider == "google":
        incident_id = stable_id(seed, spec.provider, spec.week, spec.index, length=20,
                                alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    down = [(c, "operational", st) for c, _, st in spec.comps]
    up = [(c, st, "operational") for c, _, st in spec.comps]

    def body(status: str) -> str:
        return _BODIES[status][spec.bodies[status]].format(comps=comps_text)

    updates: list[Update] = []
    if spec.posthoc_delay_s is not None:
        created = end + dt.timedelta(seconds=round(spec.posthoc_delay_s))
        text = (f"{comps_text} experienced elevated errors from {_hhmm(start)}-{_hhmm(end)} UTC. "
                "This incident has been resolved.")
        updates.append(Update(ids[0], "resolved", created, text, up))
        page_started = created
    else:
        created = start + dt.timedelta(seconds=round(spec.lag_s))
        page_started = start
        updates.append(Update(ids[0], "investigating", created, body("investigating"), down))
        last = created
        for k, (status, frac) in enumerate((("identified", spec.f_identified), ("monitoring", spec.f_monitoring))):
            if frac is None:
                continue
            at = start + dt.timedelta(seconds=round(duration.total_seconds() * frac))
            if at <= last + dt.timedelta(minutes=1) or at >= end - dt.timedelta(minutes=1):
                continue
            updates.append(Update(ids[1 + k], status, at, body(status), []))
            last = at
        updates.append(Update(ids[3], "resolved", end, body("resolved"), up))
    if spec.postmortem_delay_s is not None:
        updates.append(Update(ids[4], "postmortem", end + dt.timedelta(seconds=round(spec.postmortem_delay_s)),
                              body("postmortem"), []))
    segments = [Segment(c, cap, st, start, end) for c, cap, st in spec.comps]
    effects = [Effect(cap, start, end, TELEMETRY_ERROR[st], TELEMETRY_LATENCY[st],
                      overload_share=0.6 if spec.provider == "anthropic" else 0.5) for _, cap, st in spec.comps]
    minutes = duration.total_seconds() / 60
    keyframes = ((0.0, 0.0), (min(12.0, minutes / 2), 0.85), (max(minutes, 1.0), 1.0), (minutes + 25, 0.25),
                 (minutes + 60, 0.0))
    crowd = CrowdBump(start, spec.crowd_peak, keyframes, None, spec.problem_type)
    return Incident(spec.provider, incident_id, spec.title, spec.impact, start, end, created, page_started,
                    updates, segments, effects, crowd, posted_after_the_fact=spec.posthoc_delay_s is not None)


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


def _calibrate(seed: int, specs: list[_Spec], components: list[str]) -> tuple[list[Incident], float]:
    """Scale the durations of Anthropic's pre-March incidents so the window uptime lands on the target."""
    lo_day, hi_day = UPTIME_WINDOW
    w0, w1 = day_start(lo_day), day_start(hi_day) + dt.timedelta(days=1)
    inside = [w0 - dt.timedelta(days=1) <= s.start < w1 for s in specs]

    def build(factor: float) -> list[Incident]:
        return [_materialize(seed, s, factor if flag else 1.0) for s, flag in zip(specs, inside)]

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
    return build(factor), factor


# ---- planted outages -------------------------------------------------------------------------------------

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


def _planted(seed: int, setup: ProviderSetup) -> list[tuple[Incident, dict]]:
    consumer = setup.component("consumer_app")
    coding = setup.component("coding_agent")
    api = setup.component("api")
    console = setup.component("console")

    def t(h: int, m: int, day: int = 2) -> dt.datetime:
        return utc(2026, 3, day, h, m)

    def seg(comp: str | None, status: str, a: dt.datetime, b: dt.datetime) -> list[Segment]:
        return [Segment(comp, setup.capability_of(comp), status, a, b)] if comp else []

    def aff(*triples: tuple[str | None, str, str]) -> list[tuple[str, str, str]]:
        return [(c, o, n) for c, o, n in triples if c]

    uid = lambda n, k: stable_id(seed, "planted", n, "update", k)
    user_facing = " and ".join(c for c in (consumer, coding) if c)
    # 2 March: logins to claude.ai and Claude Code fail; the API stays largely functional.
    first = Incident(
        provider="anthropic",
        incident_id=stable_id(seed, "planted", 1, "incident"),
        title=f"Elevated errors on {user_facing}, including login failures",
        impact="critical",
        started_at=CRASH_START,
        ended_at=t(15, 35),
        created_at=t(12, 11),
        page_started_at=CRASH_START,
        updates=[
            Update(uid(1, 0), "investigating", t(12, 11),
                   f"We are currently investigating elevated errors on {user_facing}, including failed logins.",
                   aff((consumer, "operational", "major_outage"), (coding, "operational", "major_outage"),
                       (console, "operational", "partial_outage"), (api, "operational", "degraded_performance"))),
            Update(uid(1, 1), "identified", t(12, 16),
                   "The issue has been identified: our login and session services are overloaded by unprecedented "
                   "demand. We are working on a fix. The Claude API is largely functional."),
            Update(uid(1, 2), "identified", t(13, 5), "We are continuing to work on a fix for this issue."),
            Update(uid(1, 3), "monitoring", t(14, 58),
                   "A fix has been implemented and we are monitoring the results. Some users may still see errors.",
                   aff((consumer, "major_outage", "degraded_performance"),
                       (coding, "major_outage", "degraded_performance"), (console, "partial_outage", "operational"))),
            Update(uid(1, 4), "resolved", t(15, 41), "This incident has been resolved.",
                   aff((consumer, "degraded_performance", "operational"),
                       (coding, "degraded_performance", "operational"), (api, "degraded_performance", "operational"))),
            Update(uid(1, 5), "postmortem", t(17, 30, day=5),
                   "We have published a post-incident review of the 2 March login and availability outage."),
        ],
        segments=[*seg(consumer, "major_outage", CRASH_START, t(14, 58)),
                  *seg(consumer, "degraded_performance", t(14, 58), t(15, 41)),
                  *seg(coding, "major_outage", CRASH_START, t(14, 58)),
                  *seg(coding, "degraded_performance", t(14, 58), t(15, 41)),
                  *seg(console, "partial_outage", CRASH_START, t(14, 58)),
                  *seg(api, "degraded_performance", CRASH_START, t(15, 41))],
        effects=[Effect("consumer_app", CRASH_START, t(14, 58), 0.85, 1.5, 0.55, ramp_minutes=6),
                 Effect("coding_agent", CRASH_START, t(14, 58), 0.85, 1.5, 0.55, ramp_minutes=6),
                 Effect("consumer_app", t(14, 58), t(15, 35), 0.20, 1.5, 0.55),
                 Effect("coding_agent", t(14, 58), t(15, 35), 0.20, 1.5, 0.55),
                 Effect("api", CRASH_START, t(15, 35), 0.10, 1.3, 1.0, ramp_minutes=10)],
        crowd=CrowdBump(CRASH_START, CRASH_PEAKS["us"], PLANTED_CROWD_US, dict(CRASH_PEAKS), "login"),
        planted=True,
    )
    second = Incident(
        provider="anthropic",
        incident_id=stable_id(seed, "planted", 2, "incident"),
        title=f"Elevated errors on {consumer or user_facing}",
        impact="major",
        started_at=SECOND_FAILURE_START,
        ended_at=t(16, 35, day=3),
        created_at=t(14, 27, day=3),
        page_started_at=SECOND_FAILURE_START,
        updates=[
            Update(uid(2, 0), "investigating", t(14, 27, day=3),
                   f"We are investigating elevated errors on {user_facing}.",
                   aff((consumer, "operational", "major_outage"), (coding, "operational", "partial_outage"),
                       (api, "operational", "degraded_performance"))),
            Update(uid(2, 1), "identified", t(14, 41, day=3),
                   "The issue has been identified and a fix is being implemented."),
            Update(uid(2, 2), "monitoring", t(16, 12, day=3),
                   "A fix has been implemented and we are monitoring the results.",
                   aff((consumer, "major_outage", "degraded_performance"),
                       (coding, "partial_outage", "degraded_performance"))),
            Update(uid(2, 3), "resolved", t(16, 40, day=3), "This incident has been resolved.",
                   aff((consumer, "degraded_performance", "operational"),
                       (coding, "degraded_performance", "operational"), (api, "degraded_performance", "operational"))),
        ],
        segments=[*seg(consumer, "major_outage", SECOND_FAILURE_START, t(16, 12, day=3)),
                  *seg(consumer, "degraded_performance", t(16, 12, day=3), t(16, 40, day=3)),
                  *seg(coding, "partial_outage", SECOND_FAILURE_START, t(16, 12, day=3)),
                  *seg(coding, "degraded_performance", t(16, 12, day=3), t(16, 40, day=3)),
                  *seg(api, "degraded_performance", SECOND_FAILURE_START, t(16, 40, day=3))],
        effects=[Effect("consumer_app", SECOND_FAILURE_START, t(16, 12, day=3), 0.65, 1.5, 0.55, ramp_minutes=5),
                 Effect("coding_agent", SECOND_FAILURE_START, t(16, 12, day=3), 0.35, 1.5, 0.55, ramp_minutes=5),
                 Effect("consumer_app", t(16, 12, day=3), t(16, 35, day=3), 0.12, 1.3, 0.55),
                 Effect("api", SECOND_FAILURE_START, t(16, 35, day=3), 0.05, 1.2, 1.0, ramp_minutes=10)],
        crowd=CrowdBump(SECOND_FAILURE_START, SECOND_PEAKS["us"], PLANTED_CROWD_US_2, dict(SECOND_PEAKS), "login"),
        planted=True,
    )
    meta_first = {"name": "2026-03-02 claude.ai and Claude Code login outage", "services": [setup.crowd_service],
                  "telemetry": {"consumer_and_coding_error_prob": 0.85, "api_extra_529_prob": 0.10}}
    meta_second = {"name": "2026-03-03 second failure", "services": [setup.crowd_service],
                   "telemetry": {"consumer_error_prob": 0.65, "coding_error_prob": 0.35, "api_extra_529_prob": 0.05}}
    return [(first, meta_first), (second, meta_second)]


PLANTED_QUIET = (utc(2026, 3, 2, 4), utc(2026, 3, 4))  # no ordinary Anthropic incident overlaps the outages


# ---- traffic model ---------------------------------------------------------------------------------------

BASE_RATE_PER_MIN = {"anthropic": 2.1, "openai": 3.4, "google": 1.2}
ANTHROPIC_529_BASE, ANTHROPIC_529_EXPONENT, ANTHROPIC_529_CAP = 0.006, 1.3, 0.03
WEEKEND_FACTOR = 0.85
_HOURS = np.arange(0, 24, 1 / 60)


def _circ_bump(hour: np.ndarray, center: float, width: float) -> np.ndarray:
    d = (hour - center + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (d / width) ** 2)


def _diurnal_raw(hour: np.ndarray) -> np.ndarray:
    # our users: the Americas (peak ~17:30 UTC), Europe (~11:00), India and South-East Asia (~05:30)
    return 0.22 + 0.55 * _circ_bump(hour, 17.5, 3.5) + 0.40 * _circ_bump(hour, 11.0, 3.0) + 0.25 * _circ_bump(
        hour, 5.5, 2.5)


_DIURNAL_MEAN = float(_diurnal_raw(_HOURS).mean())


def diurnal(hour_utc: np.ndarray) -> np.ndarray:
    """Daily cycle of our gateway traffic (mean 1 over a day)."""
    return _diurnal_raw(hour_utc) / _DIURNAL_MEAN


def _local_raw(hour: np.ndarray) -> np.ndarray:
    return 0.18 + _circ_bump(hour, 14.0, 4.5) + 0.5 * _circ_bump(hour, 21.0, 2.5)


_LOCAL_MEAN = float(_local_raw(_HOURS).mean())


def local_activity(local_hour: np.ndarray) -> np.ndarray:
    """Daily cycle of people awake and using an app, by local hour (mean 1 over a day)."""
    return _local_raw(local_hour) / _LOCAL_MEAN


_DEC1 = epoch_s(day_start(dt.date(2025, 12, 1)))
_MAR1 = epoch_s(day_start(dt.date(2026, 3, 1)))
_CRASH = epoch_s(CRASH_START)
_RAMP0 = _CRASH - 48 * 3600
_MAR4 = epoch_s(utc(2026, 3, 4))
_FEB27_18 = epoch_s(utc(2026, 2, 27, 18))
_MAR2_12 = epoch_s(utc(2026, 3, 2, 12))


def anthropic_trend(t: np.ndarray) -> np.ndarray:
    """Anthropic's user growth: 1.0 on 1 December, 1.6 on 1 March, continuing at the same slope."""
    return np.maximum(0.4, 1.0 + USER_GROWTH_DEC_FEB * (t - _DEC1) / (_MAR1 - _DEC1))


def migration_factor(provider: str, t: np.ndarray) -> np.ndarray:
    """The ChatGPT -> Claude wave: Anthropic x5 over the 48 h before the crash, OpenAI down ~28 %."""
    t = np.asarray(t, dtype=np.float64)
    if provider == "anthropic":
        ramp = MIGRATION_MULTIPLIER_48H ** np.clip((t - _RAMP0) / (48 * 3600), 0.0, 1.0)
        decay = 1.0 - 0.3 * np.clip((t - _MAR4) / (11 * DAY_S), 0.0, 1.0)
        return np.where(t < _MAR4, ramp, MIGRATION_MULTIPLIER_48H * decay)
    if provider == "openai":
        return 1.0 - 0.28 * np.clip((t - _FEB27_18) / (_MAR2_12 - _FEB27_18), 0.0, 1.0)
    return 1.0 + 0.08 * np.clip((t - _FEB27_18) / (_MAR2_12 - _FEB27_18), 0.0, 1.0)


class TrafficModel:
    """Expected requests per minute of our gateway to each provider, and Anthropic's load-driven 529 ratio."""

    def __init__(self, seed: int, world_start: dt.date, world_end: dt.date):
        self.t0 = epoch_s(day_start(world_start))
        n_hours = ((world_end - world_start).days + 2) * 24
        self.bursts: dict[str, np.ndarray] = {}
        damp_lo = (epoch_s(utc(2026, 2, 21)) - self.t0) // 3600
        damp_hi = (epoch_s(utc(2026, 3, 5)) - self.t0) // 3600
        for provider in PROVIDERS:
            r = rng_for(seed, S_BURSTS, PROVIDER_CODE[provider])
            shocks = r.normal(0.0, 0.28, n_hours)
            x = np.empty(n_hours)
            level = 0.0
            for i in range(n_hours):  # AR(1): hour-scale load swings, so a lag is identifiable
                level = 0.6 * level + shocks[i]
                x[i] = level
            n_spikes = int(r.poisson(n_hours / 24 * 0.35))
            at = r.integers(0, n_hours, n_spikes)
            length = r.integers(2, 7, n_spikes)
            height = np.log(r.uniform(1.5, 2.6, n_spikes))
            for a, n, h in zip(at.tolist(), length.tolist(), height.tolist()):
                x[a:a + n] += h
            if provider == "anthropic":  # keep the planted migration wave readable
                x[max(0, damp_lo):max(0, damp_hi)] = 0.0
            burst = np.exp(x)
            self.bursts[provider] = burst / burst.mean()

    def burst(self, provider: str, t: np.ndarray) -> np.ndarray:
        series = self.bursts[provider]
        idx = np.clip((np.asarray(t, dtype=np.int64) - self.t0) // 3600, 0, len(series) - 1)
        return series[idx]

    def rate_per_minute(self, provider: str, t: np.ndarray) -> np.ndarray:
        """Expected requests per minute (scale 1) at epoch seconds `t`."""
        t = np.asarray(t, dtype=np.int64)
        hour = (t % DAY_S) / 3600.0
        weekday = ((t // DAY_S) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
        weekly = np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)
        if provider == "anthropic":
            trend = anthropic_trend(t)
        elif provider == "openai":
            trend = 1.0 + 0.05 * (t - _DEC1) / (_MAR1 - _DEC1)
        else:
            trend = 1.0 + 0.15 * (t - _DEC1) / (_MAR1 - _DEC1)
        return (BASE_RATE_PER_MIN[provider] * trend * diurnal(hour) * weekly * self.burst(provider, t)
                * migration_factor(provider, t))

    def anthropic_load(self, t: np.ndarray) -> np.ndarray:
        """Anthropic's load index: our expected request rate relative to the 1 December base rate."""
        return self.rate_per_minute("anthropic", t) / BASE_RATE_PER_MIN["anthropic"]

    def anthropic_529_prob(self, t: np.ndarray) -> np.ndarray:
        """The overload ratio follows the load MIGRATION_LAG_HOURS later (capped below the SLO threshold)."""
        lagged = self.anthropic_load(np.asarray(t, dtype=np.int64) - MIGRATION_LAG_HOURS * 3600)
        return np.minimum(ANTHROPIC_529_CAP, ANTHROPIC_529_BASE * lagged ** ANTHROPIC_529_EXPONENT)


def traffic_numbers(model: TrafficModel) -> dict[str, float]:
    """The migration numbers as the expected-rate curves have them (no sampling noise)."""
    minute = 60
    before = np.arange(_CRASH - 3600, _CRASH, minute)
    growth = model.rate_per_minute("anthropic", before).mean() / model.rate_per_minute(
        "anthropic", before - 48 * 3600).mean()
    morning = np.arange(epoch_s(utc(2026, 3, 2, 6)), _CRASH, minute)
    trailing = np.mean([model.rate_per_minute("anthropic", morning - d * DAY_S).mean() for d in range(1, 8)])
    ratio = model.rate_per_minute("anthropic", morning).mean() / trailing
    return {"traffic_growth_48h_pct": round(float(growth - 1) * 100, 1),
            "traffic_ratio_vs_trailing_7d_same_hour": round(float(ratio), 2)}


def expected_request_rows(model: TrafficModel, start: dt.date, end: dt.date, scale: float = 1.0) -> float:
    """Expected number of request rows over [start, end] (inclusive days) at `scale`."""
    t = np.arange(epoch_s(day_start(start)), epoch_s(day_start(end)) + DAY_S, 60)
    return float(sum(model.rate_per_minute(p, t).sum() for p in PROVIDERS) * scale)


# ---- clients ---------------------------------------------------------------------------------------------

INITIAL_CLIENTS = {"anthropic": 90, "openai": 160, "google": 60}
_ANTHROPIC_NEW_CLIENTS = {dt.date(2026, 2, 24): 3, dt.date(2026, 2, 25): 3, dt.date(2026, 2, 26): 4,
                          dt.date(2026, 2, 27): 12, dt.date(2026, 2, 28): 30, dt.date(2026, 3, 1): 45,
                          dt.date(2026, 3, 2): 55, dt.date(2026, 3, 3): 20}


def new_client_rate(provider: str, day: dt.date) -> float:
    if provider == "anthropic":
        if day in _ANTHROPIC_NEW_CLIENTS:
            return float(_ANTHROPIC_NEW_CLIENTS[day])
        return 6.0 if day > dt.date(2026, 3, 3) else 0.8
    if provider == "openai":
        return 0.2 if day >= dt.date(2026, 2, 28) else 0.8
    return 0.4


@dataclass
class ClientPlan:
    """Client ids per provider: index k first sends requests on first_day[k] (days since world start)."""

    world_start: dt.date
    first_day: dict[str, np.ndarray]
    ids: dict[str, list[str]]
    regions: dict[str, np.ndarray]

    def new_clients_by_day(self, provider: str, start: dt.date, end: dt.date) -> dict[str, int]:
        offsets = self.first_day[provider]
        out = {}
        for day in days_between(start, end):
            k = (day - self.world_start).days
            out[day.isoformat()] = int(np.sum(offsets == k)) if k > 0 else 0
        return out


REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "ap-southeast-1")
REGION_WEIGHTS = (0.35, 0.15, 0.15, 0.10, 0.15, 0.10)


def build_clients(seed: int, world_start: dt.date, world_end: dt.date) -> ClientPlan:
    first_day, ids, regions = {}, {}, {}
    for provider in PROVIDERS:
        r = rng_for(seed, S_CLIENTS, PROVIDER_CODE[provider])
        days = [0] * INITIAL_CLIENTS[provider]
        for k, day in enumerate(days_between(world_start, world_end)):
            if k:
                days += [k] * int(r.poisson(new_client_rate(provider, day)))
        first_day[provider] = np.array(days, dtype=np.int64)
        ids[provider] = [f"cli_{stable_id(seed, 'client', provider, k, length=10)}" for k in range(len(days))]
        regions[provider] = r.choice(len(REGIONS), size=len(days), p=REGION_WEIGHTS)
    return ClientPlan(world_start, first_day, ids, regions)


# ---- App Store ranks -------------------------------------------------------------------------------------

CLAUDE_US_KEYFRAMES = (
    (dt.date(2025, 6, 1), 75), (dt.date(2025, 12, 1), 58), (dt.date(2026, 1, 1), 47), (dt.date(2026, 1, 20), 36),
    (dt.date(2026, 2, 5), 25), (dt.date(2026, 2, 12), 20), (dt.date(2026, 2, 17), 16), (dt.date(2026, 2, 20), 13),
    (dt.date(2026, 2, 23), 9), (dt.date(2026, 2, 25), 6), (dt.date(2026, 2, 26), 4), (dt.date(2026, 2, 27), 2),
    (dt.date(2026, 2, 28), 1),
)
CLAUDE_EXACT_FROM = dt.date(2026, 2, 26)  # exact planted ranks from here on (and on the 17 Feb anchor)
CLAUDE_FIRST_NUMBER_ONE = dt.date(2026, 2, 28)
CHATGPT_DROP_DAY = dt.date(2026, 2, 28)  # first day ChatGPT is not #1 in the US (deal public the day before)
CHATGPT_US_AFTER = {dt.date(2026, 2, 28): 2, dt.date(2026, 3, 1): 2, dt.date(2026, 3, 2): 3,
                    dt.date(2026, 3, 3): 2, dt.date(2026, 3, 4): 3}
# other countries: log(rank_c) = a_c + d_c * log(rank_us), so they follow with damped movement
CLAUDE_COUNTRY = {"us": (0.0, 1.0), "gb": (math.log(3), 0.81), "de": (math.log(6), 0.68),
                  "in": (math.log(14), 0.58), "sg": (math.log(2), 0.74)}
CHATGPT_COUNTRY_DAMP = {"us": 1.0, "gb": 0.8, "de": 0.5, "in": 0.4, "sg": 0.7}
GEMINI_BASE = {"us": 6, "gb": 8, "de": 10, "in": 4, "sg": 6}
PRIORITY = ("anthropic", "openai", "google")


def _claude_us_log_rank(day: dt.date) -> float:
    frames = CLAUDE_US_KEYFRAMES
    if day <= frames[0][0]:
        return math.log(frames[0][1])
    for (d0, r0), (d1, r1) in itertools.pairwise(frames):
        if d0 <= day <= d1:
            f = (day - d0).days / max(1, (d1 - d0).days)
            return (1 - f) * math.log(r0) + f * math.log(r1)
    return 0.0


def build_rank_plan(seed: int, countries: tuple[str, ...], days: list[dt.date]) -> dict[tuple[dt.date, str],
                                                                                          dict[str, int | None]]:
    """Target rank of each provider's app per (day, country); None = outside the top 100."""
    world_days = days_between(WORLD_START, max(WORLD_END, days[-1]))
    index = {d: i for i, d in enumerate(world_days)}
    plan: dict[tuple[dt.date, str], dict[str, int | None]] = {}
    for ci, country in enumerate(countries):
        r = rng_for(seed, S_RANKS, ci + 1)
        n = len(world_days)
        noise = np.zeros(n)
        gemini = np.zeros(n)
        eps, geps = r.normal(0, 0.07, n), r.normal(0, 0.10, n)
        chatgpt_later = r.integers(2, 5, n)  # ChatGPT's US rank after the drop, beyond the planted days
        for i in range(1, n):
            noise[i] = 0.8 * noise[i - 1] + eps[i]
            gemini[i] = 0.85 * gemini[i - 1] + geps[i]
        a, d = CLAUDE_COUNTRY.get(country, (math.log(10), 0.7))
        damp = CHATGPT_COUNTRY_DAMP.get(country, 0.6)
        for day in days:
            i = index.get(day, n - 1) if day >= WORLD_START else 0
            us_log = _claude_us_log_rank(day)
            exact = day >= CLAUDE_EXACT_FROM or day == CLAUDE_RANK_ANCHOR_DAY
            if country == "us":
                claude = math.exp(us_log) if exact else math.exp(us_log + noise[i])
                claude = max(2, round(claude)) if day < CLAUDE_FIRST_NUMBER_ONE else round(claude)
                if day >= CLAUDE_FIRST_NUMBER_ONE:
                    claude = 1
            else:
                claude = max(2, round(math.exp(a + d * us_log + (0.0 if exact else noise[i]))))
            if day < CHATGPT_DROP_DAY:
                chatgpt_us = 1
            else:
                chatgpt_us = CHATGPT_US_AFTER.get(day, int(chatgpt_later[i]))
            chatgpt = chatgpt_us if country == "us" else max(1, round(math.exp(damp * math.log(chatgpt_us))))
            gem = int(np.clip(round(GEMINI_BASE.get(country, 8) * math.exp(gemini[i])), 3, 40))
            targets: dict[str, int | None] = {"anthropic": claude, "openai": chatgpt, "google": gem}
            taken: set[int] = set()
            for provider in PRIORITY:
                rank = targets[provider]
                while rank in taken:
                    rank += 1
                taken.add(rank)
                targets[provider] = rank if rank <= 100 else None
            plan[(day, country)] = targets
    return plan


# ---- the world -------------------------------------------------------------------------------------------


@dataclass
class World:
    seed: int
    start: dt.date
    end: dt.date
    scale: float
    setup: ScenarioSetup
    incidents: dict[str, list[Incident]]
    outages: list[tuple[Incident, dict]]
    traffic: TrafficModel
    clients: ClientPlan
    ranks: dict[tuple[dt.date, str], dict[str, int | None]]
    world_start: dt.date
    world_end: dt.date
    calibration_factor: float

    @property
    def days(self) -> list[dt.date]:
        return days_between(self.start, self.end)

    def all_incidents(self) -> list[Incident]:
        return [i for p in PROVIDERS for i in self.incidents[p]]


def build_world(seed: int, start: dt.date, end: dt.date, config: ProvidersConfig, scale: float = 1.0) -> World:
    if end < start:
        raise ValueError(f"scenario end {end} is before start {start}")
    setup = setup_from_config(config)
    world_start = min(WORLD_START, start - dt.timedelta(days=180))
    world_end = max(WORLD_END, end)
    first_week = (world_start - dt.date(1970, 1, 1)).days // 7
    last_week = (world_end - dt.date(1970, 1, 1)).days // 7
    incidents: dict[str, list[Incident]] = {}
    factor = 1.0
    outages = _planted(seed, setup.providers["anthropic"])
    for provider in PROVIDERS:
        ps = setup.providers[provider]
        specs = _draw_specs(seed, ps, first_week, last_week)
        if provider == "anthropic":
            specs = [s for s in specs if not (s.start < PLANTED_QUIET[1]
                                              and s.start + dt.timedelta(seconds=3 * s.duration_s) > PLANTED_QUIET[0])]
            built, factor = _calibrate(seed, specs, [c for c, _ in ps.components])
            built += [inc for inc, _ in outages]
        else:
            built = [_materialize(seed, s, 1.0) for s in specs]
        incidents[provider] = sorted(built, key=lambda i: (i.created_at, i.incident_id))
    return World(
        seed=seed, start=start, end=end, scale=scale, setup=setup, incidents=incidents, outages=outages,
        traffic=TrafficModel(seed, world_start, world_end), clients=build_clients(seed, world_start, world_end),
        ranks=build_rank_plan(seed, setup.countries, days_between(start, end)),
        world_start=world_start, world_end=world_end, calibration_factor=factor,
    )
