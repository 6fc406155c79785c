"""marts.component_reliability: how often each provider's components fail, how fast they recover, uptime.

Definitions (as in published status-page reliability studies):
- MTTR = resolved_at - started_at of each incident (marts.incidents times, stated windows applied);
  mean, median and p90 (linear interpolation) over the resolved incidents that started in the period.
- MTBF = mean gap between consecutive incident starts of the same component within the period (days);
  null with fewer than two incidents. Maintenance (impact 'maintenance') is not an incident here.
- Uptime comes from a per-component status timeline (`status_timeline`): the component's old/new status
  transitions where the source publishes them, else the incident impact over [started_at, resolved_at)
  for each listed component, or for the whole page as component "(all)" (critical -> major_outage,
  major -> partial_outage, minor -> degraded_performance, maintenance -> under_maintenance; feeds give
  no impact: partial_outage). An open incident lasts until last_seen_at, the newest snapshot showing it
  open, not to the window end: after that we know nothing. Overlapping intervals are cut
  at every boundary and each slice keeps the WORST status, so two incidents at once never count twice.
  uptime_pct = 100 * (1 - weighted down minutes / counted minutes), maintenance out of the denominator.
- The provider row (component "(provider)") uses the union timeline: at each moment the provider's
  status is the worst status of any of its components. We chose this over the mean of component uptimes
  because it answers "was anything on this vendor's status page down", does not depend on how many
  healthy components a vendor lists, and is what `ranking_changes_with_policy` ranks providers by.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import dagster as dg
import polars as pl

from assets.marts.incidents import (
    AFFECTED_INPUT,
    TS,
    capability_map,
    column_schema,
    conform,
    to_utc,
)
from pipelines.core.config import ProvidersConfig
from pipelines.core.quality import between, check_result, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

RELIABILITY_CHECK = "component_reliability_valid"
COMPONENT_ALL = "(all)"  # incidents that name no component: the provider's whole page
COMPONENT_PROVIDER = "(provider)"  # provider-level row over the union of its components' timelines
PERIOD_ALL = "all"

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
# Feeds (Atom/RSS) publish no impact. Counting such incidents as partial outages keeps them visible in
# uptime_pct and lets the w0 ... w1 columns sweep the whole range from "ignore" to "full outage".
UNKNOWN_IMPACT_STATUS = "partial_outage"


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

TIMELINE_SCHEMA = {
    "provider": pl.String,
    "component": pl.String,
    "slice_start": TS,
    "slice_end": TS,
    "status": pl.String,
    "minutes": pl.Float64,
}
_INTERVAL_SCHEMA = {
    "provider": pl.String,
    "component": pl.String,
    "start": TS,
    "end": TS,
    "severity": pl.Int64,
}

RELIABILITY_COLUMNS: dict[str, tuple[str, str]] = {
    "provider": ("string", "provider key from providers.yaml"),
    "component": (
        "string",
        "status-page component; '(all)' = incidents naming none; '(provider)' = provider row",
    ),
    "capability": ("string", "capability of the component from providers.yaml (null if unmapped)"),
    "period": ("string", "'all' = the analysed window, else the calendar month 'YYYY-MM' (clipped to it)"),
    "period_start": ("timestamptz", "first instant of the period (UTC)"),
    "period_end": ("timestamptz", "end of the period, exclusive (UTC)"),
    "incidents": ("bigint", "incidents that started in the period (maintenance excluded)"),
    "resolved_incidents": ("bigint", "of those, incidents with a resolved_at"),
    "mttr_mean_hours": ("double", "mean of resolved_at - started_at over resolved incidents, hours"),
    "mttr_median_hours": ("double", "median time to resolve, hours"),
    "mttr_p90_hours": ("double", "90th percentile time to resolve (linear interpolation), hours"),
    "mtbf_mean_days": (
        "double",
        "mean gap between consecutive incident starts, days (null if < 2 incidents)",
    ),
    "share_resolved_1h": (
        "double",
        "share of the period's incidents resolved within 60 minutes (open = not)",
    ),
    "share_resolved_3h": ("double", "share of the period's incidents resolved within 180 minutes"),
    "incidents_per_30d": ("double", "incidents per 30 days of the period"),
    "counted_minutes": ("double", "minutes in the period minus maintenance minutes when excluded"),
    "maintenance_minutes": ("double", "minutes whose worst status was under_maintenance"),
    "degraded_minutes": ("double", "minutes whose worst status was degraded_performance"),
    "partial_outage_minutes": ("double", "minutes whose worst status was partial_outage"),
    "major_outage_minutes": ("double", "minutes whose worst status was major_outage"),
    "weighted_down_minutes": (
        "double",
        "major*weight_major + partial*weight_partial + degraded*weight_degraded",
    ),
    "uptime_pct": ("double", "100 * (1 - weighted_down_minutes / counted_minutes) under the weights below"),
    "uptime_pct_w0": ("double", "uptime with partial outages weighted 0 (major 1.0)"),
    "uptime_pct_w03": ("double", "uptime with partial outages weighted 0.3 (major 1.0)"),
    "uptime_pct_w05": ("double", "uptime with partial outages weighted 0.5 (major 1.0)"),
    "uptime_pct_w1": ("double", "uptime with partial outages weighted 1.0 (major 1.0)"),
    "weight_major": ("double", "weight of a major_outage minute in uptime_pct"),
    "weight_partial": ("double", "weight of a partial_outage minute in uptime_pct"),
    "weight_degraded": ("double", "weight of a degraded_performance minute in uptime_pct"),
    "maintenance_excluded": ("boolean", "whether maintenance minutes are left out of counted_minutes"),
    "ranking_changes_with_policy": (
        "boolean",
        "whether, in this period, two providers swap order by '(provider)' uptime across w0/w03/w05/w1",
    ),
}


def analysis_window(config: ProvidersConfig) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC from `analysis.start`/`analysis.end` (the end day is inclusive)."""
    start = dt.datetime.combine(config.analysis.start, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(config.analysis.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return start, end


def periods(window_start: dt.datetime, window_end: dt.datetime) -> pl.DataFrame:
    """The 'all' period plus each calendar month overlapping the window, clipped to it."""
    rows = [(PERIOD_ALL, window_start, window_end)]
    month = window_start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month < window_end:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        rows.append((month.strftime("%Y-%m"), max(month, window_start), min(following, window_end)))
        month = following
    return pl.DataFrame(
        rows, schema={"period": pl.String, "period_start": TS, "period_end": TS}, orient="row"
    )


def _severity(status: pl.Expr) -> pl.Expr:
    normalised = status.str.to_lowercase().replace(STATUS_ALIASES)
    return normalised.replace_strict(SEVERITY, default=None, return_dtype=pl.Int64)


def _incident_components(incidents: pl.DataFrame) -> pl.DataFrame:
    """One row per (incident, component); an incident naming no component becomes '(all)'."""
    return incidents.with_columns(
        component=pl.when(pl.col("components").list.len() > 0)
        .then(pl.col("components"))
        .otherwise(pl.lit([COMPONENT_ALL], dtype=pl.List(pl.String)))
    ).explode("component")


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
    an unknown impact (feeds publish none) counts as partial_outage.
    """
    keys = ["provider", "incident_id"]
    inc = to_utc(incidents).filter(pl.col("started_at").is_not_null())
    last_seen = pl.col("last_seen_at") if "last_seen_at" in inc.columns else pl.lit(None, dtype=TS)
    inc = inc.with_columns(end_default=pl.coalesce("resolved_at", last_seen, pl.lit(window_end, dtype=TS)))
    if affected is not None and "origin" in affected.columns:
        affected = affected.filter(pl.col("origin").is_null() | (pl.col("origin") == "update"))
    aff = conform(affected, AFFECTED_INPUT, "staging.status_affected_components").rename(
        {"component_name": "component"}
    )
    transitions = (
        aff.with_columns(
            new_severity=_severity(pl.col("new_status")), old_severity=_severity(pl.col("old_status"))
        )
        # Only rows posted with an update are transitions; a list on the incident itself (update_id
        # null, origin 'incident') carries the component's status at snapshot time, not a change.
        .filter(pl.col("new_severity").is_not_null() & pl.col("component").is_not_null())
        .filter(pl.col("created_at").is_not_null() & pl.col("update_id").is_not_null())
        .join(inc.select(*keys, "started_at", "resolved_at", "end_default"), on=keys, how="inner")
        .sort([*keys, "component", "created_at"])
        .with_columns(
            next_at=pl.col("created_at").shift(-1).over([*keys, "component"]),
            is_first=pl.int_range(pl.len()).over([*keys, "component"]) == 0,
        )
    )
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
    from_transitions = pl.concat([segments, before_first]).with_columns(
        end=pl.min_horizontal("end", "resolved_at")
    )

    with_transitions = transitions.select(*keys, "component").unique()
    impact_status = (
        pl.col("impact")
        .str.to_lowercase()
        .replace_strict(IMPACT_STATUS, default=UNKNOWN_IMPACT_STATUS, return_dtype=pl.String)
    )
    from_impact = (
        _incident_components(inc)
        .join(with_transitions, on=[*keys, "component"], how="anti")
        .select(
            "provider",
            "component",
            start=pl.col("started_at"),
            end=pl.col("end_default"),
            severity=_severity(impact_status),
        )
    )
    return pl.concat(
        [from_transitions.select(list(_INTERVAL_SCHEMA)), from_impact.select(list(_INTERVAL_SCHEMA))]
    ).cast(_INTERVAL_SCHEMA)


def merge_worst_status(intervals: pl.DataFrame) -> pl.DataFrame:
    """Cut overlapping intervals of each (provider, component) at every boundary; each slice gets the worst
    severity covering it (never a sum). Adjacent slices of equal status are joined. Returns TIMELINE_SCHEMA
    rows for non-operational time only."""
    group = ["provider", "component"]
    intervals = intervals.filter((pl.col("end") > pl.col("start")) & (pl.col("severity") > 0))
    if intervals.is_empty():
        return pl.DataFrame(schema=TIMELINE_SCHEMA)
    bounds = (
        pl.concat([intervals.select(*group, at=pl.col("start")), intervals.select(*group, at=pl.col("end"))])
        .unique()
        .sort([*group, "at"])
        .with_columns(slice_end=pl.col("at").shift(-1).over(group))
        .rename({"at": "slice_start"})
        .drop_nulls("slice_end")
    )
    slices = (
        bounds.join(intervals, on=group, how="inner")
        .filter((pl.col("start") <= pl.col("slice_start")) & (pl.col("slice_start") < pl.col("end")))
        .group_by([*group, "slice_start", "slice_end"])
        .agg(severity=pl.col("severity").max())
        .sort([*group, "slice_start"])
    )
    runs = slices.with_columns(
        run=(
            (pl.col("slice_start") != pl.col("slice_end").shift(1).over(group))
            | (pl.col("severity") != pl.col("severity").shift(1).over(group))
        )
        .fill_null(True)
        .cum_sum()
        .over(group)
    )
    merged = runs.group_by([*group, "run"]).agg(
        slice_start=pl.col("slice_start").min(),
        slice_end=pl.col("slice_end").max(),
        severity=pl.col("severity").first(),
    )
    return (
        merged.with_columns(
            status=pl.col("severity").replace_strict(STATUS_OF_SEVERITY, return_dtype=pl.String),
            minutes=(pl.col("slice_end") - pl.col("slice_start")).dt.total_minutes(fractional=True),
        )
        .select(list(TIMELINE_SCHEMA))
        .sort([*group, "slice_start"])
    )


def status_timeline(
    incidents: pl.DataFrame,
    affected: pl.DataFrame | None,
    window_start: dt.datetime,
    window_end: dt.datetime,
    *,
    provider_level: bool = False,
) -> pl.DataFrame:
    """Per-component status timeline inside [window_start, window_end).

    incidents: marts.incidents rows (provider, incident_id, impact, started_at, resolved_at, components,
      optional last_seen_at), e.g. the output of `incidents_mart`.
    affected: staging.status_affected_components (provider, incident_id, update_id, component_name,
      old_status, new_status, created_at), or None when the source publishes no transitions.
    provider_level: add the union timeline per provider as component '(provider)' (worst of any component).
    Returns provider, component, slice_start, slice_end, status, minutes: non-overlapping slices of
    non-operational status (degraded_performance, partial_outage, major_outage, under_maintenance);
    any time not covered is operational.
    """
    raw = component_intervals(incidents, affected, window_end).with_columns(
        start=pl.max_horizontal("start", pl.lit(window_start, dtype=TS)),
        end=pl.min_horizontal("end", pl.lit(window_end, dtype=TS)),
    )
    if provider_level:
        raw = pl.concat([raw, raw.with_columns(component=pl.lit(COMPONENT_PROVIDER))])
    return merge_worst_status(raw)


def status_minutes(timeline: pl.DataFrame, period_frame: pl.DataFrame) -> pl.DataFrame:
    """Minutes per status of each (provider, component) timeline within each period."""
    clipped = timeline.join(period_frame, how="cross").with_columns(
        minutes=(
            pl.min_horizontal("slice_end", "period_end") - pl.max_horizontal("slice_start", "period_start")
        ).dt.total_minutes(fractional=True)
    )
    clipped = clipped.filter(pl.col("minutes") > 0)

    def total(status: str) -> pl.Expr:
        return pl.col("minutes").filter(pl.col("status") == status).sum()

    return clipped.group_by("provider", "component", "period").agg(
        maintenance_minutes=total("under_maintenance"),
        degraded_minutes=total("degraded_performance"),
        partial_outage_minutes=total("partial_outage"),
        major_outage_minutes=total("major_outage"),
    )


def _uptime(policy: UptimePolicy, weight_partial: float) -> pl.Expr:
    down = (
        pl.col("major_outage_minutes") * policy.weight_major
        + pl.col("partial_outage_minutes") * weight_partial
        + pl.col("degraded_minutes") * policy.weight_degraded
    )
    return pl.when(pl.col("counted_minutes") > 0).then(100.0 * (1.0 - down / pl.col("counted_minutes")))


def incident_stats(incidents: pl.DataFrame, period_frame: pl.DataFrame) -> pl.DataFrame:
    """Counts, MTTR, MTBF and resolution shares per (provider, component, period), by incident start."""
    real = to_utc(incidents).filter(
        pl.col("started_at").is_not_null() & (pl.col("impact").fill_null("") != "maintenance")
    )
    per_component = _incident_components(real)
    per_provider = real.with_columns(component=pl.lit(COMPONENT_PROVIDER))
    cols = ["provider", "component", "incident_id", "started_at", "resolved_at"]
    rows = (
        pl.concat([per_component.select(cols), per_provider.select(cols)])
        .unique(["provider", "component", "incident_id"])
        .join(period_frame, how="cross")
        .filter(
            (pl.col("started_at") >= pl.col("period_start")) & (pl.col("started_at") < pl.col("period_end"))
        )
        .with_columns(
            ttr_hours=(pl.col("resolved_at") - pl.col("started_at")).dt.total_hours(fractional=True)
        )
    )
    return rows.group_by("provider", "component", "period").agg(
        incidents=pl.len().cast(pl.Int64),
        resolved_incidents=pl.col("ttr_hours").count().cast(pl.Int64),
        mttr_mean_hours=pl.col("ttr_hours").mean(),
        mttr_median_hours=pl.col("ttr_hours").median(),
        mttr_p90_hours=pl.col("ttr_hours").quantile(0.9, interpolation="linear"),
        mtbf_mean_days=pl.col("started_at").sort().diff().dt.total_days(fractional=True).mean(),
        share_resolved_1h=(pl.col("ttr_hours") <= 1.0).fill_null(False).mean(),
        share_resolved_3h=(pl.col("ttr_hours") <= 3.0).fill_null(False).mean(),
    )


def component_universe(
    incidents: pl.DataFrame, capabilities: Mapping[str, Mapping[str, str]]
) -> pl.DataFrame:
    """(provider, component) rows to report: components named by a provider's incidents, plus its
    configured components when its incidents name components at all (or it has no incidents), '(all)'
    when some incident names none, and '(provider)' for every provider."""
    rows: set[tuple[str, str]] = set()
    providers = set(capabilities) | set(incidents["provider"].drop_nulls().to_list())
    for provider in providers:
        mine = incidents.filter(pl.col("provider") == provider)
        named = set(mine["components"].explode().drop_nulls().to_list())
        rows.update((provider, name) for name in named)
        if named or mine.is_empty():
            rows.update((provider, name) for name in capabilities.get(provider, {}))
        if (mine["components"].list.len() == 0).any():
            rows.add((provider, COMPONENT_ALL))
        rows.add((provider, COMPONENT_PROVIDER))
    return pl.DataFrame(
        [(p, c, capabilities.get(p, {}).get(c)) for p, c in sorted(rows)],
        schema={"provider": pl.String, "component": pl.String, "capability": pl.String},
        orient="row",
    )


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


def reliability_mart(
    incidents: pl.DataFrame,
    affected: pl.DataFrame | None,
    window_start: dt.datetime,
    window_end: dt.datetime,
    config: ProvidersConfig | Mapping[str, Mapping[str, str]] | None = None,
    policy: UptimePolicy = DEFAULT_POLICY,
) -> pl.DataFrame:
    """Build marts.component_reliability (columns of RELIABILITY_COLUMNS, in that order).

    incidents: marts.incidents (output of `incidents_mart`); affected: staging.status_affected_components
    or None; [window_start, window_end): the analysed window (UTC); config: ProvidersConfig or
    {provider: {component: capability}} for the reported components and their capability.
    """
    incidents = to_utc(incidents)
    period_frame = periods(window_start, window_end)
    capabilities = capability_map(config)
    timeline = status_timeline(incidents, affected, window_start, window_end, provider_level=True)
    universe = component_universe(incidents, capabilities).join(period_frame, how="cross")
    minute_cols = [
        "maintenance_minutes",
        "degraded_minutes",
        "partial_outage_minutes",
        "major_outage_minutes",
    ]
    frame = (
        universe.join(
            incident_stats(incidents, period_frame), on=["provider", "component", "period"], how="left"
        )
        .join(status_minutes(timeline, period_frame), on=["provider", "component", "period"], how="left")
        .with_columns(
            pl.col("incidents", "resolved_incidents").fill_null(0),
            *(pl.col(c).fill_null(0.0) for c in minute_cols),
            period_days=(pl.col("period_end") - pl.col("period_start")).dt.total_days(fractional=True),
        )
        .with_columns(
            incidents_per_30d=pl.col("incidents") / pl.col("period_days") * 30.0,
            counted_minutes=(pl.col("period_end") - pl.col("period_start")).dt.total_minutes(fractional=True)
            - (pl.col("maintenance_minutes") if policy.maintenance_excluded else pl.lit(0.0)),
            weighted_down_minutes=pl.col("major_outage_minutes") * policy.weight_major
            + pl.col("partial_outage_minutes") * policy.weight_partial
            + pl.col("degraded_minutes") * policy.weight_degraded,
        )
        .with_columns(
            uptime_pct=_uptime(policy, policy.weight_partial),
            **{name: _uptime(policy, weight) for name, weight in PARTIAL_WEIGHT_VARIANTS.items()},
            weight_major=pl.lit(policy.weight_major, dtype=pl.Float64),
            weight_partial=pl.lit(policy.weight_partial, dtype=pl.Float64),
            weight_degraded=pl.lit(policy.weight_degraded, dtype=pl.Float64),
            maintenance_excluded=pl.lit(policy.maintenance_excluded),
        )
    )
    changed = {
        period: ranking_changes(
            {
                row["provider"]: [row[name] for name in PARTIAL_WEIGHT_VARIANTS]
                for row in rows.iter_rows(named=True)
            }
        )
        for (period,), rows in frame.filter(pl.col("component") == COMPONENT_PROVIDER).group_by("period")
    }
    frame = frame.with_columns(
        ranking_changes_with_policy=pl.col("period").replace_strict(
            changed, default=False, return_dtype=pl.Boolean
        )
    )
    return frame.sort(["provider", "component", pl.col("period") != PERIOD_ALL, "period_start"]).select(
        list(RELIABILITY_COLUMNS)
    )


@dg.asset(
    key=["marts", "component_reliability"],
    deps=[dg.AssetKey(["marts", "incidents"]), dg.AssetKey(["staging", "status_incidents"])],
    group_name="marts",
    kinds={"duckdb", "polars"},
    metadata={"dagster/column_schema": column_schema(RELIABILITY_COLUMNS)},
    check_specs=[
        dg.AssetCheckSpec(RELIABILITY_CHECK, asset=["marts", "component_reliability"], blocking=True)
    ],
)
def component_reliability(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How reliable each provider and each of its status-page components was over the analysed window
    and in each month: incident count and rate, MTTR (mean/median/p90), MTBF, share fixed within 1 h/3 h,
    and uptime from a worst-status timeline under an explicit weighting policy (major 1.0, partial 0.3,
    degraded 0, maintenance excluded), with the partial-weight sensitivity columns and whether the
    provider ranking depends on that choice. Column meanings: see the column schema
    (RELIABILITY_COLUMNS in assets/marts/reliability.py) and the module docstring for the definitions.
    """
    config = workspace.providers()
    window_start, window_end = analysis_window(config)
    with workspace.warehouse(read_only=True) as con:
        mart_incidents = read_table_if_exists(con, "marts.incidents")
        staged_affected = read_table_if_exists(con, "staging.status_affected_components")
    if mart_incidents is None:
        raise dg.Failure("marts.incidents does not exist yet: materialize marts/incidents first")
    mart = reliability_mart(mart_incidents, staged_affected, window_start, window_end, config)
    with workspace.warehouse() as con:
        replace_table(con, "marts.component_reliability", mart)
    overall = mart.filter((pl.col("component") == COMPONENT_PROVIDER) & (pl.col("period") == PERIOD_ALL))
    context.log.info("marts.component_reliability: %d rows for %d providers", mart.height, overall.height)
    return dg.MaterializeResult(
        metadata={
            "rows": mart.height,
            "window": f"{window_start:%Y-%m-%d} .. {window_end:%Y-%m-%d} (exclusive)",
            "provider_uptime_pct": dg.MetadataValue.json(
                {r["provider"]: r["uptime_pct"] for r in overall.iter_rows(named=True)}
            ),
            "ranking_changes_with_policy": bool(overall["ranking_changes_with_policy"].any()),
        },
        check_results=[
            check_result(
                RELIABILITY_CHECK,
                mart,
                [
                    unique_together("provider", "component", "period"),
                    between("uptime_pct", 0, 100),
                    between("incidents", 0, None),
                    between("share_resolved_1h", 0, 1),
                ],
            )
        ],
    )
