"""Status-page incidents, their updates, affected components and component states, from every snapshot.

`incidents.json` only ever returns the 50 newest incidents, so `incidents fetch` keeps every response
and these tables are rebuilt from ALL snapshots under raw/status_pages/<provider>/ on each run: an
incident seen in several snapshots keeps its newest version (latest `updated_at`, then latest snapshot).
Parsing, discovery and dedup live in assets/ingest/status_pages/; this module checks and writes.
"""

import dagster as dg
import polars as pl

from assets.ingest.status_pages.archive import load_status_archive
from assets.ingest.status_pages.schema import (
    AFFECTED,
    COMPONENT_STATUSES,
    COMPONENTS,
    IMPACTS,
    INCIDENT_STATUSES,
    INCIDENTS,
    SCHEMAS,
    SNAPSHOT_SCHEMA,
    SNAPSHOTS,
    SOURCE,
    TABLES,
    UPDATE_STATUSES,
    UPDATES,
)
from assets.staging import raw
from pipelines.core import tables
from pipelines.core.config import Capability
from pipelines.core.platforms import PAGE_KINDS
from pipelines.core.quality import (
    Check,
    Checked,
    between,
    check_spec,
    has_columns,
    in_set,
    not_null,
    start_check,
    unique_together,
)
from pipelines.core.resources import Workspace
from pipelines.core.step_order import INGEST_FIRST
from pipelines.core.warehouse import replace_table, table_exists, write_rejects

STATUS_INCIDENTS_CHECK = "status_incidents_valid"
STATUS_UPDATES_CHECK = "status_incident_updates_valid"
STATUS_AFFECTED_CHECK = "status_affected_components_valid"
STATUS_COMPONENTS_CHECK = "status_components_valid"
STATUS_SNAPSHOTS_CHECK = "status_snapshots_valid"
PLATFORM_CHECK = "status_platform_matches_config"  # non-blocking: a warning, the tables still load

KEYS = {
    INCIDENTS: tables.STATUS_INCIDENTS,
    UPDATES: tables.STATUS_UPDATES,
    AFFECTED: tables.STATUS_AFFECTED,
    COMPONENTS: tables.STATUS_COMPONENTS,
    SNAPSHOTS: tables.STATUS_SNAPSHOTS,
}
CHECKS = {
    INCIDENTS: STATUS_INCIDENTS_CHECK,
    UPDATES: STATUS_UPDATES_CHECK,
    AFFECTED: STATUS_AFFECTED_CHECK,
    COMPONENTS: STATUS_COMPONENTS_CHECK,
    SNAPSHOTS: STATUS_SNAPSHOTS_CHECK,
}
OUTPUTS = (*TABLES, SNAPSHOTS)
CAPABILITIES = Capability.__args__  # type: ignore[attr-defined]


SUITES = {
    INCIDENTS: [
        has_columns(*SCHEMAS[INCIDENTS]),
        not_null("provider"), not_null("incident_id"), not_null("page_kind"),
        in_set("impact", IMPACTS), in_set("status", INCIDENT_STATUSES), in_set("page_kind", PAGE_KINDS),
        unique_together("provider", "incident_id"),
        between("resolution_minutes", 0, None),
    ],
    UPDATES: [
        has_columns(*SCHEMAS[UPDATES]),
        not_null("incident_id"), not_null("update_id"),
        in_set("status", UPDATE_STATUSES),
        unique_together("provider", "incident_id", "update_id"),
    ],
    AFFECTED: [
        has_columns(*SCHEMAS[AFFECTED]),
        not_null("incident_id"), not_null("component_name"),
        in_set("old_status", COMPONENT_STATUSES), in_set("new_status", COMPONENT_STATUSES),
        in_set("capability", CAPABILITIES),
    ],
    COMPONENTS: [
        has_columns(*SCHEMAS[COMPONENTS]),
        not_null("component_id"), in_set("status", COMPONENT_STATUSES), in_set("capability", CAPABILITIES),
        unique_together("provider", "component_id", "snapshot_at"),
    ],
    SNAPSHOTS: [
        has_columns(*SNAPSHOT_SCHEMA), not_null("provider"), not_null("file"), not_null("snapshot_at"),
        in_set("page_kind", PAGE_KINDS), in_set("time_source", ("name", "content", "mtime")),
        between("incidents", 0, None), unique_together("provider", "file"),
    ],
}


def quality_checks(frames: dict[str, pl.DataFrame]) -> dict[str, Check]:
    """The blocking Great Expectations suite of each table, started."""
    incidents = frames[INCIDENTS].with_columns(
        # resolved_at >= started_at (whose precision is the minute) where both are set, as a number GX can bound
        resolution_minutes=(pl.col("resolved_at") - pl.col("started_at").dt.truncate("1m")).dt.total_seconds() / 60.0
    )
    return {table: start_check(CHECKS[table], incidents if table == INCIDENTS else frames[table], SUITES[table])
            for table in TABLES}


def snapshot_checks(reads: pl.DataFrame, platform_changes: list[str]) -> list[Check]:
    """The snapshots table's blocking suite (started), and the warning for providers whose page moved platform."""
    valid = start_check(STATUS_SNAPSHOTS_CHECK, reads, SUITES[SNAPSHOTS])
    platform = dg.AssetCheckResult(
        check_name=PLATFORM_CHECK, passed=not platform_changes, severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(platform_changes) or "every provider's newest snapshot is of its configured platform",
        metadata={"providers_changed": len(platform_changes)},
    )
    return [valid, Checked(platform)]


_DESCRIPTIONS = {
    INCIDENTS: "One row per status-page incident and provider, newest version across every archived snapshot: "
               "title, status, impact (null for feeds), created/updated/started/monitoring/resolved times (UTC), "
               "shortlink, page_kind (the platform read from the snapshot: statuspage, incident_io, atom, rss, instatus, "
               "betterstack, google_cloud, aws_health, rootly, azure_rss), the snapshot it came from (snapshot_file, "
               "snapshot_at) and last_seen_at, the newest snapshot listing it.",
    UPDATES: "Every update posted on an incident: status word, body, created_at (UTC), display_at and, for "
             "history feeds, the page's own Pacific display text (display_text).",
    AFFECTED: "Components an incident touched, with their old/new status per update (origin=update), or as "
              "listed on the incident (origin=incident) or in a feed's 'This incident affected' line "
              "(origin=feed); capability from the providers config.",
    COMPONENTS: "Status-page components as seen in each summary.json snapshot (one row per component and "
                "snapshot_at): status, capability from the providers config, updated_at.",
    SNAPSHOTS: "One row per archived snapshot read: provider, file, snapshot_at (UTC; time_source says whether "
               "from the file name, the document's own time or the file's mtime), page_kind (the platform read "
               "from the content), configured_kind, incidents (how many it listed: 0 is a page that was looked "
               "at and listed nothing; null a file refused whole). The evidence that a provider had no incidents.",
}


@dg.multi_asset(
    name="status_pages",
    op_tags=INGEST_FIRST,
    specs=[
        dg.AssetSpec(KEYS[table], deps=[raw.status_pages], group_name="staging", kinds={"duckdb", "polars"},
                     description=_DESCRIPTIONS[table])
        for table in OUTPUTS
    ],
    check_specs=[
        *(check_spec(CHECKS[table], KEYS[table], SUITES[table]) for table in OUTPUTS),
        dg.AssetCheckSpec(PLATFORM_CHECK, asset=KEYS[SNAPSHOTS], blocking=False,
                          description="Warns when a provider's newest snapshot is of another platform than its "
                                      "configured status_page.kind (the page moved; set kind to the new one)."),
    ],
)
def status_pages(context: dg.AssetExecutionContext, workspace: Workspace):
    """Rebuild the four staging.status_* tables and staging.status_snapshots from every archived snapshot.

    Each file's platform is read from its content (Statuspage, incident.io, Atom/RSS, Instatus, Better Stack,
    Google Cloud, AWS Health, Rootly, Azure RSS). Unknown impacts/statuses quarantine their incident;
    unreadable files (truncated, empty, not UTF-8, HTML) are quarantined whole (record_no 0) and the other
    files still load. A provider whose newest snapshot is of another platform than its config is flagged
    (metadata `platform_changes` and the non-blocking check status_platform_matches_config).
    """
    archive = load_status_archive(workspace.settings.data_dir, workspace.providers())
    checks = quality_checks(archive.tables)
    platform_changes = archive.platform_changes()
    snapshot_results = snapshot_checks(archive.snapshot_reads, platform_changes)
    with workspace.warehouse() as con:
        for table in TABLES:
            replace_table(con, KEYS[table], archive.tables[table])
        replace_table(con, KEYS[SNAPSHOTS], archive.snapshot_reads)
        # The tables are full rebuilds, so this source's quarantine is too: also clear files that vanished.
        previous = set()
        if table_exists(con, tables.REJECTED_ROWS):
            previous = {row[0] for row in con.execute(
                f"SELECT DISTINCT file FROM {tables.REJECTED_ROWS} WHERE source = ?", [SOURCE]).fetchall()}
        write_rejects(con, SOURCE, sorted(set(archive.files) | previous), archive.rejects.frame())
    context.log.info(
        f"status pages: {archive.snapshots} snapshots of {len(archive.providers)} providers, "
        f"{len(archive.rejects)} rows quarantined; {archive.files_parsed} files parsed, "
        f"{archive.files_from_cache} unchanged ones from the parse cache"
    )
    for line in platform_changes:
        context.log.warning(f"status page moved: {line}")
    for table in TABLES:
        yield dg.MaterializeResult(
            asset_key=KEYS[table],
            metadata={
                **archive.counts[table],
                "providers": ", ".join(archive.providers),
                "snapshots": archive.snapshots,
                "files_quarantined": sum(1 for r in archive.rejects.rows if r["record_no"] == 0),
            },
            # one multi-asset, four tables: each result must name the table it checks
            check_results=[checks[table].result()._replace(asset_key=KEYS[table])],
        )
    yield dg.MaterializeResult(
        asset_key=KEYS[SNAPSHOTS],
        metadata={
            "rows_written": archive.snapshot_reads.height,
            "providers": ", ".join(archive.providers),
            "snapshots_refused_whole": archive.snapshot_reads["incidents"].null_count(),
            "platform_changes": "; ".join(platform_changes) or "none",
        },
        check_results=[check.result()._replace(asset_key=KEYS[SNAPSHOTS]) for check in snapshot_results],
    )
