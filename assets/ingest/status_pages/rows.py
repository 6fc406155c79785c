"""The rows one archived file yields for each staging.status_* table, and the records it refused."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from assets.ingest.status_pages.schema import (
    AFFECTED,
    COMPONENTS,
    INCIDENTS,
    SCHEMAS,
    SOURCE,
    TABLES,
    UPDATES,
)
from pipelines.core.quarantine import RAW_PREVIEW_CHARS, Rejects


@dataclass
class ParsedSnapshot:
    """Rows of one archived file for each staging table, the refused records, and per-table counts.

    `quarantined[table]` counts the reject rows charged to that table, so for every table
    rows in = accepted (the frame's height) + quarantined.
    """

    incidents: pl.DataFrame
    updates: pl.DataFrame
    affected: pl.DataFrame
    components: pl.DataFrame
    rejects: Rejects
    quarantined: Counter = field(default_factory=Counter)

    def frame(self, table: str) -> pl.DataFrame:
        return {INCIDENTS: self.incidents, UPDATES: self.updates, AFFECTED: self.affected, COMPONENTS: self.components}[
            table
        ]

    def counts(self) -> dict[str, dict[str, int]]:
        out = {}
        for table in TABLES:
            accepted, quarantined = self.frame(table).height, self.quarantined[table]
            out[table] = {"rows_in": accepted + quarantined, "rows_accepted": accepted, "rows_quarantined": quarantined}
        return out


class SnapshotRows:
    """Accumulates rows while one file is parsed; `finish()` turns them into typed frames."""

    def __init__(self, provider: str, file: str, snapshot_at: dt.datetime | None, capabilities: Mapping[str, str],
                 now: dt.datetime | None = None):
        self.provider, self.file, self.snapshot_at = provider, file, snapshot_at
        self.now = now or dt.datetime.now(dt.UTC)  # times later than this (+ FUTURE_SKEW) are refused
        self.capabilities = dict(capabilities)  # component name -> capability, from the providers config
        self._folded = {name.casefold().strip(): cap for name, cap in self.capabilities.items()}
        self.rows: dict[str, list[dict]] = {table: [] for table in TABLES}
        self.rejects = Rejects(SOURCE)
        self.quarantined: Counter = Counter()

    def capability(self, component_name: str | None) -> str | None:
        if not component_name:
            return None
        return self.capabilities.get(component_name) or self._folded.get(component_name.casefold().strip())

    def add(self, table: str, row: dict) -> None:
        self.rows[table].append(row)

    def reject(self, table: str, record_no: int, reason: str, raw: object) -> None:
        self.rejects.add(self.file, record_no, reason, raw if isinstance(raw, str) else _preview(raw))
        self.quarantined[table] += 1

    def reject_file(self, table: str, reason: str, data: bytes) -> ParsedSnapshot:
        """The whole file refused (record_no 0), previewed by its first bytes."""
        self.reject(table, 0, reason, data[:RAW_PREVIEW_CHARS].decode("utf-8", "replace"))
        return self.finish()

    def finish(self) -> ParsedSnapshot:
        frames = [pl.DataFrame(self.rows[t], schema=SCHEMAS[t]) for t in TABLES]
        return ParsedSnapshot(*frames, rejects=self.rejects, quarantined=self.quarantined)


def _preview(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)[:RAW_PREVIEW_CHARS]
    except (TypeError, ValueError, RecursionError):
        return repr(value)[:RAW_PREVIEW_CHARS]
