"""One UTC day out of the marts: its rows, the summary sentence and the chart of the day."""

from __future__ import annotations

import datetime as dt

import polars as pl

from assets.reports.charts.daily import daily_chart
from assets.reports.charts.series import pooled_error_ratio, ratio_note, resample
from assets.reports.figures import Figures
from assets.reports.formats import fmt_share, fmt_ts
from assets.reports.marts_data import has
from assets.reports.page import ChartBlock, Page
from pipelines.core import tables
from pipelines.core.frames import UTC_TS

DAY = dt.timedelta(days=1)
CROWD_BUCKET_MINUTES = 60
EPISODE_KEY = ("source", "provider", "service", "country", "started_at")


def on_day(frame: pl.DataFrame | None, column: str, start: dt.datetime) -> pl.DataFrame | None:
    if not has(frame, column):
        return None
    return frame.filter((pl.col(column) >= start) & (pl.col(column) < start + DAY))


def open_on_day(incidents: pl.DataFrame | None, start: dt.datetime) -> pl.DataFrame | None:
    """Incidents whose [started_at, resolved_at) overlaps the day. An unresolved incident counts as open
    until the newest snapshot still showing it (last_seen_at), not forever."""
    if not has(incidents, "started_at", "resolved_at"):
        return None
    open_until = pl.col("resolved_at")
    if "last_seen_at" in incidents.columns:
        open_until = pl.coalesce("resolved_at", "last_seen_at")
    return incidents.filter(
        (pl.col("started_at") < start + DAY) & (open_until.is_null() | (open_until >= start))
    ).sort("started_at")


def episode_key(episodes: pl.DataFrame) -> tuple[str, ...]:
    return ("episode_id",) if "episode_id" in episodes.columns else EPISODE_KEY


def _episode_sentences(figures: Figures, episodes: pl.DataFrame, name) -> list[str]:
    if not episodes.height:
        return ["No outage episode was detected."]
    by_source = episodes.group_by("source").len().sort("source").iter_rows()
    out = ["Outage episodes detected: " + ", ".join(f"{s} {n}" for s, n in by_source) + "."]
    telemetry = episodes.filter((pl.col("source") == "telemetry") & pl.col("peak_value").is_not_null())
    if telemetry.height:
        worst = telemetry.sort("peak_value", descending=True).to_dicts()[0]
        key = episode_key(telemetry)
        out.append(
            f"Worst error ratio of our requests: {name(worst['provider'])} at "
            f"{figures.quote(tables.OUTAGE_EPISODES, worst, 'peak_value', key, fmt_share)} "
            f"({figures.quote(tables.OUTAGE_EPISODES, worst, 'peak_at', key, fmt_ts)})."
        )
    return out


def day_has_evidence(marts: dict, start: dt.datetime) -> bool:
    """Whether the day has any request telemetry or crowd report at all."""
    return any(
        has(on_day(marts.get(name), column, start), column)
        for name, column in (("sli", "minute"), ("crowd", "bin_start"))
    )


def summary(
    figures: Figures, start: dt.datetime, incidents, episodes, alerts, name, evidence: bool = True
) -> str | None:
    """Incidents open, episodes per source, the worst error ratio and the alerts of the day; a day
    without telemetry or crowd reports says so, since finding no episode then proves nothing."""
    sentences = []
    if not evidence:
        sentences.append(
            "No request telemetry and no crowd reports for this day: not enough data to say it was quiet."
        )
    if incidents is not None:
        started = incidents.filter(pl.col("started_at") >= start).height
        sentences.append(
            f"{incidents.height} status-page incident(s) were open ({started} started this day)."
        )
    if episodes is not None and (evidence or episodes.height):
        sentences += _episode_sentences(figures, episodes, name)
    if alerts is not None:
        pages = alerts.filter(pl.col("severity") == "page").height if "severity" in alerts.columns else 0
        sentences.append(f"{alerts.height} SLO burn-rate alert(s) fired ({pages} paging).")
    return " ".join(sentences) if sentences else None


def _start_markers(incidents: pl.DataFrame | None, start: dt.datetime) -> pl.DataFrame:
    """A 'started' marker for every incident that started this day."""
    if incidents is None or not incidents.height:
        return pl.DataFrame(schema={"at": UTC_TS, "stage": pl.String, "label": pl.String})
    return incidents.filter(pl.col("started_at") >= start).select(
        pl.col("started_at").alias("at"),
        pl.lit("started").alias("stage"),
        (pl.col("provider") + ": " + pl.col("title").fill_null("")).alias("label"),
    )


def chart_of_the_day(page: Page, marts: dict, incidents, start: dt.datetime, display) -> ChartBlock | None:
    """Request-weighted error ratio per provider (pooled until a bucket has enough requests) and crowd
    reports per service, incident starts marked."""
    ratio = crowd = None
    note = ""
    sli = on_day(marts.get("sli"), "minute", start)
    if has(sli, "provider", "error_ratio", "requests"):
        ratio, bucket = pooled_error_ratio(sli, DAY.total_seconds() / 60)
        ratio = ratio.with_columns(pl.col("provider").replace(display))
        note = ratio_note(bucket)
    crowd_rows = on_day(marts.get("crowd"), "bin_start", start)
    if has(crowd_rows, "service", "reports"):
        crowd = resample(crowd_rows, "bin_start", ["service"], CROWD_BUCKET_MINUTES, sums=["reports"])
    spec = daily_chart(
        ratio,
        crowd,
        _start_markers(incidents, start),
        start,
        start + DAY,
        note,
    )
    return None if spec is None else page.chart("day", spec)
