"""marts.incident_reconciliation as a pure function: one row per incident group, leads, lags and class."""

import datetime as dt
import hashlib

import polars as pl

from assets.marts.reconciliation.claims import incident_claims
from assets.marts.reconciliation.impact import impact_minutes, peak_error_ratio
from assets.marts.reconciliation.matching import group_episodes
from assets.marts.reconciliation.schema import (
    DEFAULT_PARAMS,
    IMPACT_BY_RANK,
    RECONCILIATION_SCHEMA,
    ReconciliationParams,
)
from pipelines.core.frames import UTC_TS


def _minutes(later: str, earlier: str) -> pl.Expr:
    # seconds / 60, not total_minutes: kept as computed so far, so the mart's floats stay identical.
    return (pl.col(later) - pl.col(earlier)).dt.total_seconds(fractional=True) / 60.0


def _stable_id(*parts) -> str:
    return hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def _group_claims(members: pl.DataFrame) -> pl.DataFrame:
    """Per (provider, group_no): the span, the members, and each source's own start, end and peak."""
    source = pl.col("source")
    is_crowd, is_telemetry, is_status = source == "crowd", source == "telemetry", source == "status"
    return members.group_by("provider", "group_no", maintain_order=True).agg(
        started_at=pl.col("started_at").min(),
        ended_at=pl.col("match_end").max(),
        first_episode_id=pl.col("episode_id").first(),
        sources=source.unique().sort(),
        episode_ids=pl.col("episode_id"),
        vendor_incident_ids=pl.col("source_ref").filter(is_status),
        titles=pl.col("title").filter(is_status),
        vendor_max_rank=pl.col("peak_value").filter(is_status).max(),
        crowd_countries=pl.col("country").filter(is_crowd).drop_nulls().unique().sort(),
        crowd_started_at=pl.col("started_at").filter(is_crowd).min(),
        telemetry_started_at=pl.col("started_at").filter(is_telemetry).min(),
        vendor_started_at=pl.col("started_at").filter(is_status).min(),
        vendor_stated_start=pl.col("stated_start").filter(is_status).min(),
        vendor_first_post_at=pl.col("acknowledged_at").filter(is_status).min(),
        # The group is resolved only when every vendor incident in it is.
        vendor_resolved_at=pl.when(pl.col("resolution_posted_at").filter(is_status).is_null().any())
        .then(pl.lit(None, UTC_TS))
        .otherwise(pl.col("resolution_posted_at").filter(is_status).max()),
        telemetry_recovered_at=pl.col("ended_at").filter(is_telemetry).max(),
        crowd_recovered_at=pl.col("ended_at").filter(is_crowd).max(),
        peak_crowd_reports=pl.col("peak_value").filter(is_crowd).max(),
        posted_after_the_fact=pl.col("posted_after_the_fact").filter(is_status).any(ignore_nulls=True),
        has_status=is_status.any(),
        has_observed=(is_crowd | is_telemetry).any(),
    )


def _classification(params: ReconciliationParams) -> pl.Expr:
    """The first class that applies (see the package docstring)."""
    return (
        pl.when(~pl.col("has_status"))
        .then(pl.lit("unreported_impact"))
        .when(~pl.col("has_observed"))
        .then(pl.lit("vendor_only"))
        .when(
            (pl.col("vendor_max_rank") <= params.understated_max_impact_rank).fill_null(False)
            & (pl.col("peak_error_ratio") > params.severe_error_ratio).fill_null(False)
        )
        .then(pl.lit("severity_understated"))
        .otherwise(pl.lit("matched"))
    )


def _leads_lags_and_class(groups: pl.DataFrame, params: ReconciliationParams) -> pl.DataFrame:
    """Observed and triangulated starts, vendor impact, each lead and lag in minutes, the class."""
    return groups.with_columns(
        pl.col("observed_impact_minutes").fill_null(0),
        pl.col("under_reporting_minutes").fill_null(0),
        observed_started_at=pl.min_horizontal("crowd_started_at", "telemetry_started_at"),
        triangulated_start=pl.min_horizontal("crowd_started_at", "telemetry_started_at", "vendor_started_at"),
        vendor_impact=pl.col("vendor_max_rank")
        .cast(pl.Int64)
        .replace_strict(IMPACT_BY_RANK, default=None, return_dtype=pl.String),
        posted_after_the_fact=pl.when(pl.col("has_status")).then(pl.col("posted_after_the_fact")),
    ).with_columns(
        clock_difference_minutes=_minutes("vendor_stated_start", "observed_started_at"),
        crowd_lead_minutes=_minutes("vendor_first_post_at", "crowd_started_at"),
        telemetry_lead_minutes=_minutes("vendor_first_post_at", "telemetry_started_at"),
        acknowledgement_lag_minutes=_minutes("vendor_first_post_at", "triangulated_start"),
        resolution_lag_minutes=_minutes("vendor_resolved_at", "telemetry_recovered_at"),
        classification=_classification(params),
    )


def _in_window(
    groups: pl.DataFrame, window_start: dt.datetime | None, window_end: dt.datetime | None
) -> pl.DataFrame:
    """The groups that overlap [window_start, window_end) (whole groups: one straddling an edge stays),
    with the window recorded on every row; no window keeps every group and leaves the columns null."""
    keep = pl.lit(True)
    if window_start is not None:
        keep &= pl.col("ended_at") >= window_start
    if window_end is not None:
        keep &= pl.col("started_at") < window_end
    return groups.filter(keep).with_columns(
        window_start=pl.lit(window_start, dtype=UTC_TS), window_end=pl.lit(window_end, dtype=UTC_TS)
    )


def reconcile(
    episodes: pl.DataFrame,
    incidents: pl.DataFrame,
    minute_sli: pl.DataFrame,
    params: ReconciliationParams = DEFAULT_PARAMS,
    window_start: dt.datetime | None = None,
    window_end: dt.datetime | None = None,
) -> pl.DataFrame:
    """marts.outage_episodes + marts.incidents + marts.provider_minute_sli -> one row per incident group
    that overlaps the analysed window [window_start, window_end) (UTC; None = unbounded)."""
    if episodes.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_SCHEMA)
    members = group_episodes(episodes, params)
    if members.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_SCHEMA)
    members = members.join(incident_claims(incidents), on=["provider", "source_ref"], how="left").sort(
        "provider", "group_no", "started_at", "source", "episode_id"
    )
    groups = _in_window(_group_claims(members), window_start, window_end)
    groups = (
        groups.join(impact_minutes(members), on=["provider", "group_no"], how="left")
        .join(peak_error_ratio(groups, minute_sli, params), on=["provider", "group_no"], how="left")
        .pipe(_leads_lags_and_class, params)
    )
    group_ids = [_stable_id(p, e) for p, e in groups.select("provider", "first_episode_id").iter_rows()]
    return (
        groups.with_columns(group_id=pl.Series(group_ids, dtype=pl.String))
        .select([pl.col(c).cast(t) for c, t in RECONCILIATION_SCHEMA.items()])
        .sort("provider", "started_at")
    )
