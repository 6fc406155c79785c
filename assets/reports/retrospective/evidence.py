"""The mart rows one retrospective's timeline needs, read for its time window, and that chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from assets.reports.charts.series import bucket_minutes, pooled_error_ratio, ratio_note, resample
from assets.reports.charts.timeline import ERROR_CLASSES, incident_timeline
from assets.reports.marts_data import has, read_between
from assets.reports.retrospective.subjects import Subject
from pipelines.core import tables
from pipelines.core.frames import UTC_TS

PADDING = dt.timedelta(hours=2)
MAX_SPAN = dt.timedelta(hours=48)
OPEN_SPAN = dt.timedelta(hours=12)
STAGES = ("started_at", "acknowledged_at", "identified_at", "monitoring_at", "resolved_at", "postmortem_at")


@dataclass
class Evidence:
    """The mart rows one retrospective's charts need, read for its time window."""

    start: dt.datetime
    end: dt.datetime
    crowd: pl.DataFrame | None = None
    sli: pl.DataFrame | None = None
    ranks: pl.DataFrame | None = None


def window_of(subject: Subject, fallback_start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The chart window: the subject's start to end, padded; `fallback_start` when it has no time."""
    start = subject.start or fallback_start
    end = subject.end or start + OPEN_SPAN
    start = (start - PADDING).replace(minute=0, second=0, microsecond=0)
    end = min(end + PADDING, start + MAX_SPAN)
    return start, max(end, start + dt.timedelta(hours=1))


def read_evidence(con, subject: Subject, fallback_start: dt.datetime) -> Evidence:
    start, end = window_of(subject, fallback_start)
    evidence = Evidence(start, end)
    evidence.crowd = read_between(
        con,
        tables.CROWD_BASELINE,
        "bin_start",
        start,
        end,
        required=("bin_start", "service", "country", "reports", "expected"),
    )
    evidence.sli = read_between(
        con,
        tables.MINUTE_SLI,
        "minute",
        start,
        end,
        required=("provider", "minute", "requests", "error_ratio"),
    )
    day = (subject.start or start).astimezone(dt.UTC)
    evidence.ranks = read_between(
        con,
        tables.MIGRATION_SIGNALS,
        "period_start",
        day - dt.timedelta(days=7),
        day + dt.timedelta(days=8),
        required=("provider", "period_start", "best_rank"),
    )
    return evidence


def stage_markers(subject: Subject, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """Every status-page stage time of the subject's incidents inside the window (at, stage, label)."""
    rows = []
    for incident in subject.incidents:
        for column in STAGES:
            at = incident.get(column)
            if at is not None and start <= at <= end:
                stage = column.removesuffix("_at")
                rows.append(
                    {
                        "at": at,
                        "stage": stage,
                        "label": f"{stage} {at.astimezone(dt.UTC):%H:%M} UTC ({incident.get('incident_id')})",
                    }
                )
    return pl.DataFrame(rows, schema={"at": UTC_TS, "stage": pl.String, "label": pl.String})


def _crowd_series(subject: Subject, crowd: pl.DataFrame | None, span: float) -> pl.DataFrame | None:
    """The subject provider's crowd reports, coarsened when the window holds too many bins."""
    if has(crowd, "provider"):
        crowd = crowd.filter(pl.col("provider") == subject.provider)
    if crowd is None or not crowd.height:
        return crowd
    bin_minutes = int(crowd["bin_minutes"].max() or 5) if "bin_minutes" in crowd.columns else 5
    series = max(1, crowd.select("service", "country").n_unique())
    bucket = bucket_minutes(series / bin_minutes, span)
    return resample(
        crowd,
        "bin_start",
        ["service", "country"],
        bucket if bucket > bin_minutes else 1,
        sums=["reports", "expected"],
    )


def _error_classes(subject: Subject, sli: pl.DataFrame, span: float) -> pl.DataFrame | None:
    """Failed requests of the subject's provider per error class (long: minute, provider, class, errors)."""
    class_columns = [c for c in (*ERROR_CLASSES, "timeouts") if c in sli.columns]
    mine = sli.filter(pl.col("provider") == subject.provider)
    if not (class_columns and mine.height):
        return None
    long = (
        mine.select("minute", "provider", *class_columns)
        .unpivot(index=["minute", "provider"], variable_name="class", value_name="errors")
        .with_columns(pl.col("class").replace({**ERROR_CLASSES, "timeouts": "timeouts"}))
    )
    bucket = bucket_minutes(len(class_columns), span)
    return resample(long, "minute", ["provider", "class"], bucket, sums=["errors"])


def timeline_chart(subject: Subject, evidence: Evidence, display: dict[str, str]):
    """The shared-time-axis chart (None when no evidence falls in the window); providers by display name."""
    start, end = evidence.start, evidence.end
    span = (end - start).total_seconds() / 60
    crowd = _crowd_series(subject, evidence.crowd, span)
    ratio = classes = None
    note = ""
    if has(evidence.sli, "error_ratio", "requests"):
        sli = evidence.sli
        ratio, bucket = pooled_error_ratio(sli, span)
        note = ratio_note(bucket)
        classes = _error_classes(subject, sli, span)
    named = [
        None if f is None else f.with_columns(pl.col("provider").replace(display)) for f in (ratio, classes)
    ]
    return incident_timeline(crowd, *named, stage_markers(subject, start, end), start, end, note)
