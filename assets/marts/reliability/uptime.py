"""How down minutes are weighted into uptime_pct, and whether that choice reorders the providers."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class UptimePolicy:
    """How much a minute in each status counts as down; maintenance minutes leave the denominator."""

    weight_major: float = 1.0
    weight_partial: float = 0.3
    weight_degraded: float = 0.0
    maintenance_excluded: bool = True


DEFAULT_POLICY = UptimePolicy()
# Sensitivity columns: only the partial-outage weight changes, major stays 1.0.
PARTIAL_WEIGHT_VARIANTS = {
    "uptime_pct_w0": 0.0,
    "uptime_pct_w03": 0.3,
    "uptime_pct_w05": 0.5,
    "uptime_pct_w1": 1.0,
}


def uptime_pct(policy: UptimePolicy, weight_partial: float) -> pl.Expr:
    """100 * (1 - weighted down minutes / counted_minutes), with `weight_partial` for partial outages."""
    down = (
        pl.col("major_outage_minutes") * policy.weight_major
        + pl.col("partial_outage_minutes") * weight_partial
        + pl.col("degraded_minutes") * policy.weight_degraded
    )
    return pl.when(pl.col("counted_minutes") > 0).then(100.0 * (1.0 - down / pl.col("counted_minutes")))


def ranking_changes(uptimes: Mapping[str, Iterable[float | None]], tolerance: float = 1e-9) -> bool:
    """True when some pair of providers is strictly ordered one way under one policy and the other way
    under another (ties are not a change). `uptimes` maps provider -> uptime per policy, same order."""
    table = {p: list(v) for p, v in uptimes.items()}
    names = sorted(table)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            signs = set()
            for ua, ub in zip(table[a], table[b], strict=True):
                if ua is None or ub is None or abs(ua - ub) <= tolerance:
                    continue
                signs.add(ua > ub)
            if len(signs) > 1:
                return True
    return False
