"""Rolling 30-day error budget and multi-window burn rates, per provider and minute (`marts.slo_burn`)."""

import datetime as dt
from collections.abc import Mapping

import polars as pl

from assets.marts.slo.targets import targets_frame
from pipelines.core.minute_sli import dense_minutes, ratio

BURN_WINDOWS = {"5m": 5, "30m": 30, "1h": 60, "2h": 120, "6h": 360, "1d": 1440, "3d": 4320}
BUDGET_WINDOW_MINUTES = 30 * 1440  # the rolling 30-day error budget
# Every rolling figure of a minute looks at most this far back: a run recomputes the minutes of its window
# from the minute SLI since its start minus this, and gets what a rebuild from all history would.
LOOK_BACK = dt.timedelta(minutes=max(BUDGET_WINDOW_MINUTES, *BURN_WINDOWS.values()))
BURN_RATE_COLUMNS = [f"burn_rate_{label}" for label in BURN_WINDOWS]
# The alerts' long windows also keep their counts: an alert needs evidence, not only a ratio.
EVIDENCE_WINDOWS = ("1h", "6h", "1d", "3d")
EVIDENCE_COLUMNS = [f"{kind}_{label}" for label in EVIDENCE_WINDOWS for kind in ("requests", "bad_requests")]


def compute_slo_burn(minute_sli: pl.DataFrame, targets: Mapping[str, float]) -> pl.DataFrame:
    """Per provider and minute: target, budget, good/bad, rolling 30-day budget and burn rates.

    `targets` maps provider -> availability target (config slo.availability_target); providers without
    a target are dropped (the asset reports them).
    """
    dense = dense_minutes(minute_sli).join(targets_frame(targets), on="provider", how="inner")

    def rolling(column: str, minutes: int) -> pl.Expr:
        # Dense grid sorted by provider, minute: `minutes` rows = the window ending at this minute.
        return pl.col(column).rolling_sum(window_size=minutes, min_samples=1).over("provider")

    windows = [
        expr
        for label, minutes in BURN_WINDOWS.items()
        for expr in (
            rolling("requests", minutes).alias(f"_req_{label}"),
            rolling("bad_requests", minutes).alias(f"_bad_{label}"),
        )
    ]
    burn = (
        dense.with_columns(
            *windows,
            requests_30d=rolling("requests", BUDGET_WINDOW_MINUTES),
            budget_consumed_requests_30d=rolling("bad_requests", BUDGET_WINDOW_MINUTES),
        )
        .with_columns(
            *[
                (ratio(pl.col(f"_bad_{label}"), pl.col(f"_req_{label}")) / pl.col("error_budget")).alias(
                    f"burn_rate_{label}"
                )
                for label in BURN_WINDOWS
            ],
            error_budget_requests_30d=pl.col("error_budget") * pl.col("requests_30d"),
        )
        .with_columns(
            budget_remaining_requests_30d=pl.col("error_budget_requests_30d")
            - pl.col("budget_consumed_requests_30d"),
            budget_consumed_fraction_30d=ratio(
                pl.col("budget_consumed_requests_30d"), pl.col("error_budget_requests_30d")
            ),
        )
        .with_columns(budget_remaining_fraction_30d=1.0 - pl.col("budget_consumed_fraction_30d"))
    )
    return burn.select(
        "provider",
        "minute",
        "availability_target",
        "error_budget",
        "requests",
        "good_requests",
        "bad_requests",
        "error_ratio",
        "requests_30d",
        "error_budget_requests_30d",
        "budget_consumed_requests_30d",
        "budget_remaining_requests_30d",
        "budget_consumed_fraction_30d",
        "budget_remaining_fraction_30d",
        *BURN_RATE_COLUMNS,
        *[
            pl.col(f"_{'req' if kind == 'requests' else 'bad'}_{label}")
            .cast(pl.Int64)
            .alias(f"{kind}_{label}")
            for label in EVIDENCE_WINDOWS
            for kind in ("requests", "bad_requests")
        ],
    )
