"""marts.incidents: one row per status-page incident with its lifecycle times and stage durations.

`incidents_mart(incidents, updates, affected, config)` is the pure function (also used by the
reconciliation mart); the asset below only reads staging, calls it and writes the mart.

Time rules, in the order they apply:
- vendor_started_at = the incident's own `started_at`, else its first update's `created_at`, else the
  incident's `created_at` (incident.io pages have no `started_at`).
- acknowledged_at = first update; identified/monitoring/resolved/postmortem_at = first update of that
  status (scheduled maintenance: `verifying` counts as monitoring, `completed` as resolved).
  monitoring_at/resolved_at fall back to the incident's own fields when no such update exists.
- When an update body states the impact window in UTC ("from 19:52-20:35 UTC", "between 19:52 and 20:35
  UTC", also across midnight), that window wins for started_at/resolved_at: vendors often post late and
  then say when the impact really was. The latest update that states a window is used. The vendor's own
  times stay in vendor_started_at/vendor_resolved_at.
- An incident whose status is still open (investigating, identified, monitoring, ...) has resolved_at null.
"""

import datetime as dt
import re
from collections.abc import Mapping

import dagster as dg
import polars as pl

from pipelines.core.config import ProvidersConfig
from pipelines.core.quality import between, check_result, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

INCIDENTS_CHECK = "incidents_mart_valid"
UTC = "UTC"
TS = pl.Datetime("us", UTC)

# Staging contract (pipelines' staging helpers write these; more columns are ignored).
INCIDENT_INPUT = {
    "provider": pl.String,
    "incident_id": pl.String,
    "title": pl.String,
    "status": pl.String,
    "impact": pl.String,
    "created_at": TS,
    "updated_at": TS,
    "started_at": TS,
    "resolved_at": TS,
    "monitoring_at": TS,
    "shortlink": pl.String,
    "page_kind": pl.String,
    "snapshot_at": TS,  # optional: when the archived response holding this version was fetched
}
UPDATE_INPUT = {
    "provider": pl.String,
    "incident_id": pl.String,
    "update_id": pl.String,
    "status": pl.String,
    "body": pl.String,
    "created_at": TS,
}
AFFECTED_INPUT = {
    "provider": pl.String,
    "incident_id": pl.String,
    "update_id": pl.String,
    "component_name": pl.String,
    "old_status": pl.String,
    "new_status": pl.String,
    "created_at": TS,
}

OPEN_STATUSES = ("investigating", "identified", "monitoring", "scheduled", "in_progress", "verifying")
RESOLVED_STATUSES = ("resolved", "completed")
FINAL_STATUSES = ("resolved", "completed", "postmortem")

# One-line meaning of every column of marts.incidents (also attached as the Dagster column schema).
INCIDENT_COLUMNS: dict[str, tuple[str, str]] = {
    "provider": ("string", "provider key from providers.yaml"),
    "incident_id": ("string", "the status page's own incident id"),
    "title": ("string", "incident title as published"),
    "impact": ("string", "vendor impact: none, minor, major, critical or maintenance (null if not given)"),
    "status": ("string", "latest incident status (investigating ... resolved, postmortem)"),
    "page_kind": ("string", "status page flavour: statuspage, incident_io, atom or rss"),
    "started_at": ("timestamptz", "impact start: stated window if a body gives one, else vendor_started_at"),
    "acknowledged_at": ("timestamptz", "first public update (any status)"),
    "identified_at": ("timestamptz", "first 'identified' update"),
    "monitoring_at": (
        "timestamptz",
        "first 'monitoring'/'verifying' update, else the incident's monitoring_at",
    ),
    "resolved_at": (
        "timestamptz",
        "impact end: stated window end if given, else vendor_resolved_at; null if open",
    ),
    "postmortem_at": ("timestamptz", "first 'postmortem' update"),
    "duration_minutes": ("double", "resolved_at - started_at in minutes (null while unresolved)"),
    "components": ("list<string>", "affected component names (empty when the source lists none)"),
    "capabilities": (
        "list<string>",
        "capabilities of those components from providers.yaml (unmapped names skipped)",
    ),
    "time_to_acknowledge": ("double", "minutes from started_at to the first update"),
    "time_to_identify": (
        "double",
        "minutes from the first investigating update (else first update) to identified",
    ),
    "time_to_repair": ("double", "minutes from identified to monitoring"),
    "time_to_verify": ("double", "minutes from monitoring to the vendor's resolution (vendor_resolved_at)"),
    "time_to_postmortem": ("double", "minutes from the vendor's resolution to the postmortem update"),
    "posted_after_the_fact": ("boolean", "first post was already a resolution, or came at/after resolved_at"),
    "stated_window": ("boolean", "an update body stated the impact window and it set started_at/resolved_at"),
    "vendor_started_at": ("timestamptz", "incident started_at, else first update, else created_at"),
    "vendor_resolved_at": ("timestamptz", "first resolved/completed update, else the incident's resolved_at"),
    "update_count": ("bigint", "number of published updates"),
    "last_seen_at": (
        "timestamptz",
        "newest snapshot/updated_at/update showing the incident (open = ongoing till then)",
    ),
    "shortlink": ("string", "vendor short link (null on incident.io and feeds)"),
}

_HHMM = r"(?:[01]?\d|2[0-3]):[0-5]\d"
_ZONE = r"(?:UTC|GMT|Z)"
_STATED_WINDOW = re.compile(
    rf"\b(?:from|between)\s+(?P<start>{_HHMM})\s*(?:{_ZONE}\s*)?"
    rf"(?:-|\u2013|\u2014|to|and|until|till)\s*(?P<end>{_HHMM})\s*\(?{_ZONE}\)?(?![A-Za-z])",
    re.IGNORECASE,
)


def parse_stated_window(body: str | None) -> tuple[dt.time, dt.time] | None:
    """The UTC time-of-day window an update body states, e.g. "from 19:52-20:35 UTC" -> (19:52, 20:35).

    Accepts "from A-B UTC", "from A to B UTC", "between A and B UTC" (en/em dashes, "A UTC - B UTC").
    Returns None when the body states no window or both ends are equal. Dates are not read here:
    `anchor_stated_window` places the window in time.
    """
    if not body:
        return None
    match = _STATED_WINDOW.search(body)
    if not match:
        return None
    start, end = (dt.time.fromisoformat(match[g].zfill(5)) for g in ("start", "end"))
    return None if start == end else (start, end)


def anchor_stated_window(
    start: dt.time, end: dt.time, anchor: dt.datetime, posted_at: dt.datetime | None, scheduled: bool = False
) -> tuple[dt.datetime, dt.datetime]:
    """Put a stated time-of-day window on the calendar.

    The start is the occurrence of `start` (the day before, of or after `anchor`'s UTC day) nearest to
    `anchor` (the vendor's own start), among those not after `posted_at` (a past window cannot start after
    the post that describes it; scheduled notices are exempt). The end is the first `end` after the start,
    so 23:50-00:20 ends on the next day.
    """
    anchor = anchor.astimezone(dt.UTC)
    candidates = [
        dt.datetime.combine(anchor.date() + dt.timedelta(days=shift), start, tzinfo=dt.UTC)
        for shift in (-1, 0, 1)
    ]
    if posted_at is not None and not scheduled:
        past = [c for c in candidates if c <= posted_at]
        candidates = past or candidates
    window_start = min(candidates, key=lambda c: abs(c - anchor))
    window_end = dt.datetime.combine(window_start.date(), end, tzinfo=dt.UTC)
    if window_end <= window_start:
        window_end += dt.timedelta(days=1)
    return window_start, window_end


def capability_map(
    config: ProvidersConfig | Mapping[str, Mapping[str, str]] | None,
) -> dict[str, dict[str, str]]:
    """provider -> {component name -> capability} from a ProvidersConfig or an equivalent plain mapping."""
    if config is None:
        return {}
    if isinstance(config, ProvidersConfig):
        return {key: dict(p.components) for key, p in config.providers.items()}
    return {provider: dict(components) for provider, components in config.items()}


def to_utc(frame: pl.DataFrame) -> pl.DataFrame:
    """Every datetime column as Datetime('us', 'UTC') (DuckDB hands back 'Etc/UTC'; naive means UTC)."""
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            col = pl.col(name).dt.cast_time_unit("us")
            col = col.dt.replace_time_zone(UTC) if dtype.time_zone is None else col.dt.convert_time_zone(UTC)
            fixes.append(col)
    return frame.with_columns(fixes) if fixes else frame


def conform(frame: pl.DataFrame | None, schema: Mapping[str, pl.DataType], table: str) -> pl.DataFrame:
    """Select the contract columns of a staging frame, typed; optional ones missing become null.

    provider and incident_id are required; an input without them is a programming error, reported with
    the table name and the columns it does have.
    """
    if frame is None:
        return pl.DataFrame(schema=dict(schema))
    missing_keys = {"provider", "incident_id"} - set(frame.columns)
    if missing_keys:
        raise ValueError(f"{table}: missing required columns {sorted(missing_keys)} (has {frame.columns})")
    frame = to_utc(frame)
    return frame.select(
        [
            (pl.col(c) if c in frame.columns else pl.lit(None)).cast(t, strict=False).alias(c)
            for c, t in schema.items()
        ]
    )


def _minutes(later: str, earlier: str) -> pl.Expr:
    return (pl.col(later) - pl.col(earlier)).dt.total_minutes(fractional=True)


def _first_of(*statuses: str) -> pl.Expr:
    return pl.col("created_at").filter(pl.col("status").is_in(statuses)).min()


def _stated_windows(updates: pl.DataFrame, anchors: pl.DataFrame) -> pl.DataFrame:
    """Per incident, the window stated by its latest update that states one (calendar-anchored)."""
    out_schema = {"provider": pl.String, "incident_id": pl.String, "stated_start": TS, "stated_end": TS}
    candidates = updates.filter(pl.col("body").str.contains(r"(?i)\b(from|between)\b").fill_null(False)).join(
        anchors, on=["provider", "incident_id"], how="inner"
    )
    rows = []
    for row in candidates.sort("created_at", nulls_last=False).iter_rows(named=True):
        window = parse_stated_window(row["body"])
        anchor = row["vendor_started_at"] or row["created_at"]
        if window is None or anchor is None:
            continue
        start, end = anchor_stated_window(*window, anchor, row["created_at"], row["status"] == "scheduled")
        rows.append((row["provider"], row["incident_id"], start, end))
    found = pl.DataFrame(rows, schema=out_schema, orient="row")
    # Rows were appended oldest update first, so the last one per incident is the latest statement.
    return found.unique(["provider", "incident_id"], keep="last", maintain_order=True)


def incidents_mart(
    incidents: pl.DataFrame,
    updates: pl.DataFrame | None,
    affected: pl.DataFrame | None,
    config: ProvidersConfig | Mapping[str, Mapping[str, str]] | None = None,
) -> pl.DataFrame:
    """Build marts.incidents from the three staging status tables.

    incidents: staging.status_incidents (provider, incident_id, title, status, impact, created_at,
      updated_at, started_at, resolved_at, monitoring_at, shortlink, page_kind); one row per incident
      (duplicates are reduced to the newest updated_at).
    updates: staging.status_incident_updates (provider, incident_id, update_id, status, body, created_at),
      or None.
    affected: staging.status_affected_components (provider, incident_id, update_id, component_name,
      old_status, new_status, created_at), or None.
    config: ProvidersConfig or {provider: {component: capability}} for the `capabilities` column.
    Returns one row per (provider, incident_id) with the columns of INCIDENT_COLUMNS, in that order.
    """
    inc = conform(incidents, INCIDENT_INPUT, "staging.status_incidents")
    inc = inc.sort("updated_at", nulls_last=False).unique(["provider", "incident_id"], keep="last")
    upd = conform(updates, UPDATE_INPUT, "staging.status_incident_updates").with_columns(
        pl.col("status").str.to_lowercase()
    )
    aff = conform(affected, AFFECTED_INPUT, "staging.status_affected_components")
    keys = ["provider", "incident_id"]

    lifecycle = (
        upd.filter(pl.col("created_at").is_not_null())
        .group_by(keys)
        .agg(
            acknowledged_at=pl.col("created_at").min(),
            first_update_status=pl.col("status").sort_by("created_at").first(),
            investigating_at=_first_of("investigating", "in_progress"),
            identified_at=_first_of("identified"),
            monitoring_update_at=_first_of("monitoring", "verifying"),
            resolved_update_at=_first_of(*RESOLVED_STATUSES),
            postmortem_at=_first_of("postmortem"),
            update_count=pl.len().cast(pl.Int64),
            last_update_at=pl.col("created_at").max(),
        )
    )
    components = (
        aff.filter(pl.col("component_name").is_not_null())
        .group_by(keys)
        .agg(components=pl.col("component_name").unique().sort())
    )
    caps = capability_map(config)
    cap_frame = pl.DataFrame(
        [(p, name, cap) for p, mapping in caps.items() for name, cap in mapping.items()],
        schema={"provider": pl.String, "component_name": pl.String, "capability": pl.String},
        orient="row",
    )
    capabilities = (
        components.explode("components")
        .rename({"components": "component_name"})
        .join(cap_frame, on=["provider", "component_name"], how="inner")
        .group_by(keys)
        .agg(capabilities=pl.col("capability").unique().sort())
    )
    empty_list = pl.lit([], dtype=pl.List(pl.String))

    frame = (
        inc.join(lifecycle, on=keys, how="left")
        .join(components, on=keys, how="left")
        .join(capabilities, on=keys, how="left")
        .with_columns(
            pl.col("components").fill_null(empty_list),
            pl.col("capabilities").fill_null(empty_list),
            pl.col("update_count").fill_null(0),
            last_seen_at=pl.max_horizontal("snapshot_at", "updated_at", "last_update_at", "created_at"),
            vendor_started_at=pl.coalesce("started_at", "acknowledged_at", "created_at"),
            monitoring_at=pl.coalesce("monitoring_update_at", "monitoring_at"),
            vendor_resolved_at=pl.when(
                pl.col("status").str.to_lowercase().is_in(OPEN_STATUSES).fill_null(False)
            )
            .then(pl.lit(None, dtype=TS))
            .otherwise(pl.coalesce("resolved_update_at", "resolved_at")),
        )
    )
    windows = _stated_windows(upd, frame.select(*keys, "vendor_started_at"))
    frame = (
        frame.join(windows, on=keys, how="left")
        .with_columns(stated_window=pl.col("stated_start").is_not_null())
        .with_columns(
            started_at=pl.coalesce("stated_start", "vendor_started_at"),
            resolved_at=pl.when(pl.col("vendor_resolved_at").is_null())
            .then(pl.lit(None, dtype=TS))
            .otherwise(pl.coalesce("stated_end", "vendor_resolved_at")),
        )
        .with_columns(
            duration_minutes=_minutes("resolved_at", "started_at"),
            time_to_acknowledge=_minutes("acknowledged_at", "started_at"),
            time_to_identify=(
                pl.col("identified_at") - pl.coalesce("investigating_at", "acknowledged_at")
            ).dt.total_minutes(fractional=True),
            time_to_repair=_minutes("monitoring_at", "identified_at"),
            time_to_verify=_minutes("vendor_resolved_at", "monitoring_at"),
            time_to_postmortem=_minutes("postmortem_at", "vendor_resolved_at"),
            posted_after_the_fact=(
                pl.col("first_update_status").is_in(FINAL_STATUSES).fill_null(False)
                | (pl.coalesce("acknowledged_at", "created_at") >= pl.col("resolved_at")).fill_null(False)
            ),
        )
    )
    return frame.select(list(INCIDENT_COLUMNS)).sort(["provider", "started_at", "incident_id"])


def column_schema(columns: Mapping[str, tuple[str, str]]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name, type=kind, description=text) for name, (kind, text) in columns.items()]
    )


def checkable(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns joined to text for the GX bridge (pipelines.core.quality casts lists to String, which
    Polars 2.1 refuses)."""
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    return frame.with_columns(pl.col(name).list.join(", ") for name in lists)


@dg.asset(
    key=["marts", "incidents"],
    deps=[dg.AssetKey(["staging", "status_incidents"])],
    group_name="marts",
    kinds={"duckdb", "polars"},
    metadata={"dagster/column_schema": column_schema(INCIDENT_COLUMNS)},
    check_specs=[dg.AssetCheckSpec(INCIDENTS_CHECK, asset=["marts", "incidents"], blocking=True)],
)
def incidents(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Every status-page incident of every provider with when it really started and ended, when the
    vendor acknowledged, identified, mitigated and resolved it, how long each stage took, which
    components and capabilities it hit, and whether the vendor only posted it after the fact.
    Column meanings: see the column schema (INCIDENT_COLUMNS in assets/marts/incidents.py).
    """
    config = workspace.providers()
    with workspace.warehouse(read_only=True) as con:
        staged_incidents = read_table_if_exists(con, "staging.status_incidents")
        if staged_incidents is None:
            raise dg.Failure(
                "staging.status_incidents does not exist yet: materialize staging/status_incidents first"
            )
        staged_updates = read_table_if_exists(con, "staging.status_incident_updates")
        staged_affected = read_table_if_exists(con, "staging.status_affected_components")
    mart = incidents_mart(staged_incidents, staged_updates, staged_affected, config)
    with workspace.warehouse() as con:
        replace_table(con, "marts.incidents", mart)
    context.log.info(
        "marts.incidents: %d incidents from %d staged rows", mart.height, staged_incidents.height
    )
    return dg.MaterializeResult(
        metadata={
            "rows": mart.height,
            "rows_in": staged_incidents.height,
            "stated_windows": int(mart["stated_window"].sum()),
            "posted_after_the_fact": int(mart["posted_after_the_fact"].sum()),
            "unresolved": int(mart["resolved_at"].null_count()),
        },
        check_results=[
            check_result(
                INCIDENTS_CHECK,
                checkable(mart),
                [
                    unique_together("provider", "incident_id"),
                    not_null("provider"),
                    not_null("incident_id"),
                    not_null("started_at"),
                    between("duration_minutes", 0, None),
                ],
            )
        ],
    )
