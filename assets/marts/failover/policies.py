"""Failover policies as masks over one primary's minutes: which minutes go to the fallback.

- cooldown (LiteLLM router): a minute in which the primary failed more than `failure_ratio` (0.5) of at
  least `min_requests` (5) requests, or more than `allowed_fails` requests (LiteLLM's allowed_fails: fails
  tolerated per minute; off by default), or returned any 429 (`cool_on_429`), puts the primary in
  cooldown for the next `cooldown_minutes` minutes (LiteLLM's cooldown_time, there in seconds, default
  5 s; here minutes, default 5, because our replay is per minute). During cooldown all its traffic goes
  to the fallback and the primary is not observed (a minute inside a cooldown cannot trigger a new one);
  the first minute after the cooldown goes back to the primary.
- avoid_recent_outage (OpenRouter style): the primary is skipped in any minute that follows, within
  `lookback_minutes` (5), a minute in which its provider error ratio (5xx + 529 + timeouts) exceeded
  `error_ratio_threshold` (0.25) over at least `min_requests` (3) requests. OpenRouter learns a provider's
  health from everyone's traffic, so the primary's health keeps being observed while we avoid it.
"""

import numpy as np

POLICIES = ("none", "cooldown", "avoid_recent_outage")
MINUTE_US = 60_000_000


def cooldown_mask(
    t: np.ndarray,
    requests: np.ndarray,
    failed: np.ndarray,
    errors_429: np.ndarray,
    failure_ratio: float,
    min_requests: int,
    allowed_fails: int | None,
    cool_on_429: bool,
    cooldown_minutes: int,
) -> np.ndarray:
    """Which of the primary's minutes (sorted epoch-us `t`) are served by the fallback under the cooldown."""
    with np.errstate(divide="ignore", invalid="ignore"):
        trigger = (requests >= min_requests) & (failed / requests > failure_ratio)
    if allowed_fails is not None:
        trigger |= failed > allowed_fails
    if cool_on_429:
        trigger |= errors_429 > 0
    rerouted = np.zeros(t.size, dtype=bool)
    cooled_until = np.iinfo(np.int64).min
    # the recursion runs over trigger minutes only (a minute inside a cooldown is not observed)
    for i in np.flatnonzero(trigger):
        if t[i] < cooled_until:
            continue
        start = t[i] + MINUTE_US
        cooled_until = start + cooldown_minutes * MINUTE_US
        lo, hi = np.searchsorted(t, [start, cooled_until], side="left")
        rerouted[lo:hi] = True
    return rerouted


def avoidance_mask(
    t: np.ndarray,
    requests: np.ndarray,
    error_ratio: np.ndarray,
    threshold: float,
    min_requests: int,
    lookback_minutes: int,
) -> np.ndarray:
    """Minutes that follow an outage minute of the primary within `lookback_minutes` (exclusive of itself)."""
    bad_t = t[(requests >= min_requests) & (error_ratio > threshold)]
    if bad_t.size == 0:
        return np.zeros(t.size, dtype=bool)
    # last outage minute strictly before each minute
    idx = np.searchsorted(bad_t, t, side="left") - 1
    last = np.where(idx >= 0, bad_t[np.maximum(idx, 0)], np.iinfo(np.int64).min // 2)
    return (idx >= 0) & (t - last <= lookback_minutes * MINUTE_US)
