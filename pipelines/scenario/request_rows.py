"""One provider's requests through our gateway for one day, as column arrays.

Volume follows `TrafficModel.rate_per_minute` (Poisson per minute) times `scale`; statuses mix 200, 429 (our
quota), 529 (Anthropic overloaded; 503 for the others), 500 and 504 timeouts; each vendor incident raises the
error probability of the affected capability's endpoints, and Anthropic's 529 ratio follows its load 6 h later.
The draws happen in a fixed order from one Generator per provider and day: reordering them changes the files.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from pipelines.scenario.clients import REGIONS, ClientPlan
from pipelines.scenario.dates import DAY_S, day_start, epoch_s
from pipelines.scenario.gateway_catalog import CAPS, embedding_model, endpoints, model_mix
from pipelines.scenario.providers import PROVIDER_CODE
from pipelines.scenario.rng import S_REQUESTS, rng_for
from pipelines.scenario.traffic import migration_factor
from pipelines.scenario.world import World

CAP_SHARE = (0.85, 0.08, 0.07)
TIMEOUT_MS = 60_000.0
OVERLOAD_STATUS = {"anthropic": 529, "openai": 503, "google": 503}
_QUICK_MS = {"count": 120.0, "embed": 140.0, "batch": 300.0, "auth": 180.0}  # median latency without output


@dataclass
class RequestRows:
    """Column arrays of one provider's requests for one day, in time order."""

    ts_ms: np.ndarray
    cap: np.ndarray  # index into CAPS
    endpoint: np.ndarray
    model: np.ndarray
    client: np.ndarray  # index into the provider's client plan
    client_id: np.ndarray
    region: np.ndarray
    status: np.ndarray
    latency_ms: np.ndarray
    tokens_in: np.ndarray
    tokens_out: np.ndarray
    route: np.ndarray  # uniform: which file carries the row
    extra: np.ndarray  # spare uniform for byte counts


def _speed(model: str) -> tuple[float, float]:
    """(median time to first token in ms, output tokens per second)."""
    if any(k in model for k in ("opus", "-pro", "gpt-5.2", "gpt-5.1")):
        return 1400.0, 50.0
    if any(k in model for k in ("haiku", "mini", "flash")):
        return 480.0, 140.0
    return 900.0, 75.0


def _endpoints_and_models(r: np.random.Generator, provider: str, day: dt.date, n: int) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(capability index, endpoint, endpoint kind, model) per request."""
    cap = r.choice(len(CAPS), size=n, p=CAP_SHARE)
    endpoint = np.empty(n, dtype=object)
    kind = np.empty(n, dtype=object)
    for ci, cap_name in enumerate(CAPS):
        items = endpoints(provider, cap_name)
        mask = cap == ci
        pick = r.choice(len(items), size=int(mask.sum()), p=[s for _, s, _ in items])
        endpoint[mask] = np.array([e for e, _, _ in items], dtype=object)[pick]
        kind[mask] = np.array([k for _, _, k in items], dtype=object)[pick]
    mix = model_mix(provider, day)
    model = np.array([m for m, _ in mix], dtype=object)[r.choice(len(mix), size=n, p=[w for _, w in mix])]
    model = np.where(kind == "embed", embedding_model(provider), model)
    if provider == "google":
        endpoint = np.array([e.replace("{model}", m) for e, m in zip(endpoint.tolist(), model.tolist())],
                            dtype=object)
    return cap, endpoint, kind, model


def _clients(r: np.random.Generator, plan: ClientPlan, provider: str, day: dt.date, n: int) -> np.ndarray:
    """Client index per request: Zipf over everyone active, plus a share from the clients that arrived this week."""
    k_day = (day - plan.world_start).days
    first = plan.first_day[provider]
    active = np.flatnonzero(first <= k_day)
    fresh = np.flatnonzero((first > 0) & (first <= k_day) & (first > k_day - 7))
    q_new = min(0.5 if provider == "anthropic" else 0.2, 0.01 * len(fresh))
    weights = 1.0 / np.arange(1, len(active) + 1)
    client = active[r.choice(len(active), size=n, p=weights / weights.sum())]
    if len(fresh):
        from_new = r.random(n) < q_new
        client = np.where(from_new, fresh[r.integers(0, len(fresh), n)], client)
    return client


def _statuses(r: np.random.Generator, world: World, provider: str, day: dt.date, t: np.ndarray,
              cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(HTTP status, latency factor) per request: base error rates plus every incident effect of the day."""
    n = len(t)
    p_timeout = np.full(n, 0.0012)
    mig = migration_factor(provider, t)
    p_429 = 0.008 + 0.01 * np.clip(mig - 1.0, 0.0, 4.0)
    p_over = world.traffic.anthropic_529_prob(t) if provider == "anthropic" else np.full(n, 0.003)
    p_500 = np.full(n, 0.0015)
    latency_factor = np.ones(n)
    lo = epoch_s(day_start(day))
    hi = lo + DAY_S
    for inc in world.incidents[provider]:
        for eff in inc.effects:
            a, b = epoch_s(eff.start), epoch_s(eff.end)
            if b <= lo or a >= hi or eff.capability not in CAPS:
                continue
            mask = (cap == CAPS.index(eff.capability)) & (t >= a) & (t < b)
            if not mask.any():
                continue
            ramp = np.clip((t[mask] - a) / 60.0 / eff.ramp_minutes, 0.0, 1.0) if eff.ramp_minutes else 1.0
            extra = eff.error_prob * ramp
            p_over[mask] += extra * eff.overload_share
            p_500[mask] += extra * (1.0 - eff.overload_share)
            latency_factor[mask] *= eff.latency_factor
            if eff.latency_factor >= 2.0:
                p_timeout[mask] += 0.01
    total = p_timeout + p_429 + p_over + p_500
    shrink = np.where(total > 0.97, 0.97 / total, 1.0)
    u = r.random(n)
    c1 = p_timeout * shrink
    c2 = c1 + p_429 * shrink
    c3 = c2 + p_over * shrink
    c4 = c3 + p_500 * shrink
    status = np.select([u < c1, u < c2, u < c3, u < c4], [504, 429, OVERLOAD_STATUS[provider], 500], 200)
    return status, latency_factor


def _tokens_and_latency(r: np.random.Generator, kind: np.ndarray, model: np.ndarray, status: np.ndarray,
                        latency_factor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tokens_in, tokens_out, latency_ms rounded to 0.1) per request."""
    n = len(kind)
    tokens_in = np.clip(np.rint(r.lognormal(math.log(1800), 1.1, n)), 1, 200_000).astype(np.int64)
    tokens_out = np.clip(np.rint(r.lognormal(math.log(380), 0.9, n)), 1, 32_000).astype(np.int64)
    tokens_in = np.where(kind == "batch", tokens_in * 20, tokens_in)
    tokens_out = np.where(np.isin(kind, ["count", "embed", "batch", "auth"]), 0, tokens_out)
    tokens_in = np.where(kind == "auth", 0, tokens_in)
    ok = status == 200
    tokens_out = np.where(ok, tokens_out, 0)
    speeds = {m: _speed(m) for m in set(model.tolist())}
    ttft = np.array([speeds[m][0] for m in model.tolist()])
    tps = np.array([speeds[m][1] for m in model.tolist()])
    gen_ms = ttft * r.lognormal(0.0, 0.35, n) + tokens_out / tps * 1000.0 * r.lognormal(0.0, 0.2, n)
    quick_ms = np.array([_QUICK_MS.get(k, 0.0) for k in kind.tolist()]) * r.lognormal(0.0, 0.4, n)
    latency = np.where(kind == "gen", gen_ms, quick_ms) * latency_factor
    err_ms = r.lognormal(math.log(350), 0.6, n)
    latency = np.where(ok, latency, err_ms)
    latency = np.where(status == 429, r.lognormal(math.log(25), 0.4, n), latency)
    latency = np.where(status == 504, TIMEOUT_MS + r.uniform(0, 50, n), latency)
    return tokens_in, tokens_out, np.round(latency, 1)


def sample_requests(world: World, provider: str, day: dt.date) -> RequestRows:
    """Every request of our gateway to `provider` on `day` (the draws' order is part of the scenario)."""
    r = rng_for(world.seed, S_REQUESTS, PROVIDER_CODE[provider], day.toordinal())
    minutes = epoch_s(day_start(day)) + 60 * np.arange(DAY_S // 60)
    counts = r.poisson(world.traffic.rate_per_minute(provider, minutes + 30) * world.scale)
    n = int(counts.sum())
    ts_ms = np.sort(np.repeat(minutes, counts) * 1000 + r.integers(0, 60_000, n))
    cap, endpoint, kind, model = _endpoints_and_models(r, provider, day, n)
    plan = world.clients
    client = _clients(r, plan, provider, day, n)
    status, latency_factor = _statuses(r, world, provider, day, ts_ms // 1000, cap)
    tokens_in, tokens_out, latency_ms = _tokens_and_latency(r, kind, model, status, latency_factor)
    return RequestRows(
        ts_ms=ts_ms, cap=cap, endpoint=endpoint, model=model, client=client,
        client_id=np.array(plan.ids[provider], dtype=object)[client],
        region=np.array(REGIONS, dtype=object)[plan.regions[provider][client]],
        status=status, latency_ms=latency_ms, tokens_in=tokens_in, tokens_out=tokens_out,
        route=r.random(n), extra=r.random(n),
    )
