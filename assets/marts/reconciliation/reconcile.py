"""marts.incident_reconciliation: what users, our telemetry and the vendor each said about one incident.

Episodes of `marts.outage_episodes` are matched per provider by time: two episodes belong together when
they overlap or the gap between them is at most `tolerance_minutes` (30). Matching is transitive
(connected components of that graph, found with one sort and a running maximum of episode ends), so
a crowd spike in the US, a telemetry episode and two vendor incidents can form one incident group.

Every source keeps its own claim; nothing is silently picked:
- crowd_started_at / telemetry_started_at: our observations; observed_started_at = the earlier one.
- vendor_started_at: the vendor's impact start as marts.incidents states it (a window stated in an
  update body wins there); vendor_stated_start: the incident's own start field / display time as
  published (marts.incidents.vendor_started_at, e.g. a feed's "09:00 PST" converted to UTC);
  clock_difference_minutes = vendor_stated_start - observed_started_at (positive: the vendor says it
  began later than we saw it).
- triangulated_start = earliest credible signal = min(crowd, telemetry, vendor_started_at).

Classification (first rule that applies):
- unreported_impact: crowd and/or telemetry saw impact, no vendor incident overlaps it.
- vendor_only: a vendor incident with no crowd or telemetry episode.
- severity_understated: vendor impact at most `understated_max_impact_rank` (none/minor) while our
  per-minute error ratio peaked above `severe_error_ratio` (0.20) inside the group.
- matched: everything else.

Open vendor incidents (no resolved_at) count as lasting until the latest episode end in the data, at
most `open_incident_max_hours` (24) after their start, so one stale open incident cannot swallow weeks.
"""

import hashlib
from dataclasses import dataclass

import dagster as dg
import polars as pl

from assets.marts.outage_episodes import INCIDENTS_TABLE, OUTAGE_EPISODES_TABLE
from pipelines.core.quality import Expect, check_result, has_columns, in_set, not_null
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

RECONCILIATION_TABLE = "marts.incident_reconciliation"
MINUTE_SLI_TABLE = "marts.provider_minute_sli"
RECONCILIATION_CHECK = "incident_reconciliation_is_well_formed"

UTC = pl.Datetime("us", "UTC")
CLASSIFICATIONS = ("matched", "unreported_impact", "vendor_only", "severity_understated")
IMPACT_BY_RANK = {1: "none", 2: "minor", 3: "major", 4: "critical"}

RECONCILIATION_SCHEMA = {
    "group_id": pl.String,
    "provider": pl.String,
    "classification": pl.String,
    "started_at": UTC,
    "ended_at": UTC,
    "sources": pl.List(pl.String),
    "episode_ids": pl.List(pl.String),
    "vendor_incident_ids": pl.List(pl.String),
    "titles": pl.List(pl.String),
    "vendor_impact": pl.String,
    "crowd_countries": pl.List(pl.String),
    "triangulated_start": UTC,
    "observed_started_at": UTC,
    "crowd_started_at": UTC,
    "telemetry_started_at": UTC,
    "vendor_started_at": UTC,
    "vendor_stated_start": UTC,
    "clock_difference_minutes": pl.Float64,
    "vendor_first_post_at": UTC,
    "crowd_lead_minutes": pl.Float64,
    "telemetry_lead_minutes": pl.Float64,
    "acknowledgement_lag_minutes": pl.Float64,
    "vendor_resolved_at": UTC,
    "telemetry_recovered_at": UTC,
    "crowd_recovered_at": UTC,
    "resolution_lag_minutes": pl.Float64,
    "observed_impact_minutes": pl.Int64,
    "under_reporting_minutes": pl.Int64,
    "peak_error_ratio": pl.Float64,
    "peak_error_ratio_at": UTC,
    "peak_crowd_reports": pl.Float64,
    "posted_after_the_fact": pl.Boolean,
}


@dataclass(frozen=True)
class ReconciliationParams:
    tolerance_minutes: int = 30
    severe_error_ratio: float = 0.20
    understated_max_impact_rank: int = 2  # none (1) or minor (2)
    min_requests_per_minute: int = 5  # minutes with fewer requests are too noisy for a peak ratio
    open_incident_max_hours: int = 24


def _utc(frame: pl.DataFrame) -> pl.DataFrame:
    """Every timestamp column of `frame` as microsecond UTC (naive values are taken as UTC)."""
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            value = pl.col(name)
            value = (
                value.dt.replace_time_zone("UTC")
                if dtype.time_zone is None
                else value.dt.convert_time_zone("UTC")
            )
            fixes.append(value.dt.cast_time_unit("us"))
    return frame.with_columns(fixes) if fixes else frame


def _minutes(later: str, earlier: str) -> pl.Expr:
    return (pl.col(later) - pl.col(earlier)).dt.total_seconds(fractional=True) / 60.0


def _stable_id(*parts) -> str:
    return hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


def _incident_claims(incidents: pl.DataFrame) -> pl.DataFrame:
    """The vendor columns reconciliation needs from marts.incidents (optional ones fall back)."""
    if incidents.height == 0 or "incident_id" not in incidents.columns:
        return pl.DataFrame(
            schema={
                "provider": pl.String,
                "source_ref": pl.String,
                "title": pl.String,
                "impact": pl.String,
                "acknowledged_at": UTC,
                "stated_start": UTC,
                "resolution_posted_at": UTC,
                "posted_after_the_fact": pl.Boolean,
            }
        )
    frame = _utc(incidents)
    optional = frame.columns

    def pick(name: str, fallback: str, dtype) -> pl.Expr:
        if name in optional:
            return pl.col(name) if fallback not in optional else pl.coalesce(name, fallback)
        return pl.col(fallback) if fallback in optional else pl.lit(None, dtype)

    return frame.select(
        pl.col("provider").cast(pl.String),
        source_ref=pl.col("incident_id").cast(pl.String),
        title=pl.col("title").cast(pl.String) if "title" in optional else pl.lit(None, pl.String),
        impact=pl.col("impact").cast(pl.String).str.to_lowercase()
        if "impact" in optional
        else pl.lit(None, pl.String),
        acknowledged_at=pick("acknowledged_at", "started_at", UTC).cast(UTC),
        stated_start=pick("vendor_started_at", "started_at", UTC).cast(UTC),
        resolution_posted_at=pick("vendor_resolved_at", "resolved_at", UTC).cast(UTC),
        posted_after_the_fact=(
            pl.col("posted_after_the_fact").cast(pl.Boolean)
            if "posted_after_the_fact" in optional
            else pl.lit(None, pl.Boolean)
        ),
    ).unique(subset=["provider", "source_ref"], keep="first")


def group_episodes(
    episodes: pl.DataFrame, params: ReconciliationParams = ReconciliationParams()
) -> pl.DataFrame:
    """Assign each episode with a provider to an incident group (`group_no` per provider).

    Adds `match_end` (ended_at; open status incidents capped, see the module docstring) and `group_no`.
    Episodes sorted by start join the running group while they start at most `tolerance_minutes` after
    the latest end seen so far in it: exactly the connected components of "overlap within tolerance".
    """
    frame = _utc(episodes).filter(pl.col("provider").is_not_null() & pl.col("started_at").is_not_null())
    if frame.height == 0:
        return frame.with_columns(match_end=pl.col("started_at"), group_no=pl.lit(0, pl.UInt32))
    data_end = frame.select(pl.max_horizontal(pl.col("ended_at").max(), pl.col("started_at").max())).item()
    open_cap = pl.col("started_at") + pl.duration(hours=params.open_incident_max_hours)
    match_end = (
        pl.when(pl.col("ended_at").is_not_null())
        .then(pl.col("ended_at"))
        .when(pl.col("source") == "status")
        .then(pl.min_horizontal(pl.lit(data_end).cast(UTC), open_cap))
        .otherwise(pl.col("peak_at"))
    )
    tolerance = pl.duration(minutes=params.tolerance_minutes)
    return (
        frame.with_columns(
            match_end=pl.max_horizontal(pl.col("started_at"), pl.coalesce(match_end, "started_at"))
        )
        .sort("provider", "started_at", "source", "episode_id")
        .with_columns(reach=pl.col("match_end").cum_max().shift(1).over("provider"))
        .with_columns(new_group=(pl.col("started_at") > pl.col("reach") + tolerance).fill_null(True))
        .with_columns(group_no=pl.col("new_group").cum_sum().over("provider"))
        .drop("reach", "new_group")
    )


def _minute_sets(members: pl.DataFrame, sources: tuple[str, ...]) -> pl.DataFrame:
    """Distinct UTC minutes covered by the members of `sources`, per (provider, group_no)."""
    return (
        members.filter(pl.col("source").is_in(sources))
        .select(
            "provider",
            "group_no",
            minute=pl.datetime_ranges(
                pl.col("started_at").dt.truncate("1m"),
                pl.col("match_end"),
                "1m",
                closed="left",
                time_unit="us",
            ),
        )
        .explode("minute")
        .drop_nulls("minute")
        .unique()
    )


def _impact_minutes(members: pl.DataFrame) -> pl.DataFrame:
    observed = _minute_sets(members, ("crowd", "telemetry"))
    vendor = _minute_sets(members, ("status",))
    keys = ["provider", "group_no"]
    observed_count = observed.group_by(keys).agg(observed_impact_minutes=pl.len().cast(pl.Int64))
    uncovered = (
        observed.join(vendor, on=[*keys, "minute"], how="anti")
        .group_by(keys)
        .agg(under_reporting_minutes=pl.len().cast(pl.Int64))
    )
    return observed_count.join(uncovered, on=keys, how="left").with_columns(
        pl.col("under_reporting_minutes").fill_null(0)
    )


def _peak_error_ratio(
    groups: pl.DataFrame, minute_sli: pl.DataFrame, params: ReconciliationParams
) -> pl.DataFrame:
    """Highest per-minute error ratio of the provider inside each group's span (and when it happened)."""
    empty = pl.DataFrame(
        schema={
            "provider": pl.String,
            "group_no": pl.UInt32,
            "peak_error_ratio": pl.Float64,
            "peak_error_ratio_at": UTC,
        }
    )
    needed = {"provider", "minute", "error_ratio"}
    if minute_sli.height == 0 or not needed <= set(minute_sli.columns):
        return empty
    sli = _utc(minute_sli)
    if "requests" in sli.columns:
        sli = sli.filter(pl.col("requests") >= params.min_requests_per_minute)
    sli = sli.select(
        pl.col("provider").cast(pl.String), "minute", pl.col("error_ratio").cast(pl.Float64)
    ).filter(pl.col("error_ratio").is_not_null())
    spans = groups.select(
        "provider",
        "group_no",
        window_start=pl.col("started_at").dt.truncate("1m"),
        window_end=pl.col("ended_at"),
    ).sort("window_start")
    # Groups of one provider never overlap, so each minute belongs to at most the last group starting
    # at or before it: an as-of join instead of a range join.
    return (
        sli.sort("minute")
        .join_asof(spans, left_on="minute", right_on="window_start", by="provider", strategy="backward")
        .filter(pl.col("group_no").is_not_null() & (pl.col("minute") < pl.col("window_end")))
        .group_by("provider", "group_no")
        .agg(
            peak_error_ratio=pl.col("error_ratio").max(),
            peak_error_ratio_at=pl.col("minute").sort_by("error_ratio", descending=True).first(),
        )
        .select(list(empty.columns))
        .cast(empty.schema)
    )


def reconcile(
    episodes: pl.DataFrame,
    incidents: pl.DataFrame,
    minute_sli: pl.DataFrame,
    params: ReconciliationParams = ReconciliationParams(),
) -> pl.DataFrame:
    """marts.outage_episodes + marts.incidents + marts.provider_minute_sli -> one row per incident group."""
    if episodes.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_SCHEMA)
    members = group_episodes(episodes, params)
    if members.height == 0:
        return pl.DataFrame(schema=RECONCILIATION_SCHEMA)
    claims = _incident_claims(incidents)
    members = members.join(claims, on=["provider", "source_ref"], how="left").sort(
        "provider", "group_no", "started_at", "source", "episode_id"
    )
    source = pl.col("source")
    is_crowd, is_telemetry, is_status = source == "crowd", source == "telemetry", source == "status"
    groups = members.group_by("provider", "group_no", maintain_order=True).agg(
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
        .then(pl.lit(None, UTC))
        .otherwise(pl.col("resolution_posted_at").filter(is_status).max()),
        telemetry_recovered_at=pl.col("ended_at").filter(is_telemetry).max(),
        crowd_recovered_at=pl.col("ended_at").filter(is_crowd).max(),
        peak_crowd_reports=pl.col("peak_value").filter(is_crowd).max(),
        posted_after_the_fact=pl.col("posted_after_the_fact").filter(is_status).any(ignore_nulls=True),
        has_status=is_status.any(),
        has_observed=(is_crowd | is_telemetry).any(),
    )
    groups = (
        groups.join(_impact_minutes(members), on=["provider", "group_no"], how="left")
        .join(_peak_error_ratio(groups, minute_sli, params), on=["provider", "group_no"], how="left")
        .with_columns(
            pl.col("observed_impact_minutes").fill_null(0),
            pl.col("under_reporting_minutes").fill_null(0),
            observed_started_at=pl.min_horizontal("crowd_started_at", "telemetry_started_at"),
            triangulated_start=pl.min_horizontal(
                "crowd_started_at", "telemetry_started_at", "vendor_started_at"
            ),
            vendor_impact=pl.col("vendor_max_rank")
            .cast(pl.Int64)
            .replace_strict(IMPACT_BY_RANK, default=None, return_dtype=pl.String),
            posted_after_the_fact=pl.when(pl.col("has_status")).then(pl.col("posted_after_the_fact")),
        )
        .with_columns(
            clock_difference_minutes=_minutes("vendor_stated_start", "observed_started_at"),
            crowd_lead_minutes=_minutes("vendor_first_post_at", "crowd_started_at"),
            telemetry_lead_minutes=_minutes("vendor_first_post_at", "telemetry_started_at"),
            acknowledgement_lag_minutes=_minutes("vendor_first_post_at", "triangulated_start"),
            resolution_lag_minutes=_minutes("vendor_resolved_at", "telemetry_recovered_at"),
            classification=pl.when(~pl.col("has_status"))
            .then(pl.lit("unreported_impact"))
            .when(~pl.col("has_observed"))
            .then(pl.lit("vendor_only"))
            .when(
                (pl.col("vendor_max_rank") <= params.understated_max_impact_rank).fill_null(False)
                & (pl.col("peak_error_ratio") > params.severe_error_ratio).fill_null(False)
            )
            .then(pl.lit("severity_understated"))
            .otherwise(pl.lit("matched")),
        )
    )
    group_ids = [_stable_id(p, e) for p, e in groups.select("provider", "first_episode_id").iter_rows()]
    return (
        groups.with_columns(group_id=pl.Series(group_ids, dtype=pl.String))
        .select([pl.col(c).cast(t) for c, t in RECONCILIATION_SCHEMA.items()])
        .sort("provider", "started_at")
    )


def _lists_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns joined into text for the GX checks (pipelines.core.quality cannot cast lists on polars 2)."""
    return frame.with_columns(
        [
            pl.col(c).list.join(", ")
            for c, t in frame.schema.items()
            if isinstance(t, pl.List) and t.inner == pl.String
        ]
    )


def reconciliation_expectations() -> list:
    return [
        has_columns(*RECONCILIATION_SCHEMA),
        not_null("group_id"),
        not_null("provider"),
        not_null("started_at"),
        Expect("ExpectColumnValuesToBeUnique", {"column": "group_id"}),
        in_set("classification", CLASSIFICATIONS),
    ]


@dg.asset(
    key=["marts", "incident_reconciliation"],
    deps=[
        dg.AssetKey(["marts", "outage_episodes"]),
        dg.AssetKey(["marts", "incidents"]),
        dg.AssetKey(["marts", "provider_minute_sli"]),
    ],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[
        dg.AssetCheckSpec(RECONCILIATION_CHECK, asset=["marts", "incident_reconciliation"], blocking=True)
    ],
)
def incident_reconciliation(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """One row per incident as triangulated from crowd reports, our telemetry and the vendor's status page.

    Columns: group_id (stable hash), provider, classification (matched | unreported_impact | vendor_only
    | severity_understated), started_at/ended_at (span of the group), sources, episode_ids,
    vendor_incident_ids, titles, vendor_impact (highest vendor impact), crowd_countries,
    triangulated_start (earliest credible signal), observed_started_at (earliest crowd/telemetry start),
    crowd_started_at, telemetry_started_at, vendor_started_at (vendor impact start), vendor_stated_start
    (the incident's own published start), clock_difference_minutes (vendor_stated_start -
    observed_started_at), vendor_first_post_at (first status update), crowd_lead_minutes and
    telemetry_lead_minutes (first post - that source's start), acknowledgement_lag_minutes (first post
    - triangulated start), vendor_resolved_at (vendor's resolution post; null while any incident is
    open), telemetry_recovered_at / crowd_recovered_at (end of our last episode of that source),
    resolution_lag_minutes (vendor resolved - telemetry recovered; positive = vendor late),
    observed_impact_minutes (minutes crowd or telemetry saw impact), under_reporting_minutes (of those,
    minutes no vendor incident covers), peak_error_ratio / peak_error_ratio_at (worst minute of our
    own requests in the span), peak_crowd_reports, posted_after_the_fact (any incident posted late).
    """
    params = ReconciliationParams()
    with workspace.warehouse() as con:
        frames = {}
        for table, columns in (
            (OUTAGE_EPISODES_TABLE, "*"),
            (INCIDENTS_TABLE, "*"),
            (MINUTE_SLI_TABLE, "provider, minute, requests, error_ratio"),
        ):
            frames[table] = read_table_if_exists(con, table, columns)
    for table, frame in frames.items():
        if frame is None:
            context.log.warning(f"{table} does not exist yet: reconciling without it")
            frames[table] = pl.DataFrame()
    result = reconcile(
        frames[OUTAGE_EPISODES_TABLE], frames[INCIDENTS_TABLE], frames[MINUTE_SLI_TABLE], params
    )
    with workspace.warehouse() as con:
        replace_table(con, RECONCILIATION_TABLE, result)
    counts = {
        r["classification"]: r["len"] for r in result.group_by("classification").len().iter_rows(named=True)
    }
    return dg.MaterializeResult(
        metadata={
            "groups": result.height,
            "per_classification": dg.MetadataValue.json(counts),
            "under_reporting_minutes": int(result["under_reporting_minutes"].sum()) if result.height else 0,
        },
        check_results=[
            check_result(RECONCILIATION_CHECK, _lists_as_text(result), reconciliation_expectations())
        ],
    )
