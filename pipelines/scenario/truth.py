"""The planted truth as a dataclass, saved to <data dir>/scenario/truth.json (layout: see the package docstring)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pipelines.scenario import crowd_reports
from pipelines.scenario.output import Ledger
from pipelines.scenario.request_logs import endpoint_capability
from pipelines.scenario.timeline import (
    ANTHROPIC_529_BASE,
    ANTHROPIC_529_CAP,
    ANTHROPIC_529_EXPONENT,
    CHATGPT_DROP_DAY,
    CLAUDE_RANK_ANCHOR_DAY,
    CRASH_START,
    DAY_S,
    MIGRATION_LAG_HOURS,
    MIGRATION_MULTIPLIER_48H,
    PENTAGON_DEAL_PUBLIC,
    PROVIDERS,
    STATUS_WEIGHTS,
    UPTIME_TARGET_PCT,
    UPTIME_WINDOW,
    USER_GROWTH_DEC_FEB,
    Incident,
    World,
    day_start,
    epoch_s,
    expected_request_rows,
    iso_z,
    traffic_numbers,
    uptime_pct,
    weighted_downtime_minutes,
)

SOURCES = ("status_pages", "app_rankings", "crowd_reports", "request_logs")
TRUTH_VERSION = 1


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso_z(moment)


@dataclass(frozen=True)
class IncidentTruth:
    provider: str
    incident_id: str
    title: str
    impact: str
    components: list[str]
    component_status: dict[str, str]  # worst status per component during the incident
    started_at: str  # true start of the failure
    resolved_at: str  # true end of the failure
    first_post_at: str  # first status-page post (created_at)
    identified_at: str | None
    monitoring_at: str | None
    page_resolved_at: str | None  # the "resolved" update (after the fact for posted_after_the_fact)
    postmortem_at: str | None
    page_started_at: str | None  # what a Statuspage page shows as started_at (None for other page kinds)
    posted_after_the_fact: bool
    planted: bool
    in_window: bool  # started inside [start, end]
    segments: list[dict]  # {component, status, start, end}: the statuses weighted for uptime


@dataclass(frozen=True)
class OutageTruth:
    provider: str
    name: str
    incident_id: str
    services: list[str]
    components: list[str]
    start: str
    end: str  # user-visible end
    user_visible_start: str
    first_post_at: str
    first_post_lag_minutes: float
    identified_at: str
    identified_after_minutes: float
    monitoring_at: str | None
    resolved_at: str
    postmortem_at: str | None
    crowd_peak: dict[str, int]  # reports in the peak 5-minute bucket per country
    crowd_peak_at: dict[str, str]  # start of that bucket
    telemetry: dict[str, float]
    in_window: bool


@dataclass(frozen=True)
class RankTruth:
    chart: str
    pentagon_deal_public: str
    claude_us_rank_on_2026_02_17: int | None
    chatgpt_us_rank_on_2026_02_17: int | None
    claude_first_day_at_1: str | None  # US
    chatgpt_drop_day: str | None  # first US day ChatGPT is not #1
    legacy_format_days: list[str]
    daily: dict[str, dict[str, dict[str, int | None]]]  # country -> day -> provider -> rank (None: not in top 100)


@dataclass(frozen=True)
class TrafficTruth:
    crash_at: str
    anthropic_user_growth_pct_dec_feb: float
    migration_multiplier_48h: float
    traffic_growth_48h_pct: float
    traffic_ratio_vs_trailing_7d_same_hour: float
    anthropic_new_clients_by_day: dict[str, int]
    anthropic_529_model: dict[str, float]
    expected_request_rows: int
    endpoint_capability: dict[str, dict[str, str]]


@dataclass(frozen=True)
class UptimeTruth:
    provider: str
    window_first_day: str
    window_last_day: str
    weights: dict[str, float]
    components: list[str]
    weighted_downtime_minutes: dict[str, float]
    uptime_pct: float
    target_pct: float
    calibration_factor: float


@dataclass(frozen=True)
class Truth:
    version: int
    seed: int
    start: str
    end: str
    scale: float
    sources: list[str]
    outages: list[OutageTruth]
    incidents: list[IncidentTruth]
    ranks: RankTruth
    traffic: TrafficTruth
    migration_lag_hours: int
    uptime: UptimeTruth
    malformed_rows: dict[str, int]
    malformed_rows_per_file: dict[str, dict[str, int]]
    malformed_records: list[dict]
    rows: dict[str, int]  # records written per source (good + malformed)
    rows_per_file: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> Truth:
        data = dict(data)
        data["outages"] = [OutageTruth(**o) for o in data["outages"]]
        data["incidents"] = [IncidentTruth(**i) for i in data["incidents"]]
        data["ranks"] = RankTruth(**data["ranks"])
        data["traffic"] = TrafficTruth(**data["traffic"])
        data["uptime"] = UptimeTruth(**data["uptime"])
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> Truth:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _incident_truth(world: World, inc: Incident) -> IncidentTruth:
    kind = world.setup.providers[inc.provider].page_kind
    return IncidentTruth(
        provider=inc.provider, incident_id=inc.incident_id, title=inc.title, impact=inc.impact,
        components=inc.components, component_status=inc.component_status,
        started_at=iso_z(inc.started_at), resolved_at=iso_z(inc.ended_at if not inc.planted else inc.page_resolved_at),
        first_post_at=iso_z(inc.created_at), identified_at=_iso(inc.identified_at),
        monitoring_at=_iso(inc.monitoring_at), page_resolved_at=_iso(inc.page_resolved_at),
        postmortem_at=_iso(inc.postmortem_at),
        page_started_at=_iso(inc.page_started_at) if kind == "statuspage" else None,
        posted_after_the_fact=inc.posted_after_the_fact, planted=inc.planted,
        in_window=world.start <= inc.started_at.date() <= world.end,
        segments=[{"component": s.component, "status": s.status, "start": iso_z(s.start), "end": iso_z(s.end)}
                  for s in inc.segments],
    )


def _crowd_peaks(world: World, inc: Incident) -> tuple[dict[str, int], dict[str, str]]:
    peaks, at = {}, {}
    t0 = epoch_s(day_start(inc.started_at.date()))
    t = t0 + crowd_reports.BUCKET_S * np.arange(DAY_S // crowd_reports.BUCKET_S)
    for country in world.setup.countries:
        if inc.crowd is None or not inc.crowd.country_peaks or country not in inc.crowd.country_peaks:
            continue
        bump = crowd_reports._bump(inc, country, t)
        peaks[country] = round(inc.crowd.country_peaks[country])
        at[country] = iso_z(dt.datetime.fromtimestamp(int(t[int(np.argmax(bump))]), dt.UTC))
    return peaks, at


def _outage_truth(world: World, inc: Incident, meta: dict) -> OutageTruth:
    peaks, peak_at = _crowd_peaks(world, inc)
    return OutageTruth(
        provider=inc.provider, name=meta["name"], incident_id=inc.incident_id, services=meta["services"],
        components=inc.components, start=iso_z(inc.started_at), end=iso_z(inc.ended_at),
        user_visible_start=iso_z(inc.started_at), first_post_at=iso_z(inc.created_at),
        first_post_lag_minutes=(inc.created_at - inc.started_at).total_seconds() / 60,
        identified_at=iso_z(inc.identified_at),
        identified_after_minutes=(inc.identified_at - inc.started_at).total_seconds() / 60,
        monitoring_at=_iso(inc.monitoring_at), resolved_at=iso_z(inc.page_resolved_at),
        postmortem_at=_iso(inc.postmortem_at), crowd_peak=peaks, crowd_peak_at=peak_at,
        telemetry=meta["telemetry"], in_window=world.start <= inc.started_at.date() <= world.end,
    )


def _rank_truth(world: World) -> RankTruth:
    from pipelines.scenario.app_rankings import CHART, LEGACY_DAYS

    daily = {c: {d.isoformat(): dict(world.ranks[(d, c)]) for d in world.days} for c in world.setup.countries}
    us = daily.get("us", {})
    claude_first = next((d for d in sorted(us) if us[d]["anthropic"] == 1), None)
    drop = next((d for d in sorted(us) if us[d]["openai"] != 1 and d >= PENTAGON_DEAL_PUBLIC.isoformat()), None)
    anchor = us.get(CLAUDE_RANK_ANCHOR_DAY.isoformat(), {})
    assert drop is None or drop == CHATGPT_DROP_DAY.isoformat() or world.start > CHATGPT_DROP_DAY
    return RankTruth(
        chart=CHART, pentagon_deal_public=PENTAGON_DEAL_PUBLIC.isoformat(),
        claude_us_rank_on_2026_02_17=anchor.get("anthropic"), chatgpt_us_rank_on_2026_02_17=anchor.get("openai"),
        claude_first_day_at_1=claude_first, chatgpt_drop_day=drop,
        legacy_format_days=[d.isoformat() for d in LEGACY_DAYS if world.start <= d <= world.end],
        daily=daily,
    )


def build_truth(world: World, ledger: Ledger, sources: tuple[str, ...], listed: set[str]) -> Truth:
    anthropic = world.setup.providers["anthropic"]
    comps = [c for c, _ in anthropic.components]
    first, last = UPTIME_WINDOW
    down = weighted_downtime_minutes(world.incidents["anthropic"], comps, day_start(first),
                                     day_start(last) + dt.timedelta(days=1))
    uptime = UptimeTruth(
        provider="anthropic", window_first_day=first.isoformat(), window_last_day=last.isoformat(),
        weights=dict(STATUS_WEIGHTS), components=comps,
        weighted_downtime_minutes={c: round(v, 3) for c, v in down.items()},
        uptime_pct=round(uptime_pct(world.incidents["anthropic"], comps, first, last), 4),
        target_pct=UPTIME_TARGET_PCT, calibration_factor=round(world.calibration_factor, 6),
    )
    numbers = traffic_numbers(world.traffic)
    traffic = TrafficTruth(
        crash_at=iso_z(CRASH_START), anthropic_user_growth_pct_dec_feb=USER_GROWTH_DEC_FEB * 100,
        migration_multiplier_48h=MIGRATION_MULTIPLIER_48H, **numbers,
        anthropic_new_clients_by_day=world.clients.new_clients_by_day("anthropic", world.start, world.end),
        anthropic_529_model={"base_ratio": ANTHROPIC_529_BASE, "load_exponent": ANTHROPIC_529_EXPONENT,
                             "cap": ANTHROPIC_529_CAP,
                             "lag_hours": float(MIGRATION_LAG_HOURS)},
        expected_request_rows=round(expected_request_rows(world.traffic, world.start, world.end, world.scale)),
        endpoint_capability=endpoint_capability(),
    )
    incidents = sorted((i for p in PROVIDERS for i in world.incidents[p] if i.incident_id in listed),
                       key=lambda i: (i.started_at, i.provider, i.incident_id))
    per_file: dict[str, dict[str, int]] = {s: {} for s in SOURCES}
    for bad in ledger.bad:
        per_file[bad.source][bad.file] = per_file[bad.source].get(bad.file, 0) + 1
    rows = {s: 0 for s in SOURCES}
    for file, n in ledger.rows.items():
        rows[ledger.sources[file]] += n
    return Truth(
        version=TRUTH_VERSION, seed=world.seed, start=world.start.isoformat(), end=world.end.isoformat(),
        scale=world.scale, sources=list(sources),
        outages=[_outage_truth(world, inc, meta) for inc, meta in world.outages],
        incidents=[_incident_truth(world, i) for i in incidents],
        ranks=_rank_truth(world), traffic=traffic, migration_lag_hours=MIGRATION_LAG_HOURS, uptime=uptime,
        malformed_rows={s: sum(per_file[s].values()) for s in SOURCES},
        malformed_rows_per_file={s: dict(sorted(v.items())) for s, v in per_file.items()},
        malformed_records=[asdict(b) for b in sorted(ledger.bad, key=lambda b: (b.source, b.file, b.record_no))],
        rows=rows, rows_per_file=dict(sorted(ledger.rows.items())),
    )
