"""Every archived status-page snapshot, parsed, counted and deduplicated into the four staging tables.

`incidents.json` only ever returns the 50 newest incidents, so `incidents fetch` keeps every response
and the tables are rebuilt from ALL snapshots on each run (no Dagster, no warehouse here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest.status_pages.dedup import dedup_snapshots
from assets.ingest.status_pages.detect import same_platform
from assets.ingest.status_pages.rows import ParsedSnapshot
from assets.ingest.status_pages.schema import SCHEMAS, SNAPSHOT_SCHEMA, SOURCE, TABLES
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
    rejects = Rejects(SOURCE)
    for snapshot in found.parsed:
        rejects.extend(snapshot.rejects)
    counts = _counts_in(found.parsed)
    tables = dedup_snapshots(_combined(found.parsed))
    for table in TABLES:
        counts[table]["rows_written"] = tables[table].height
        counts[table]["rows_superseded"] = counts[table]["rows_accepted"] - tables[table].height
    reads = pl.DataFrame(found.reads, schema=SNAPSHOT_SCHEMA).sort("provider", "snapshot_at", "file")
    return StatusArchive(tables, rejects, found.files, found.providers, found.snapshots, counts, reads,
                         found.cache_misses, found.cache_hits)


def _counts_in(parsed: list[ParsedSnapshot]) -> dict[str, dict[str, int]]:
    """rows_in, rows_accepted and rows_quarantined of each table, summed over the files."""
    counts = {t: {"rows_in": 0, "rows_accepted": 0, "rows_quarantined": 0} for t in TABLES}
    for snapshot in parsed:
        for table, numbers in snapshot.counts().items():
            for key, value in numbers.items():
                counts[table][key] += value
    return counts


def _combined(parsed: list[ParsedSnapshot]) -> dict[str, pl.DataFrame]:
    return {
        table: pl.concat([p.frame(table) for p in parsed], how="vertical") if parsed
        else pl.DataFrame(schema=SCHEMAS[table])
        for table in TABLES
    }
