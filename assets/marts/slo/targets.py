"""Each provider's availability target and the error budget it leaves (1 - target)."""

from collections.abc import Mapping

import polars as pl


def targets_frame(targets: Mapping[str, float]) -> pl.DataFrame:
    """provider, availability_target, error_budget from provider -> config slo.availability_target."""
    return pl.DataFrame(
        {"provider": list(targets), "availability_target": [float(v) for v in targets.values()]},
        schema={"provider": pl.String, "availability_target": pl.Float64},
    ).with_columns(error_budget=1.0 - pl.col("availability_target"))
