"""The raw archive of status pages: how snapshots are named, found and parsed.

raw/status_pages/<provider>/<UTC stamp>-incidents.json | -summary.json (Statuspage / incident.io JSON)
or <UTC stamp>.atom | .rss (history feeds). `incidents fetch` names what it writes with `snapshot_names`;
`find_snapshots` walks the archive and turns every file - a snapshot or not - into parsed rows or a reject.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assets.ingest.status_pages.feeds import parse_status_feed
from assets.ingest.status_pages.rows import ParsedSnapshot, SnapshotRows
from assets.ingest.status_pages.schema import COMPONENTS, INCIDENTS
from assets.ingest.status_pages.statuspage_json import parse_statuspage_json
from pipelines.core.config import ProvidersConfig
from pipelines.core.settings import UnsafePathError, safe_path

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SNAPSHOT_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<suffix>[A-Za-z0-9_.-]+?))?\.(?P<ext>json|atom|rss|xml)$")
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024  # the fetcher caps responses at 20 MB; anything far larger is not ours
JSON_KINDS = ("statuspage", "incident_io")


def snapshot_names(when: dt.datetime, page_kind: str) -> dict[str, str]:
    """File names of one fetch of a page, by what each holds: incidents and summary, or the feed."""
    stamp = when.strftime(STAMP_FORMAT)
    if page_kind in JSON_KINDS:
        return {"incidents": f"{stamp}-incidents.json", "summary": f"{stamp}-summary.json"}
    return {"history_feed": f"{stamp}.{page_kind}"}


def snapshot_time(name: str) -> dt.datetime | None:
    match = SNAPSHOT_NAME.match(name)
    if not match:
        return None
    return dt.datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=dt.UTC)


@dataclass
class FoundSnapshots:
    """Every file under raw/status_pages/ parsed (or refused whole), and what was looked at."""

    parsed: list[ParsedSnapshot] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file looked at, relative to the data dir
    providers: list[str] = field(default_factory=list)
    snapshots: int = 0

    def refuse(self, rel: str, reason: str) -> None:
        self.parsed.append(file_reject(rel, reason))
        self.files.append(rel)


def find_snapshots(data_dir: Path, config: ProvidersConfig) -> FoundSnapshots:
    """Parse every snapshot of every configured provider; anything else in the archive is one reject."""
    root = safe_path(data_dir, "raw", "status_pages")
    found = FoundSnapshots()
    if not root.is_dir():
        return found
    for provider, directory, rel in _entries(found, root, "raw/status_pages"):
        if not directory.is_dir():
            found.refuse(rel, "a file directly under raw/status_pages/: snapshots belong in "
                              "raw/status_pages/<provider>/")
            continue
        if provider not in config.providers:
            found.refuse(rel, f"unknown provider directory {provider!r}: not a provider in the "
                              f"providers config ({', '.join(sorted(config.providers))}); rename "
                              "it or add the provider; skipped")
            continue
        found.providers.append(provider)
        for name, path, file_rel in _entries(found, directory, rel):
            if not path.is_file() or not SNAPSHOT_NAME.match(name):
                found.refuse(file_rel, "not a snapshot: expected <UTC stamp like 20260302T120500Z>"
                                       "[-incidents|-summary].json|.atom|.rss; skipped")
                continue
            found.files.append(file_rel)
            found.snapshots += 1
            found.parsed.append(parse_snapshot(path, data_dir, provider, config))
    return found


def _entries(found: FoundSnapshots, directory: Path, rel: str) -> Iterator[tuple[str, Path, str]]:
    """(name, path, path relative to the data dir) of each entry that stays inside the archive.

    Dot files are skipped (the fetcher's temporary files and editor droppings); an entry resolving
    outside the data dir (a symlink out) is refused.
    """
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith("."):
            continue
        entry_rel = f"{rel}/{entry.name}"
        try:
            path = safe_path(directory, entry.name)
        except UnsafePathError as exc:
            found.refuse(entry_rel, str(exc))
            continue
        yield entry.name, path, entry_rel


def parse_snapshot(path: Path, data_dir: Path, provider: str, config: ProvidersConfig) -> ParsedSnapshot:
    """Parse one archived file with the parser its extension calls for."""
    rel = path.relative_to(data_dir).as_posix()
    match = SNAPSHOT_NAME.match(path.name)
    assert match is not None
    page = config.providers[provider]
    capabilities = dict(page.components)
    when = snapshot_time(path.name)
    if path.stat().st_size > MAX_SNAPSHOT_BYTES:
        return file_reject(rel, f"file is {path.stat().st_size} bytes, over the {MAX_SNAPSHOT_BYTES} byte limit")
    data = path.read_bytes()
    if match["ext"] == "json":
        kind = page.status_page.kind if page.status_page.kind in JSON_KINDS else "incident_io"
        table = COMPONENTS if match["suffix"] == "summary" else INCIDENTS
        return parse_statuspage_json(
            data, provider=provider, file=rel, snapshot_at=when, page_kind=kind, capabilities=capabilities,
            file_table=table,
        )
    return parse_status_feed(data, provider=provider, file=rel, snapshot_at=when, capabilities=capabilities)


def file_reject(rel: str, reason: str) -> ParsedSnapshot:
    """A whole file refused before parsing (not a snapshot, too big, outside the archive)."""
    rows = SnapshotRows("", rel, None, {})
    rows.reject(INCIDENTS, 0, reason, "")
    return rows.finish()
