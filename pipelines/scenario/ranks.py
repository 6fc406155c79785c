"""The App Store rank plan: where each provider's app stands per country and day.

Claude climbs from #16 on 17 February to #1 on 28 February in the US; ChatGPT leaves #1 the day after the
Pentagon deal became public; other countries follow the US with damped movement.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import numpy as np

from pipelines.scenario.dates import CLAUDE_RANK_ANCHOR_DAY, WORLD_END, WORLD_START, days_between
from pipelines.scenario.rng import S_RANKS, rng_for

RankPlan = dict[tuple[dt.date, str], dict[str, int | None]]

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


def _claude_rank(country: str, day: dt.date, noise: float) -> int:
    us_log = _claude_us_log_rank(day)
    exact = day >= CLAUDE_EXACT_FROM or day == CLAUDE_RANK_ANCHOR_DAY
    if country != "us":
        a, d = CLAUDE_COUNTRY.get(country, (math.log(10), 0.7))
        return max(2, round(math.exp(a + d * us_log + (0.0 if exact else noise))))
    if day >= CLAUDE_FIRST_NUMBER_ONE:
        return 1
    return max(2, round(math.exp(us_log) if exact else math.exp(us_log + noise)))


def _chatgpt_rank(country: str, day: dt.date, later: int) -> int:
    chatgpt_us = 1 if day < CHATGPT_DROP_DAY else CHATGPT_US_AFTER.get(day, later)
    damp = CHATGPT_COUNTRY_DAMP.get(country, 0.6)
    return chatgpt_us if country == "us" else max(1, round(math.exp(damp * math.log(chatgpt_us))))


def _distinct(targets: dict[str, int]) -> dict[str, int | None]:
    """Two apps cannot share a rank: in PRIORITY order, a taken rank moves down one; beyond 100 is None."""
    placed: dict[str, int | None] = {}
    taken: set[int] = set()
    for provider in PRIORITY:
        rank = targets[provider]
        while rank in taken:
            rank += 1
        taken.add(rank)
        placed[provider] = rank if rank <= 100 else None
    return placed


def build_rank_plan(seed: int, countries: tuple[str, ...], days: list[dt.date]) -> RankPlan:
    """Target rank of each provider's app per (day, country); None = outside the top 100."""
    world_days = days_between(WORLD_START, max(WORLD_END, days[-1]))
    index = {d: i for i, d in enumerate(world_days)}
    plan: RankPlan = {}
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
        for day in days:
            i = index.get(day, n - 1) if day >= WORLD_START else 0
            gem = int(np.clip(round(GEMINI_BASE.get(country, 8) * math.exp(gemini[i])), 3, 40))
            plan[(day, country)] = _distinct({"anthropic": _claude_rank(country, day, float(noise[i])),
                                              "openai": _chatgpt_rank(country, day, int(chatgpt_later[i])),
                                              "google": gem})
    return plan
