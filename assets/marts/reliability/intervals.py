"""Raw status intervals per incident and component, from status transitions or from the incident impact."""

import datetime as dt

import polars as pl

from assets.marts.reliability.components import incident_components
from pipelines.core import tables
from pipelines.core.frames import UTC_TS, to_utc
from pipelines.core.status_contract import AFFECTED_INPUT, conform
from pipelines.core.tables import sql_name

SEVERITY = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
STATUS_OF_SEVERITY = {v: k for k, v in SEVERITY.items()}
STATUS_ALIASES = {
    "full_outage": "major_outage",
    "maintenance": "under_maintenance",
    "degraded": "degraded_performance",
}
IMPACT_STATUS = {
    "critical": "major_outage",
    "major": "partial_outage",
    "minor": "degraded_performance",
    "none": "operational",
    "maintenance": "under_maintenance",
}
# Feeds (Atom/RSS) publish no impact; marts.incidents infers one from their words where it can. Counting
# the rest as partial outages keeps them visible in uptime_pct and lets the w0 ... w1 columns sweep the
# whole range from "ignore" to "full outage".
UNKNOWN_IMPACT_STATUS = "partial_outage"

INTERVAL_SCHEMA = {
    "provider": pl.String,
    "component": pl.String,
    "start": UTC_TS,
    "end": UTC_TS,
    "severity": pl.Int64,
}
KEYS = ["provider", "incident_id"]


def severity(status: pl.Expr) -> pl.Expr:
    normalised = status.str.to_lowercase().replace(STATUS_ALIASES)
    return normalised.replace_strict(SEVERITY, default=None, return_dtype=pl.Int64)


def _transitions(incidents: pl.DataFrame, affected: pl.DataFrame | None) -> pl.DataFrame:
    """Status transitions of each incident's components, oldest first, with the next one's time."""
    if affected is not None and "origin" in affected.columns:
        affected = affected.filter(pl.col("origin").is_null() | (pl.col("origin") == "update"))
    aff = conform(affected, AFFECTED_INPUT, sql_name(tables.STATUS_AFFECTED)).rename(
        {"component_name": "component"}
    )
    return (
        aff.with_columns(
            new_severity=severity(pl.col("new_status")), old_severity=severity(pl.col("old_status"))
        )
        # Only rows posted with an update are transitions; a list on the incident itself (update_id
        # null, origin 'incident') carries the component's status at snapshot time, not a change.
        .filter(pl.col("new_severity").is_not_null() & pl.col("component").is_not_null())
        .filter(pl.col("created_at").is_not_null() & pl.col("update_id").is_not_null())
        .join(incidents.select(*KEYS, "started_at", "resolved_at", "end_default"), on=KEYS, how="inner")
        .sort([*KEYS, "component", "created_at"])
        .with_columns(
            next_at=pl.col("created_at").shift(-1).over([*KEYS, "component"]),
            is_first=pl.int_range(pl.len()).over([*KEYS, "component"]) == 0,
        )
    )


def _transition_intervals(transitions: pl.DataFrame) -> pl.DataFrame:
    """Each transition until the next one; before the first, from the incident start (see below)."""
    segments = transitions.select(
        "provider",
        "component",
        start=pl.col("created_at"),
        end=pl.coalesce("next_at", "end_default"),
        severity=pl.col("new_severity"),
        resolved_at=pl.col("resolved_at"),
    )
    before_first = transitions.filter(
        pl.col("is_first") & (pl.col("started_at") < pl.col("created_at"))
    ).select(
        "provider",
        "component",
        start=pl.col("started_at"),
        end=pl.col("created_at"),
        severity=pl.when(pl.col("old_severity") > 0).then("old_severity").otherwise("new_severity"),
        resolved_at=pl.col("resolved_at"),
    )
    return pl.concat([segments, before_first]).with_columns(end=pl.min_horizontal("end", "resolved_at"))


def _impact_intervals(incidents: pl.DataFrame, with_transitions: pl.DataFrame) -> pl.DataFrame:
    """The impact's status over the incident, for components without transitions."""
    impact_status = (
        pl.col("impact")
        .str.to_lowercase()
        .replace_strict(IMPACT_STATUS, default=UNKNOWN_IMPACT_STATUS, return_dtype=pl.String)
    )
    return (
        incident_components(incidents)
        .join(with_transitions, on=[*KEYS, "component"], how="anti")
        .select(
            "provider",
            "component",
            start=pl.col("started_at"),
            end=pl.col("end_default"),
            severity=severity(impact_status),
        )
    )


def component_intervals(
    incidents: pl.DataFrame, affected: pl.DataFrame | None, window_end: dt.datetime
) -> pl.DataFrame:
    """Raw (unmerged) status intervals per incident and component: provider, component, start, end, severity.

    With status transitions (affected components posted with an update, i.e. update_id set and origin
    'update' when that column exists, with a new_status): each transition holds from its
    update until the next transition of that component in the incident; before the first one, from the
    incident's started_at, the component was in old_status if that was not operational (an after-the-fact
    post: "major_outage -> operational"), else already in the first new_status (the vendor posted late).
    Every interval ends at the incident's resolved_at at the latest (a stated window can end it earlier
    than the 'operational' post); an unresolved incident runs until its last_seen_at (the newest
    snapshot showing it open; we know nothing later), else until window_end.
    Without transitions: the impact's status over [started_at, resolved_at or last_seen_at or window_end);
    an unknown impact (feeds publish none and their words named none) counts as partial_outage.
    """
    inc = to_utc(incidents).filter(pl.col("started_at").is_not_null())
    last_seen = pl.col("last_seen_at") if "last_seen_at" in inc.columns else pl.lit(None, dtype=UTC_TS)
    inc = inc.with_columns(
        end_default=pl.coalesce("resolved_at", last_seen, pl.lit(window_end, dtype=UTC_TS))
    )
    transitions = _transitions(inc, affected)
    from_transitions = _transition_intervals(transitions)
    from_impact = _impact_intervals(inc, transitions.select(*KEYS, "component").unique())
    return pl.concat(
        [from_transitions.select(list(INTERVAL_SCHEMA)), from_impact.select(list(INTERVAL_SCHEMA))]
    ).cast(INTERVAL_SCHEMA)
