"""The traffic model of our own gateway and Anthropic's load-driven 529 ratio.

Expected requests per minute per provider: trend, daily and weekly cycle, hourly bursts, and the ChatGPT ->
Claude migration wave before the crash; Anthropic's 529 ratio follows its load MIGRATION_LAG_HOURS later.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pipelines.scenario.dates import CRASH_START, DAY_S, day_start, epoch_s, utc
from pipelines.scenario.providers import PROVIDER_CODE, PROVIDERS
from pipelines.scenario.rng import S_BURSTS, rng_for

MIGRATION_LAG_HOURS = 6
MIGRATION_MULTIPLIER_48H = 5.0  # Anthropic load multiplier over the 48 h before the crash (~+400 %)
USER_GROWTH_DEC_FEB = 0.60  # Anthropic's free users (and our traffic to it) grow 60 % from 1 Dec to 1 Mar

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


def _burst_series(seed: int, provider: str, n_hours: int, damp_lo: int, damp_hi: int) -> np.ndarray:
    """Hourly load multipliers (mean 1): an AR(1) walk plus a few spikes of 1.5-2.6x lasting 2-6 hours."""
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
    return burst / burst.mean()


class TrafficModel:
    """Expected requests per minute of our gateway to each provider, and Anthropic's load-driven 529 ratio."""

    def __init__(self, seed: int, world_start: dt.date, world_end: dt.date):
        self.t0 = epoch_s(day_start(world_start))
        n_hours = ((world_end - world_start).days + 2) * 24
        damp_lo = (epoch_s(utc(2026, 2, 21)) - self.t0) // 3600
        damp_hi = (epoch_s(utc(2026, 3, 5)) - self.t0) // 3600
        self.bursts: dict[str, np.ndarray] = {
            provider: _burst_series(seed, provider, n_hours, damp_lo, damp_hi) for provider in PROVIDERS
        }

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
