"""The planted world of the bundled scenario, built once per `generate()` call by `build_world`.

* incidents of every provider (ordinary_incidents.py) plus the two planted Anthropic outages of 2 and 3 March
  2026 (planted.py), Anthropic's calibrated so its pre-March uptime lands on the target (uptime.py);
* the traffic model of our own gateway and Anthropic's 529 ratio (traffic.py);
* the client-id plan (clients.py);
* the App Store rank plan of the three providers' apps per country and day (ranks.py).

Every source writer reads the same World; randomness is explained in rng.py. The world is built on the
canonical calendar (`start`, `end` and every moment in it); `shift` says how far its files and truth are
written from there (dates.Shift), so the writers render every time through it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipelines.core.config import ProvidersConfig
from pipelines.scenario.clients import ClientPlan, build_clients
from pipelines.scenario.dates import NO_SHIFT, WORLD_END, WORLD_START, Shift, days_between
from pipelines.scenario.incidents import Incident
from pipelines.scenario.ordinary_incidents import IncidentSpec, draw_specs, materialize
from pipelines.scenario.planted import PLANTED_QUIET, planted_outages
from pipelines.scenario.providers import PROVIDERS, ScenarioSetup, setup_from_config
from pipelines.scenario.ranks import RankPlan, build_rank_plan
from pipelines.scenario.traffic import TrafficModel
from pipelines.scenario.uptime import calibrate


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
    ranks: RankPlan
    world_start: dt.date
    world_end: dt.date
    calibration_factor: float
    shift: Shift = NO_SHIFT

    @property
    def days(self) -> list[dt.date]:
        return days_between(self.start, self.end)


def _clear_of_outages(spec: IncidentSpec) -> bool:
    """False if the incident, counted three times as long, reaches into PLANTED_QUIET (the planted outages)."""
    return not (spec.start < PLANTED_QUIET[1]
                and spec.start + dt.timedelta(seconds=3 * spec.duration_s) > PLANTED_QUIET[0])


def build_world(seed: int, start: dt.date, end: dt.date, config: ProvidersConfig, scale: float = 1.0,
                shift: Shift = NO_SHIFT) -> World:
    """The world over canonical days [start, end], to be written `shift` away."""
    if end < start:
        raise ValueError(f"scenario end {end} is before start {start}")
    setup = setup_from_config(config)
    world_start = min(WORLD_START, start - dt.timedelta(days=180))
    world_end = max(WORLD_END, end)
    first_week = (world_start - dt.date(1970, 1, 1)).days // 7
    last_week = (world_end - dt.date(1970, 1, 1)).days // 7
    incidents: dict[str, list[Incident]] = {}
    factor = 1.0
    outages = planted_outages(seed, setup.providers["anthropic"], shift)
    for provider in PROVIDERS:
        ps = setup.providers[provider]
        specs = draw_specs(seed, ps, first_week, last_week)
        if provider == "anthropic":
            specs = [s for s in specs if _clear_of_outages(s)]
            built, factor = calibrate(seed, specs, [c for c, _ in ps.components])
            built += [inc for inc, _ in outages]
        else:
            built = [materialize(seed, s, 1.0) for s in specs]
        incidents[provider] = sorted(built, key=lambda i: (i.created_at, i.incident_id))
    return World(
        seed=seed, start=start, end=end, scale=scale, setup=setup, incidents=incidents, outages=outages,
        traffic=TrafficModel(seed, world_start, world_end), clients=build_clients(seed, world_start, world_end),
        ranks=build_rank_plan(seed, setup.countries, days_between(start, end)),
        world_start=world_start, world_end=world_end, calibration_factor=factor, shift=shift,
    )
