"""The 100 apps of each App Store top-free chart: the providers' apps at their planned ranks, filler apps
from data/apps.json in the other places, ordered by a slowly drifting popularity score per country."""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np

from pipelines.scenario.datafiles import read_data
from pipelines.scenario.dates import WORLD_END, WORLD_START, days_between
from pipelines.scenario.providers import PROVIDERS
from pipelines.scenario.rng import S_RANK_WALK, rng_for
from pipelines.scenario.world import World

CHART_SIZE = 100
App = tuple[str, str, str, str]  # (name, id, developer, genre)
_PROVIDER_DEVELOPER = {"anthropic": "Anthropic PBC", "openai": "OpenAI OpCo, LLC", "google": "Google"}


def _catalog() -> list[tuple[str, str, str, frozenset[str] | None]]:
    """(name, developer, genre, countries where it charts or None for everywhere), roughly by popularity."""
    return [(app["name"], app["developer"], app["genre"],
             frozenset(app["countries"]) if app["countries"] else None) for app in read_data("apps")]


def _app_id(name: str) -> str:
    """A stable 9-10 digit Apple id for a filler app (never one of the providers' ids)."""
    digest = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")
    return str(300_000_000 + digest % 6_100_000_000)


class Charts:
    """Every country's chart of any day of the world."""

    def __init__(self, world: World):
        self.world = world
        self.catalog = _catalog()
        self.provider_apps: dict[str, App] = {}
        for provider in PROVIDERS:
            ps = world.setup.providers[provider]
            if ps.app_id:
                self.provider_apps[provider] = (ps.app_name, ps.app_id, _PROVIDER_DEVELOPER[provider],
                                                "Productivity")
        reserved = {a[1] for a in self.provider_apps.values()}
        self.ids = [_app_id(name) for name, *_ in self.catalog]
        assert not reserved & set(self.ids), "a filler app id collides with a provider app id"
        world_days = days_between(min(WORLD_START, world.start), max(WORLD_END, world.end))
        self.day_index = {d: i for i, d in enumerate(world_days)}
        self.walks = {country: self._popularity(ci, country, len(world_days))
                      for ci, country in enumerate(world.setup.countries)}

    def _popularity(self, ci: int, country: str, n_days: int) -> np.ndarray:
        """Score per (day, filler app): catalogue order, a local bonus, an AR(1) walk; -inf where it never charts."""
        r = rng_for(self.world.seed, S_RANK_WALK, ci + 1)
        n_apps = len(self.catalog)
        base = -np.log1p(np.arange(n_apps)) * 1.2 + r.normal(0, 0.35, n_apps)
        local = np.array([0.0 if where is None else (1.1 if country in where else -np.inf)
                          for *_, where in self.catalog])
        shocks = r.normal(0, 0.08, (n_days, n_apps))
        walk = np.zeros_like(shocks)
        for i in range(1, n_days):
            walk[i] = 0.93 * walk[i - 1] + shocks[i]
        return base + local + walk

    def provider_ids(self) -> set[str]:
        return {a[1] for a in self.provider_apps.values()}

    def chart(self, day: dt.date, country: str) -> list[App]:
        """100 (name, id, artist, genre) in rank order."""
        targets = self.world.ranks[(day, country)]
        placed: dict[int, App] = {}
        for provider, rank in targets.items():
            if rank is not None and provider in self.provider_apps:
                placed[rank] = self.provider_apps[provider]
        scores = self.walks[country][self.day_index[day]]
        order = [k for k in np.argsort(-scores, kind="stable").tolist() if np.isfinite(scores[k])]
        fillers = iter((self.catalog[k][0], self.ids[k], self.catalog[k][1], self.catalog[k][2]) for k in order)
        return [placed[rank] if rank in placed else next(fillers) for rank in range(1, CHART_SIZE + 1)]
