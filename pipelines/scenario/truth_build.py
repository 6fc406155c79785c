"""The truth of one `generate()` call, from the world and the ledger of the files written.

The world is built on the canonical calendar; every time and day of the truth is written through its shift, so
a shifted truth describes the shifted files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import numpy as np

from pipelines.scenario.app_rankings import CHART, LEGACY_DAYS
from pipelines.scenario.crowd_model import bump, day_buckets
from pipelines.scenario.dates import CRASH_START, PENTAGON_DEAL_PUBLIC, UTC, Shift, day_start
from pipelines.scenario.gateway_catalog import endpoint_capability
from pipelines.scenario.incidents import Incident
from pipelines.scenario.output import Ledger
from pipelines.scenario.providers import PROVIDERS
from pipelines.scenario.ranks import CHATGPT_DROP_DAY, CLAUDE_RANK_ANCHOR_DAY
from pipelines.scenario.traffic import (
    ANTHROPIC_529_BASE,
    ANTHROPIC_529_CAP,
    ANTHROPIC_529_EXPONENT,
    MIGRATION_LAG_HOURS,
    MIGRATION_MULTIPLIER_48H,
    USER_GROWTH_DEC_FEB,
    expected_request_rows,
    traffic_numbers,
)
from pipelines.scenario.truth import (
    SOURCES,
    TRUTH_VERSION,
    IncidentTruth,
    OutageTruth,
    RankTruth,
    TrafficTruth,
    Truth,
    UptimeTruth,
)
from pipelines.scenario.uptime import (
    STATUS_WEIGHTS,
    UPTIME_TARGET_PCT,
    UPTIME_WINDOW,
    uptime_pct,
    weighted_downtime_minutes,
)
from pipelines.scenario.world import World


def _iso(shift: Shift, moment: dt.datetime | None) -> str | None:
    return None if moment is None else shift.iso(moment)


def _incident_truth(world: World, inc: Incident) -> IncidentTruth:
    kind = world.setup.providers[inc.provider].page_kind
    iso = world.shift.iso
    return IncidentTruth(
        provider=inc.provider, incident_id=inc.incident_id, title=inc.title, impact=inc.impact,
        components=inc.components, component_status=inc.component_status,
        started_at=iso(inc.started_at), resolved_at=iso(inc.ended_at if not inc.planted else inc.page_resolved_at),
        first_post_at=iso(inc.created_at), identified_at=_iso(world.shift, inc.identified_at),
        monitoring_at=_iso(world.shift, inc.monitoring_at), page_resolved_at=_iso(world.shift, inc.page_resolved_at),
        postmortem_at=_iso(world.shift, inc.postmortem_at),
        page_started_at=_iso(world.shift, inc.page_started_at) if kind == "statuspage" else None,
        posted_after_the_fact=inc.posted_after_the_fact, planted=inc.planted,
        in_window=world.start <= inc.started_at.date() <= world.end,
        segments=[{"component": s.component, "status": s.status, "start": iso(s.start), "end": iso(s.end)}
                  for s in inc.segments],
    )


def _crowd_peaks(world: World, inc: Incident) -> tuple[dict[str, int], dict[str, str]]:
    peaks, at = {}, {}
    t = day_buckets(inc.started_at.date())
    for country in world.setup.countries:
        if inc.crowd is None or not inc.crowd.country_peaks or country not in inc.crowd.country_peaks:
            continue
        shape = bump(inc, country, t)
        peaks[country] = round(inc.crowd.country_peaks[country])
        at[country] = world.shift.iso(dt.datetime.fromtimestamp(int(t[int(np.argmax(shape))]), UTC))
    return peaks, at


def _outage_truth(world: World, inc: Incident, meta: dict) -> OutageTruth:
    peaks, peak_at = _crowd_peaks(world, inc)
    iso = world.shift.iso
    return OutageTruth(
        provider=inc.provider, name=meta["name"], incident_id=inc.incident_id, services=meta["services"],
        components=inc.components, start=iso(inc.started_at), end=iso(inc.ended_at),
        user_visible_start=iso(inc.started_at), first_post_at=iso(inc.created_at),
        first_post_lag_minutes=(inc.created_at - inc.started_at).total_seconds() / 60,
        identified_at=iso(inc.identified_at),
        identified_after_minutes=(inc.identified_at - inc.started_at).total_seconds() / 60,
        monitoring_at=_iso(world.shift, inc.monitoring_at), resolved_at=iso(inc.page_resolved_at),
        postmortem_at=_iso(world.shift, inc.postmortem_at), crowd_peak=peaks, crowd_peak_at=peak_at,
        telemetry=meta["telemetry"], in_window=world.start <= inc.started_at.date() <= world.end,
    )


def _rank_truth(world: World) -> RankTruth:
    """The rank story, found on the canonical calendar and written on the shifted one."""
    shift = world.shift
    us = {d: world.ranks[(d, "us")] for d in world.days} if "us" in world.setup.countries else {}
    claude_first = next((d for d in us if us[d]["anthropic"] == 1), None)
    drop = next((d for d in us if us[d]["openai"] != 1 and d >= PENTAGON_DEAL_PUBLIC), None)
    anchor = us.get(CLAUDE_RANK_ANCHOR_DAY, {})
    assert drop is None or drop == CHATGPT_DROP_DAY or world.start > CHATGPT_DROP_DAY
    return RankTruth(
        chart=CHART, pentagon_deal_public=shift.day_iso(PENTAGON_DEAL_PUBLIC),
        claude_us_rank_on_2026_02_17=anchor.get("anthropic"), chatgpt_us_rank_on_2026_02_17=anchor.get("openai"),
        claude_first_day_at_1=None if claude_first is None else shift.day_iso(claude_first),
        chatgpt_drop_day=None if drop is None else shift.day_iso(drop),
        legacy_format_days=[shift.day_iso(d) for d in LEGACY_DAYS if world.start <= d <= world.end],
        daily={c: {shift.day_iso(d): dict(world.ranks[(d, c)]) for d in world.days} for c in world.setup.countries},
    )


def _uptime_truth(world: World) -> UptimeTruth:
    anthropic = world.setup.providers["anthropic"]
    comps = [c for c, _ in anthropic.components]
    first, last = UPTIME_WINDOW
    down = weighted_downtime_minutes(world.incidents["anthropic"], comps, day_start(first),
                                     day_start(last) + dt.timedelta(days=1))
    return UptimeTruth(
        provider="anthropic", window_first_day=world.shift.day_iso(first), window_last_day=world.shift.day_iso(last),
        weights=dict(STATUS_WEIGHTS), components=comps,
        weighted_downtime_minutes={c: round(v, 3) for c, v in down.items()},
        uptime_pct=round(uptime_pct(world.incidents["anthropic"], comps, first, last), 4),
        target_pct=UPTIME_TARGET_PCT, calibration_factor=round(world.calibration_factor, 6),
    )


def _traffic_truth(world: World) -> TrafficTruth:
    new_clients = world.clients.new_clients_by_day("anthropic", world.start, world.end)
    return TrafficTruth(
        crash_at=world.shift.iso(CRASH_START), anthropic_user_growth_pct_dec_feb=USER_GROWTH_DEC_FEB * 100,
        migration_multiplier_48h=MIGRATION_MULTIPLIER_48H, **traffic_numbers(world.traffic),
        anthropic_new_clients_by_day={world.shift.day_iso(day): n for day, n in new_clients.items()},
        anthropic_529_model={"base_ratio": ANTHROPIC_529_BASE, "load_exponent": ANTHROPIC_529_EXPONENT,
                             "cap": ANTHROPIC_529_CAP,
                             "lag_hours": float(MIGRATION_LAG_HOURS)},
        expected_request_rows=round(expected_request_rows(world.traffic, world.start, world.end, world.scale)),
        endpoint_capability=endpoint_capability(),
    )


def build_truth(world: World, ledger: Ledger, sources: tuple[str, ...], listed: set[str]) -> Truth:
    """The truth; `listed` = ids of the incidents the status snapshots of the range list."""
    incidents = sorted((i for p in PROVIDERS for i in world.incidents[p] if i.incident_id in listed),
                       key=lambda i: (i.started_at, i.provider, i.incident_id))
    per_file: dict[str, dict[str, int]] = {s: {} for s in SOURCES}
    for bad in ledger.bad:
        per_file[bad.source][bad.file] = per_file[bad.source].get(bad.file, 0) + 1
    rows = {s: 0 for s in SOURCES}
    for file, n in ledger.rows.items():
        rows[ledger.sources[file]] += n
    return Truth(
        version=TRUTH_VERSION, seed=world.seed, start=world.shift.day_iso(world.start),
        end=world.shift.day_iso(world.end), scale=world.scale, shift_days=world.shift.days, sources=list(sources),
        outages=[_outage_truth(world, inc, meta) for inc, meta in world.outages],
        incidents=[_incident_truth(world, i) for i in incidents],
        ranks=_rank_truth(world), traffic=_traffic_truth(world), migration_lag_hours=MIGRATION_LAG_HOURS,
        uptime=_uptime_truth(world),
        malformed_rows={s: sum(per_file[s].values()) for s in SOURCES},
        malformed_rows_per_file={s: dict(sorted(v.items())) for s, v in per_file.items()},
        malformed_records=[asdict(b) for b in sorted(ledger.bad, key=lambda b: (b.source, b.file, b.record_no))],
        rows=rows, rows_per_file=dict(sorted(ledger.rows.items())),
    )
