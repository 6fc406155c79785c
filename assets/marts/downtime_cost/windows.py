"""What each incident group hit: its window, the capabilities it took down and our failed requests in it.

Per incident group (level 'incident'; group_id, plus incident_ids = the group's vendor incidents and
incident_id = the first of them, null for a group no vendor incident covers):
- window_start = triangulated_start; window_end = the latest of vendor_resolved_at,
  telemetry_recovered_at and crowd_recovered_at (else the group's ended_at when the mart has it, else
  window_start). impacted_minutes = window_end - window_start (the incident's span).
- crowd_minutes = the part of the window in which crowd reports showed the outage (crowd_started_at to
  crowd_recovered_at, else to window_end); 0 when no crowd episode belongs to the group.
- window_requests = our requests in the SLI minutes that start inside [window_start, window_end);
  failed_requests = provider errors (errors_5xx + errors_529 + timeouts; our own 429/4xx excluded) in
  them, null when we sent no request in the window (no telemetry evidence, not zero failures).
- capabilities = union of the capabilities of the group's vendor incidents (marts.incidents); a group
  no vendor incident covers gets 'api' when our telemetry saw it (telemetry_recovered_at set) and
  'consumer_app' when crowd reports did (when the reconciliation lists its sources).
Per provider and UTC month: our requests and provider errors (the month's availability, terms.py).
"""

import numpy as np
import polars as pl

from pipelines.core.frames import UTC_TS, to_utc
from pipelines.core.minute_sli import PROVIDER_ERROR_COLUMNS


def _list_column(frame: pl.DataFrame, *names: str) -> pl.Expr:
    for name in names:
        if name in frame.columns:
            return pl.col(name).cast(pl.List(pl.String))
    return pl.lit([], pl.List(pl.String))


def _vendor_capabilities(windows: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """Per group: the sorted union of its vendor incidents' capabilities (marts.incidents)."""
    if incidents.is_empty() or "capabilities" not in incidents.columns:
        return pl.DataFrame(schema={"group_id": pl.String, "vendor_capabilities": pl.List(pl.String)})
    return (
        windows.select("group_id", "provider", "incident_ids")
        .explode("incident_ids")
        .join(
            incidents.select("provider", pl.col("incident_id").alias("incident_ids"), "capabilities"),
            on=["provider", "incident_ids"],
            how="inner",
        )
        .explode("capabilities")
        .group_by("group_id")
        .agg(pl.col("capabilities").drop_nulls().unique().sort().alias("vendor_capabilities"))
    )


def _with_capabilities(windows: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """capabilities: the vendor's, else what our telemetry ('api') and the crowd ('consumer_app') saw."""
    fallback = pl.concat_list(
        pl.when(pl.col("telemetry_saw_it")).then(pl.lit(["api"])).otherwise(pl.lit([], pl.List(pl.String))),
        pl.when(pl.col("sources").list.contains("crowd"))
        .then(pl.lit(["consumer_app"]))
        .otherwise(pl.lit([], pl.List(pl.String))),
    )
    return windows.join(_vendor_capabilities(windows, incidents), on="group_id", how="left").with_columns(
        capabilities=pl.when(pl.col("vendor_capabilities").list.len() > 0)
        .then(pl.col("vendor_capabilities"))
        .otherwise(fallback)
        .list.unique()
        .list.sort()
    )


def _time_column(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, UTC_TS)


def incident_windows(reconciliation: pl.DataFrame, incidents: pl.DataFrame) -> pl.DataFrame:
    """One row per group: provider, window, impacted and crowd minutes and the capabilities it hit."""
    recon = to_utc(reconciliation)
    recon = recon.with_columns(
        crowd_started_at=_time_column(recon, "crowd_started_at"),
        crowd_recovered_at=_time_column(recon, "crowd_recovered_at"),
    )
    end = pl.max_horizontal("vendor_resolved_at", "telemetry_recovered_at", "crowd_recovered_at")
    if "ended_at" in recon.columns:
        end = pl.coalesce(end, pl.col("ended_at"))
    windows = recon.select(
        "group_id",
        "provider",
        (pl.col("classification") if "classification" in recon.columns else pl.lit(None, pl.String)).alias(
            "classification"
        ),
        pl.col("triangulated_start").alias("window_start"),
        pl.coalesce(end, pl.col("triangulated_start")).alias("window_end"),
        _list_column(recon, "vendor_incident_ids", "incident_ids").alias("incident_ids"),
        _list_column(recon, "sources").alias("sources"),
        pl.col("telemetry_recovered_at").is_not_null().alias("telemetry_saw_it"),
        "crowd_started_at",
        "crowd_recovered_at",
    ).filter(pl.col("window_start").is_not_null())
    windows = windows.with_columns(
        window_end=pl.max_horizontal("window_start", "window_end"),
    ).with_columns(
        impacted_minutes=_minutes(pl.col("window_start"), pl.col("window_end")),
        crowd_minutes=pl.when(pl.col("crowd_started_at").is_not_null())
        .then(
            _minutes(
                pl.max_horizontal("crowd_started_at", "window_start"),
                pl.min_horizontal(pl.coalesce("crowd_recovered_at", "window_end"), "window_end"),
            ).clip(lower_bound=0.0)
        )
        .otherwise(0.0),
    )
    return _with_capabilities(windows, incidents).select(
        "group_id",
        "provider",
        pl.col("incident_ids").list.first().alias("incident_id"),
        "incident_ids",
        "classification",
        "window_start",
        "window_end",
        "impacted_minutes",
        "crowd_minutes",
        "capabilities",
    )


def _minutes(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    return (end - start).dt.total_seconds() / 60.0


def failed_requests_in_windows(windows: pl.DataFrame, minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Our requests and provider errors in SLI minutes starting inside each [window_start, window_end)
    (cumulative sums); failed_requests is null where the window holds no request of ours."""
    out = []
    sli = (
        to_utc(minute_sli).with_columns(provider_errors=pl.sum_horizontal(*PROVIDER_ERROR_COLUMNS))
        if (not minute_sli.is_empty())
        else None
    )
    for (provider,), part in windows.group_by("provider", maintain_order=True):
        requests = np.zeros(part.height, dtype=np.int64)
        failed = np.zeros(part.height, dtype=np.int64)
        if sli is not None:
            minutes = sli.filter(pl.col("provider") == provider).sort("minute")
            if minutes.height:
                t = minutes["minute"].dt.epoch("us").to_numpy()
                lo = np.searchsorted(t, part["window_start"].dt.epoch("us").to_numpy(), side="left")
                hi = np.searchsorted(t, part["window_end"].dt.epoch("us").to_numpy(), side="left")
                for column, counts in (("requests", requests), ("provider_errors", failed)):
                    cum = np.concatenate([[0], np.cumsum(minutes[column].to_numpy())])
                    counts[:] = cum[hi] - cum[lo]
        out.append(
            pl.DataFrame(
                {"group_id": part["group_id"], "window_requests": requests, "failed_requests": failed}
            ).with_columns(failed_requests=pl.when(pl.col("window_requests") > 0).then("failed_requests"))
        )
    if not out:
        return pl.DataFrame(
            schema={"group_id": pl.String, "window_requests": pl.Int64, "failed_requests": pl.Int64}
        )
    return pl.concat(out)


def monthly_availability(minute_sli: pl.DataFrame) -> pl.DataFrame:
    """Per provider and UTC month: requests, provider errors and availability_pct from our own requests."""
    if minute_sli.is_empty():
        return pl.DataFrame(
            schema={
                "provider": pl.String,
                "month": pl.Date,
                "requests": pl.Int64,
                "provider_errors": pl.Int64,
            }
        )
    return (
        to_utc(minute_sli)
        .group_by("provider", month=pl.col("minute").dt.truncate("1mo").dt.date())
        .agg(
            requests=pl.col("requests").sum().cast(pl.Int64),
            provider_errors=pl.sum_horizontal(*PROVIDER_ERROR_COLUMNS).sum().cast(pl.Int64),
        )
    )
