"""SRE-workbook multiwindow, multi-burn-rate alerts as episodes of firing minutes (`marts.slo_alerts`)."""

import datetime as dt
from dataclasses import dataclass

import polars as pl

from pipelines.core.frames import UTC_TS
from pipelines.core.minute_sli import binomial_tail

# An alert also needs evidence: the long window's bad requests must be improbable for a provider burning
# exactly its budget, P(X >= bad | requests, error budget) <= this level (1 bad request in 8 is not 14x).
SLO_FALSE_ALARM_LEVEL = 1e-4


@dataclass(frozen=True)
class BurnRule:
    """One multiwindow rule: fire while both windows burn faster than `burn_rate` (strictly)."""

    long_window: str
    short_window: str
    burn_rate: float
    severity: str

    @property
    def name(self) -> str:
        return f"{self.long_window}/{self.short_window}@{self.burn_rate:g}"


# Google SRE workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts.
ALERT_RULES = (
    BurnRule("1h", "5m", 14.4, "page"),
    BurnRule("6h", "30m", 6.0, "page"),
    BurnRule("1d", "2h", 3.0, "ticket"),
    BurnRule("3d", "6h", 1.0, "ticket"),
)

SLO_ALERTS_SCHEMA = {
    "provider": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "long_window": pl.String,
    "short_window": pl.String,
    "burn_rate_threshold": pl.Float64,
    "started_at": UTC_TS,
    "ended_at": UTC_TS,
    "peak_burn_rate": pl.Float64,
    "minutes": pl.Int64,
    "ongoing": pl.Boolean,
    "p_value": pl.Float64,
    "confidence": pl.Float64,
}


def compute_slo_alerts(
    slo_burn: pl.DataFrame,
    rules: tuple[BurnRule, ...] = ALERT_RULES,
    false_alarm_level: float = SLO_FALSE_ALARM_LEVEL,
    last_minutes: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Alert episodes: runs of consecutive minutes in which a rule fires, one row per run.

    A rule fires in a minute when both windows burn faster than its rate AND the long window's bad
    requests are binomially improbable at the budget's own error ratio (p <= `false_alarm_level`).
    started_at = first firing minute, ended_at = end of the last firing minute (exclusive end, so
    ended_at - started_at = minutes), peak_burn_rate = highest long-window burn rate in the run,
    ongoing = the run reaches the provider's last minute of data, p_value = the strongest evidence
    (smallest long-window p-value) in the run, confidence = 1 - p_value.

    `last_minutes` (provider, _last) gives each provider's last minute of data when `slo_burn` holds only
    some of its minutes (`candidate_filter`); by default it is read off `slo_burn`.
    """
    last_minute = (slo_burn.group_by("provider").agg(_last=pl.col("minute").max())
                   if last_minutes is None else last_minutes)
    episodes = []
    for rule in rules:
        long_col, short_col = f"burn_rate_{rule.long_window}", f"burn_rate_{rule.short_window}"
        candidates = slo_burn.filter(
            (pl.col(long_col) > rule.burn_rate) & (pl.col(short_col) > rule.burn_rate)
        )
        evidence = binomial_tail(
            candidates[f"bad_requests_{rule.long_window}"],
            candidates[f"requests_{rule.long_window}"],
            candidates["error_budget"],
        )
        firing = (
            candidates.select("provider", "minute", long_col)
            .with_columns(_p_value=pl.Series(evidence, dtype=pl.Float64))
            .filter(pl.col("_p_value") <= false_alarm_level)
            .sort("provider", "minute")
            .with_columns(
                _new=(pl.col("minute").diff().over("provider") != dt.timedelta(minutes=1)).fill_null(True)
            )
            .with_columns(_episode=pl.col("_new").cum_sum().over("provider"))
        )
        episodes.append(
            firing.group_by("provider", "_episode")
            .agg(
                started_at=pl.col("minute").min(),
                _last_firing=pl.col("minute").max(),
                peak_burn_rate=pl.col(long_col).max(),
                minutes=pl.len().cast(pl.Int64),
                p_value=pl.col("_p_value").min(),
            )
            .with_columns(
                rule=pl.lit(rule.name),
                severity=pl.lit(rule.severity),
                long_window=pl.lit(rule.long_window),
                short_window=pl.lit(rule.short_window),
                burn_rate_threshold=pl.lit(float(rule.burn_rate)),
                ended_at=pl.col("_last_firing") + dt.timedelta(minutes=1),
                confidence=1.0 - pl.col("p_value"),
            )
            .join(last_minute, on="provider", how="left")
            .with_columns(ongoing=pl.col("_last_firing") == pl.col("_last"))
            .select([pl.col(c).cast(t) for c, t in SLO_ALERTS_SCHEMA.items()])
        )
    alerts = pl.concat(episodes) if episodes else pl.DataFrame(schema=SLO_ALERTS_SCHEMA)
    return alerts.sort("provider", "started_at", "rule")


def recompute_from(earlier: pl.DataFrame, window_start: dt.datetime) -> dt.datetime:
    """Where a run naming its window reads candidate minutes from: the window's start, or the start of the
    earliest written episode still firing in the minute before it (ended_at >= window_start), so an episode
    that crosses into the window is recomputed whole, as a rebuild would see it."""
    crossing = earlier.filter(pl.col("ended_at") >= window_start)["started_at"].min()
    return window_start if crossing is None else min(window_start, crossing)


def merge_window(
    earlier: pl.DataFrame, recomputed: pl.DataFrame, window_start: dt.datetime, last_minutes: pl.DataFrame
) -> pl.DataFrame:
    """The written episodes that ended before the window, as written, and the recomputed ones that end in or
    after it; `ongoing` of every episode re-read against each provider's last minute of data now."""
    episodes = pl.concat([
        earlier.filter(pl.col("ended_at") < window_start),
        recomputed.filter(pl.col("ended_at") >= window_start),
    ])
    return (
        episodes.join(last_minutes, on="provider", how="left")
        .with_columns(ongoing=pl.col("ended_at") - dt.timedelta(minutes=1) == pl.col("_last"))
        .select(list(SLO_ALERTS_SCHEMA))
        .sort("provider", "started_at", "rule")
    )


def candidate_filter(rules: tuple[BurnRule, ...] = ALERT_RULES) -> tuple[str, list[float]]:
    """SQL condition (and its parameters) keeping the minutes where some rule's two windows both burn too fast:
    the only minutes `compute_slo_alerts` can fire on, so the alerts read those instead of every minute."""
    terms = [f"(burn_rate_{rule.long_window} > ? AND burn_rate_{rule.short_window} > ?)" for rule in rules]
    return " OR ".join(terms), [float(rule.burn_rate) for rule in rules for _ in range(2)]


def alert_input_columns(rules: tuple[BurnRule, ...] = ALERT_RULES) -> list[str]:
    """The slo_burn columns the rules read."""
    windows = [column for rule in rules for column in (
        f"burn_rate_{rule.long_window}", f"burn_rate_{rule.short_window}",
        f"requests_{rule.long_window}", f"bad_requests_{rule.long_window}")]
    return ["provider", "minute", "error_budget", *dict.fromkeys(windows)]
