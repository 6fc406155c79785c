"""How many Downdetector-style reports each service gets per 5-minute bucket and country.

The baseline follows local daily and weekly cycles and the provider's user growth; every vendor incident adds
a bump (smaller than the planted ones), and the planted outages hit their exact per-country peaks (US 4,780 on
2 March at 12:35 UTC).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipelines.scenario.dates import DAY_S, day_start, epoch_s
from pipelines.scenario.incidents import Incident
from pipelines.scenario.providers import PROVIDER_CODE
from pipelines.scenario.rng import S_CROWD, rng_for
from pipelines.scenario.traffic import (
    MIGRATION_MULTIPLIER_48H,
    anthropic_trend,
    local_activity,
    migration_factor,
)
from pipelines.scenario.world import World

BUCKET_S = 300
CROWD_BASE = {  # median reports per 5 minutes at the daily mean, 1 Dec 2025
    "anthropic": {"us": 6.0, "in": 2.5, "gb": 1.8, "de": 1.2, "sg": 0.6},
    "openai": {"us": 14.0, "in": 7.0, "gb": 4.0, "de": 3.0, "sg": 1.2},
    "google": {"us": 4.0, "in": 3.0, "gb": 1.2, "de": 0.9, "sg": 0.5},
}
COUNTRY_SHARE = {"us": 1.0, "in": 0.30, "gb": 0.20, "de": 0.14, "sg": 0.08}
UTC_OFFSET_H = {"us": -6.0, "gb": 0.0, "de": 1.0, "in": 5.5, "sg": 8.0}
PEAK_SHIFT_MIN = {"us": 0, "in": 5, "gb": 0, "de": 5, "sg": -5}
PROBLEMS = ("login", "app", "website", "api")
PROBLEM_WEIGHTS = {"anthropic": (0.25, 0.35, 0.30, 0.10), "openai": (0.25, 0.35, 0.30, 0.10),
                   "google": (0.15, 0.45, 0.30, 0.10)}
NB_SHAPE = 5.0  # negative-binomial dispersion of the baseline reports


def day_buckets(day: dt.date) -> np.ndarray:
    """Epoch seconds of the start of every 5-minute bucket of a UTC day."""
    return epoch_s(day_start(day)) + BUCKET_S * np.arange(DAY_S // BUCKET_S)


def _growth(provider: str, t: np.ndarray) -> np.ndarray:
    if provider == "anthropic":  # more users -> more reports; the migration wave doubles and a half it
        return anthropic_trend(t) * (1.0 + 0.375 * (migration_factor("anthropic", t) - 1.0)
                                     * 4.0 / (MIGRATION_MULTIPLIER_48H - 1.0))
    return migration_factor(provider, t)


def baseline(provider: str, country: str, t: np.ndarray) -> np.ndarray:
    """Expected reports per 5-minute bucket without any incident."""
    local = t + UTC_OFFSET_H.get(country, 0.0) * 3600
    hour = (local % DAY_S) / 3600.0
    weekday = ((local // DAY_S).astype(np.int64) + 3) % 7
    weekly = np.where(weekday >= 5, 0.85, 1.0)
    base = CROWD_BASE[provider].get(country, 1.0)
    return base * local_activity(hour) * weekly * _growth(provider, t)


def bump(inc: Incident, country: str, t: np.ndarray) -> np.ndarray:
    """Extra reports per bucket caused by the incident (planted outages: their exact country peaks)."""
    crowd = inc.crowd
    if crowd is None:
        return np.zeros(len(t))
    xs = np.array([k for k, _ in crowd.keyframes], dtype=np.float64)
    ys = np.array([v for _, v in crowd.keyframes], dtype=np.float64)
    minutes = (t - epoch_s(crowd.start)) / 60.0
    if crowd.country_peaks is not None:
        shape = np.interp(minutes - PEAK_SHIFT_MIN.get(country, 0), xs, ys, left=0.0, right=0.0)
        return shape * crowd.country_peaks.get(country, 0.0)
    local_hour = ((t + UTC_OFFSET_H.get(country, 0.0) * 3600) % DAY_S) / 3600.0
    awake = 0.4 + 0.6 * local_activity(local_hour)
    shape = np.interp(minutes, xs, ys, left=0.0, right=0.0)
    return shape * crowd.peak_us * COUNTRY_SHARE.get(country, 0.1) * awake


def day_rows(world: World, provider: str, day: dt.date) -> dict[str, np.ndarray]:
    """Counts, baselines and problem types for every (bucket, country) of one service and day."""
    r = rng_for(world.seed, S_CROWD, PROVIDER_CODE[provider], day.toordinal())
    countries = world.setup.countries
    t0 = epoch_s(day_start(day))
    t = day_buckets(day)
    window = (t0 - 6 * 3600, t0 + DAY_S)
    incidents = [i for i in world.incidents[provider] if i.crowd is not None
                 and epoch_s(i.started_at) - 3600 < window[1] and epoch_s(i.ended_at) + 6 * 3600 > window[0]]
    counts = np.zeros((len(t), len(countries)), dtype=np.int64)
    base = np.zeros((len(t), len(countries)))
    problem = np.empty((len(t), len(countries)), dtype=object)
    weights = np.array(PROBLEM_WEIGHTS[provider])
    for ci, country in enumerate(countries):
        mu = baseline(provider, country, t)
        base[:, ci] = mu
        lam = r.gamma(NB_SHAPE, mu / NB_SHAPE)
        n = r.poisson(lam)
        ordinary = np.zeros(len(t))
        planted_part = np.zeros(len(t))
        planted_peak = None
        incident_problem = np.full(len(t), None, dtype=object)
        for inc in incidents:
            b = bump(inc, country, t)
            if inc.crowd.country_peaks is not None:
                planted_part += b
                if b.max() > 0:
                    planted_peak = (int(np.argmax(b)), round(inc.crowd.country_peaks.get(country, 0.0)))
            else:
                ordinary += b
            incident_problem = np.where(b > mu, inc.crowd.problem_type, incident_problem)
        n = n + r.poisson(ordinary * r.lognormal(0.0, 0.1, len(t)))
        jitter = np.rint(planted_part * r.normal(1.0, 0.06, len(t))).astype(np.int64)
        n = n + np.maximum(jitter, 0)
        if planted_peak is not None:
            k, peak = planted_peak
            n = np.minimum(n, int(np.floor(0.985 * peak)))  # the planted bucket stays the day's maximum
            n[k] = peak
        counts[:, ci] = n
        drawn = np.array(PROBLEMS, dtype=object)[r.choice(len(PROBLEMS), size=len(t), p=weights)]
        chosen = np.where(incident_problem != None, incident_problem, drawn)
        problem[:, ci] = np.where(n > 0, chosen, None)
    return {"t": t, "counts": counts, "baseline": base, "problem": problem}
