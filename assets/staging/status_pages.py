"""Status-page incidents, their updates, affected components and component states, from every snapshot.

`incidents.json` only ever returns the 50 newest incidents, so `incidents fetch` keeps every response
and these tables are rebuilt from ALL snapshots under raw/status_pages/<provider>/ on each run: an
incident seen in several snapshots keeps its newest version (latest `updated_at`, then latest snapshot).
"""


import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from assets.ingest.status_feeds import parse_status_feed
from assets.ingest.statuspage import (
    AFFECTED,
    COMPONENT_STATUSES,
    COMPONENTS,
    IMPACTS,
    INCIDENT_STATUSES,
    INCIDENTS,
    PAGE_KINDS,
    SCHEMAS,
    SOURCE,
    TABLES,
    UPDATE_STATUSES,
    UPDATES,
    ParsedSnapshot,
    SnapshotRows,
    parse_statuspage_json,
)
from assets.staging import raw
from pipelines.core.config import Capability, ProvidersConfig
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.quarantine import Rejects
from pipelines.core.resources import Workspace
from pipelines.core.settings import UnsafePathError, safe_path
from pipelines.core.warehouse import replace_table, table_exists, write_rejects

STATUS_INCIDENTS_CHECK = "status_incidents_valid"
STATUS_UPDATES_CHECK = "status_incident_updates_valid"
STATUS_AFFECTED_CHECK = "status_affected_components_valid"
STATUS_COMPONENTS_CHECK = "status_components_valid"

KEYS = {table: dg.AssetKey(["staging", table]) for table in TABLES}
CHECKS = {
    INCIDENTS: STATUS_INCIDENTS_CHECK,
    UPDATES: STATUS_UPDATES_CHECK,
    AFFECTED: STATUS_AFFECTED_CHECK,
    COMPONENTS: STATUS_COMPONENTS_CHECK,
}

SNAPSHOT_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<suffix>[A-Za-z0-9_.-]+?))?\.(?P<ext>json|atom|rss|xml)$")
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024  # the fetcher caps responses at 20 MB; anything far larger is not ours
CAPABILITIES = Capability.__args__  # type: ignore[attr-defined]


@dataclass
class StatusArchive:
    """The four tables after dedup across snapshots, plus what was refused and how much came in."""

    tables: dict[str, pl.DataFrame]
    rejects: Rejects
    files: list[str] = field(default_factory=list)  # every file looked at, relative to the data dir
    providers: list[str] = field(default_factory=list)
    snapshots: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


def snapshot_time(name: str) -> dt.datetime | None:
    match = SNAPSHOT_NAME.match(name)
    if not match:
        return None
    return dt.datetime.strptime(match["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


def parse_snapshot(path: Path, data_dir: Path, provider: str, config: ProvidersConfig) -> ParsedSnapshot:
    """Parse one archived file with the parser its extension calls for."""
    rel = path.relative_to(data_dir).as_posix()
    match = SNAPSHOT_NAME.match(path.name)
    assert match is not None
    page = config.providers[provider]
    capabilities = dict(page.components)
    when = snapshot_time(path.name)
    if path.stat().st_size > MAX_SNAPSHOT_BYTES:
        return _file_reject(rel, f"file is {path.stat().st_size} bytes, over the {MAX_SNAPSHOT_BYTES} byte limit")
    data = path.read_bytes()
    if match["ext"] == "json":
        kind = page.status_page.kind if page.status_page.kind in ("statuspage", "incident_io") else "incident_io"
        table = COMPONENTS if match["suffix"] == "summary" else INCIDENTS
        return parse_statuspage_json(
            data, provider=provider, file=rel, snapshot_at=when, page_kind=kind, capabilities=capabilities,
            file_table=table,
        )
    return parse_status_feed(data, provider=provider, file=rel, snapshot_at=when, capabilities=capabilities)


def _file_reject(rel: str, reason: str, table: str = INCIDENTS) -> ParsedSnapshot:
    rows = SnapshotRows("", rel, None, {})
    rows.reject(table, 0, reason, "")
    return rows.finish()


def load_status_archive(data_dir: Path, config: ProvidersConfig) -> StatusArchive:
    """Parse every snapshot of every configured provider and dedup across snapshots (no Dagster, no DB)."""
    data_dir = Path(data_dir)
    root = safe_path(data_dir, "raw", "status_pages")
    parsed: list[ParsedSnapshot] = []
    files: list[str] = []
    providers: list[str] = []
    snapshots = 0
    entries = sorted(root.iterdir()) if root.is_dir() else []
    for entry in entries:
        if entry.name.startswith("."):
            continue  # the fetcher's temporary files and editor droppings
        rel = f"raw/status_pages/{entry.name}"
        try:
            directory = safe_path(root, entry.name)
        except UnsafePathError as exc:
            parsed.append(_file_reject(rel, str(exc)))
            files.append(rel)
            continue
        if not directory.is_dir():
            parsed.append(_file_reject(rel, "a file directly under raw/status_pages/: snapshots belong in "
                                            "raw/status_pages/<provider>/"))
            files.append(rel)
            continue
        if entry.name not in config.providers:
            parsed.append(_file_reject(rel, f"unknown provider directory {entry.name!r}: not a provider in the "
                                            f"providers config ({', '.join(sorted(config.providers))}); rename "
                                            "it or add the provider; skipped"))
            files.append(rel)
            continue
        providers.append(entry.name)
        for path in sorted(directory.iterdir()):
            if path.name.startswith("."):
                continue
            file_rel = f"{rel}/{path.name}"
            files.append(file_rel)
            try:
                path = safe_path(directory, path.name)
            except UnsafePathError as exc:
                parsed.append(_file_reject(file_rel, str(exc)))
                continue
            if not path.is_file() or not SNAPSHOT_NAME.match(path.name):
                parsed.append(_file_reject(
                    file_rel, "not a snapshot: expected <UTC stamp like 20260302T120500Z>[-incidents|-summary]"
                              ".json|.atom|.rss; skipped"))
                continue
            snapshots += 1
            parsed.append(parse_snapshot(path, data_dir, entry.name, config))

    rejects = Rejects(SOURCE)
    counts = {t: {"rows_in": 0, "rows_accepted": 0, "rows_quarantined": 0} for t in TABLES}
    for snapshot in parsed:
        rejects.extend(snapshot.rejects)
        for table, numbers in snapshot.counts().items():
            for key, value in numbers.items():
                counts[table][key] += value
    combined = {
        table: pl.concat([p.frame(table) for p in parsed], how="vertical") if parsed
        else pl.DataFrame(schema=SCHEMAS[table])
        for table in TABLES
    }
    tables = dedup_snapshots(combined)
    for table in TABLES:
        counts[table]["rows_written"] = tables[table].height
        counts[table]["rows_superseded"] = counts[table]["rows_accepted"] - tables[table].height
    return StatusArchive(tables, rejects, files, providers, snapshots, counts)


def dedup_snapshots(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """One row per incident (newest updated_at, then newest snapshot), per update, per component state.

    Incidents gain `last_seen_at`, the newest snapshot that listed them (incidents.json drops old ones).

    Updates are the union over snapshots (an update missing from a later snapshot is kept), each in its
    newest version; affected components come with the winning version of their update (or, for lists
    attached to the incident itself, of their incident); components keep one row per snapshot (history).
    """
    newest_first = {"descending": True, "nulls_last": True}
    incidents = (
        frames[INCIDENTS]
        .sort(["updated_at", "snapshot_at", "snapshot_file"], **newest_first)
        .unique(["provider", "incident_id"], keep="first", maintain_order=True)
        # the newest snapshot showing the incident at all: an open incident is known open until then
        .join(
            frames[INCIDENTS].group_by("provider", "incident_id").agg(last_seen_at=pl.col("snapshot_at").max()),
            on=["provider", "incident_id"], how="left",
        )
        .sort(["provider", "created_at", "incident_id"], nulls_last=True)
    )
    # An update unchanged by its own updated_at is taken from the file holding the newest version of its
    # incident (summary.json and incidents.json of one fetch may disagree while an incident moves).
    version = frames[INCIDENTS].select(
        "provider", "incident_id", "snapshot_file", pl.col("updated_at").alias("_incident_updated_at")
    ).unique(["provider", "incident_id", "snapshot_file"], keep="first")
    updates = (
        frames[UPDATES]
        .join(version, on=["provider", "incident_id", "snapshot_file"], how="left")
        .sort(["updated_at", "_incident_updated_at", "snapshot_at", "snapshot_file"], **newest_first)
        .drop("_incident_updated_at")
        .unique(["provider", "incident_id", "update_id"], keep="first", maintain_order=True)
        .sort(["provider", "incident_id", "created_at", "update_id"], nulls_last=True)
    )
    affected = frames[AFFECTED]
    by_update = affected.filter(pl.col("update_id").is_not_null()).join(
        updates.select("provider", "incident_id", "update_id", "snapshot_file"),
        on=["provider", "incident_id", "update_id", "snapshot_file"], how="semi",
    )
    by_incident = affected.filter(pl.col("update_id").is_null()).join(
        incidents.select("provider", "incident_id", "snapshot_file"),
        on=["provider", "incident_id", "snapshot_file"], how="semi",
    )
    affected = (
        pl.concat([by_update, by_incident], how="vertical")
        .unique(["provider", "incident_id", "update_id", "component_name", "origin"], keep="first", maintain_order=True)
        .sort(["provider", "incident_id", "created_at", "component_name"], nulls_last=True)
    )
    components = (
        frames[COMPONENTS]
        .sort(["snapshot_at", "snapshot_file"], **newest_first)
        .unique(["provider", "component_id", "snapshot_at"], keep="first", maintain_order=True)
        .sort(["provider", "snapshot_at", "component_id"], nulls_last=True)
    )
    return {INCIDENTS: incidents, UPDATES: updates, AFFECTED: affected, COMPONENTS: components}


def quality_checks(tables: dict[str, pl.DataFrame]) -> dict[str, dg.AssetCheckResult]:
    """The blocking Great Expectations suite of each table."""
    incidents = tables[INCIDENTS].with_columns(
        # resolved_at >= started_at (whose precision is the minute) where both are set, as a number GX can bound
        resolution_minutes=(pl.col("resolved_at") - pl.col("started_at").dt.truncate("1m")).dt.total_seconds() / 60.0
    )
    return {
        INCIDENTS: check_result(STATUS_INCIDENTS_CHECK, incidents, [
            has_columns(*SCHEMAS[INCIDENTS]),
            not_null("provider"), not_null("incident_id"), not_null("page_kind"),
            in_set("impact", IMPACTS), in_set("status", INCIDENT_STATUSES), in_set("page_kind", PAGE_KINDS),
            unique_together("provider", "incident_id"),
            between("resolution_minutes", 0, None),
        ]),
        UPDATES: check_result(STATUS_UPDATES_CHECK, tables[UPDATES], [
            has_columns(*SCHEMAS[UPDATES]),
            not_null("incident_id"), not_null("update_id"),
            in_set("status", UPDATE_STATUSES),
            unique_together("provider", "incident_id", "update_id"),
        ]),
        AFFECTED: check_result(STATUS_AFFECTED_CHECK, tables[AFFECTED], [
            has_columns(*SCHEMAS[AFFECTED]),
            not_null("incident_id"), not_null("component_name"),
            in_set("old_status", COMPONENT_STATUSES), in_set("new_status", COMPONENT_STATUSES),
            in_set("capability", CAPABILITIES),
        ]),
        COMPONENTS: check_result(STATUS_COMPONENTS_CHECK, tables[COMPONENTS], [
            has_columns(*SCHEMAS[COMPONENTS]),
            not_null("component_id"), in_set("status", COMPONENT_STATUSES), in_set("capability", CAPABILITIES),
            unique_together("provider", "component_id", "snapshot_at"),
        ]),
    }


_DESCRIPTIONS = {
    INCIDENTS: "One row per status-page incident and provider, newest version across every archived snapshot: "
               "title, status, impact (null for feeds), created/updated/started/monitoring/resolved times (UTC), "
               "shortlink, page_kind (statuspage|incident_io|atom|rss), the snapshot it came from (snapshot_file, "
               "snapshot_at) and last_seen_at, the newest snapshot listing it.",
    UPDATES: "Every update posted on an incident: status word, body, created_at (UTC), display_at and, for "
             "history feeds, the page's own Pacific display text (display_text).",
    AFFECTED: "Components an incident touched, with their old/new status per update (origin=update), or as "
              "listed on the incident (origin=incident) or in a feed's 'This incident affected' line "
              "(origin=feed); capability from the providers config.",
    COMPONENTS: "Status-page components as seen in each summary.json snapshot (one row per component and "
                "snapshot_at): status, capability from the providers config, updated_at.",
}


@dg.multi_asset(
    name="status_pages",
    specs=[
        dg.AssetSpec(KEYS[table], deps=[raw.status_pages], group_name="staging", kinds={"duckdb", "polars"},
                     description=_DESCRIPTIONS[table])
        for table in TABLES
    ],
    check_specs=[dg.AssetCheckSpec(CHECKS[table], asset=KEYS[table], blocking=True) for table in TABLES],
)
def status_pages(context: dg.AssetExecutionContext, workspace: Workspace):
    """Rebuild the four staging.status_* tables from every archived status-page snapshot.

    Unknown impacts/statuses quarantine their incident; unreadable files (truncated, empty, not UTF-8,
    HTML) are quarantined whole (record_no 0) and the other files still load.
    """
    archive = load_status_archive(workspace.settings.data_dir, workspace.providers())
    checks = quality_checks(archive.tables)
    with workspace.warehouse() as con:
        for table in TABLES:
            replace_table(con, f"staging.{table}", archive.tables[table])
        # The tables are full rebuilds, so this source's quarantine is too: also clear files that vanished.
        previous = set()
        if table_exists(con, "quarantine.rejected_rows"):
            previous = {row[0] for row in con.execute(
                "SELECT DISTINCT file FROM quarantine.rejected_rows WHERE source = ?", [SOURCE]).fetchall()}
        write_rejects(con, SOURCE, sorted(set(archive.files) | previous), archive.rejects.frame())
    context.log.info(
        f"status pages: {archive.snapshots} snapshots of {len(archive.providers)} providers, "
        f"{len(archive.rejects)} rows quarantined"
    )
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
            check_results=[checks[table]._replace(asset_key=KEYS[table])],
        )
