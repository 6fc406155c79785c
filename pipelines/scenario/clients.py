"""The client-id plan of our gateway: new client ids surge for Anthropic before 2 March."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from pipelines.scenario.dates import days_between
from pipelines.scenario.ids import stable_id
from pipelines.scenario.providers import PROVIDER_CODE, PROVIDERS
from pipelines.scenario.rng import S_CLIENTS, rng_for

INITIAL_CLIENTS = {"anthropic": 90, "openai": 160, "google": 60}
_ANTHROPIC_NEW_CLIENTS = {dt.date(2026, 2, 24): 3, dt.date(2026, 2, 25): 3, dt.date(2026, 2, 26): 4,
                          dt.date(2026, 2, 27): 12, dt.date(2026, 2, 28): 30, dt.date(2026, 3, 1): 45,
                          dt.date(2026, 3, 2): 55, dt.date(2026, 3, 3): 20}
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "ap-southeast-1")
REGION_WEIGHTS = (0.35, 0.15, 0.15, 0.10, 0.15, 0.10)


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

    def new_clients_by_day(self, provider: str, start: dt.date, end: dt.date) -> dict[dt.date, int]:
        """Client ids that send their first request on each (canonical) day of [start, end]."""
        offsets = self.first_day[provider]
        out = {}
        for day in days_between(start, end):
            k = (day - self.world_start).days
            out[day] = int(np.sum(offsets == k)) if k > 0 else 0
        return out


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
