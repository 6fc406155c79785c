"""Every archived status-page snapshot, parsed, counted and deduplicated into the four staging tables.

`incidents.json` only ever returns the 50 newest incidents, so `incidents fetch` keeps every response
and the tables are rebuilt from ALL snapshots on each run (no Dagster, no warehouse here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest.status_pages.detect import same_platform
from assets.ingest.status_pages.parse_cache import READS, REJECTS
from assets.ingest.status_pages.schema import SNAPSHOT_SCHEMA, SOURCE, TABLES
from assets.ingest.status_pages.snapshots import find_snapshots
from pipelines.core.config import ProvidersConfig
from pipelines.core.quarantine import Rejects


@dataclass
class StatusArchive:
    """The four tables after dedup across snapshots, plus what was refused and how much came in."""

    tables: dict[str, pl.DataFrame]
    rejects: Rejects
    files: list[str] = field(default_factory=list)  # every file looked at, relative to the data dir
    providers: list[str] = field(default_factory=list)
    snapshots: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    snapshot_reads: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SNAPSHOT_SCHEMA))
    files_parsed: int = 0  # files parsed in this run; the others came from the parse cache (parse_cache.py)
    files_from_cache: int = 0

    def platform_changes(self) -> list[str]:
        """One line per provider whose newest readable snapshot is of another platform than its config says."""
        newest = (self.snapshot_reads.filter(pl.col("page_kind").is_not_null())
                  .sort("snapshot_at", "file").group_by("provider", maintain_order=True).last().sort("provider"))
        return [f"{row['provider']}: newest snapshot {row['file']} looks like platform {row['page_kind']}, "
                f"config says {row['configured_kind']}; set kind: {row['page_kind']}"
                for row in newest.iter_rows(named=True) if not same_platform(row["page_kind"], row["configured_kind"])]


def load_status_archive(data_dir: Path, config: ProvidersConfig) -> StatusArchive:
    """Parse every snapshot of every configured provider and dedup across snapshots."""
    found = find_snapshots(Path(data_dir), config)
    frames = found.rows.frames((READS, REJECTS))
    accepted, quarantined = found.rows.heights(), found.rows.quarantined
    counts = {table: {"rows_in": accepted[table] + quarantined[table], "rows_accepted": accepted[table],
                      "rows_quarantined": quarantined[table]} for table in TABLES}
    tables = found.tables
    for table in TABLES:
        counts[table]["rows_written"] = tables[table].height
        counts[table]["rows_superseded"] = counts[table]["rows_accepted"] - tables[table].height
    reads = frames[READS].sort("provider", "snapshot_at", "file")
    return StatusArchive(tables, Rejects(SOURCE, frames[REJECTS].to_dicts()), found.files, found.providers,
                         reads.height, counts, reads, found.cache_misses, found.cache_hits)
