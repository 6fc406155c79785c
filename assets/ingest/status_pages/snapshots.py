"""The raw archive of status pages: how snapshots are named, found, recognised, timed and parsed.

`incidents fetch` names what it writes `<UTC stamp>[-suffix].json|atom|rss|xml` (snapshot_names), the
preferred naming; any other name is accepted too (a downloaded `history.atom`). A file's platform is read from
its content (detect.py), its time from the name's stamp, else from the content (the feed's or page's own
update time, else its newest incident's updated_at), else from the file's modification time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest.status_pages.dedup import dedup_snapshots
from assets.ingest.status_pages.detect import detect_platform, document_time, same_platform
from assets.ingest.status_pages.parse_cache import FileRows, ParseCache, provider_digest
from assets.ingest.status_pages.parsers import PARSED_KINDS, STATUSPAGE_KINDS, parse_document
from assets.ingest.status_pages.rows import ParsedSnapshot, SnapshotRows
from assets.ingest.status_pages.schema import COMPONENTS, INCIDENTS
from pipelines.core.config import ProvidersConfig
from pipelines.core.settings import UnsafePathError, safe_path

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SNAPSHOT_NAME = re.compile(r"^(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<suffix>[A-Za-z0-9_.-]+?))?\.(?P<ext>json|atom|rss|xml)$")
SNAPSHOT_EXTENSIONS = ("json", "atom", "rss", "xml")
MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024  # the fetcher caps responses at 20 MB; anything far larger is not ours
JSON_KINDS = STATUSPAGE_KINDS
# What `incidents fetch` requests for each kind, relative to the page's base URL ("" = the URL as configured).
ENDPOINTS: dict[str, dict[str, str]] = {
    "statuspage": {"incidents": "/api/v2/incidents.json", "summary": "/api/v2/summary.json"},
    "incident_io": {"incidents": "/api/v2/incidents.json", "summary": "/api/v2/summary.json"},
    "instatus": {"instatus": "/summary.json"},
    "betterstack": {"betterstack": "/index.json"},
    "rootly": {"rootly": "/api/v1/incidents.json"},
    **{kind: {kind: ""} for kind in ("atom", "rss", "azure_rss", "google_cloud", "aws_health")},
}


def snapshot_names(when: dt.datetime, page_kind: str) -> dict[str, str]:
    """File names of one fetch of a page, by what each holds (incidents and summary, the feed, the document)."""
    stamp = when.strftime(STAMP_FORMAT)
    if page_kind in JSON_KINDS:
        return {"incidents": f"{stamp}-incidents.json", "summary": f"{stamp}-summary.json"}
    if page_kind in ("atom", "rss"):
        return {page_kind: f"{stamp}.{page_kind}"}
    if page_kind == "azure_rss":
        return {page_kind: f"{stamp}-azure.rss"}
    return {page_kind: f"{stamp}-{page_kind}.json"}


def snapshot_time(name: str) -> dt.datetime | None:
    """The UTC stamp a snapshot's name carries; None when it has none or names an impossible time."""
    match = SNAPSHOT_NAME.match(name)
    if not match:
        return None
    try:
        return dt.datetime.strptime(match["stamp"], STAMP_FORMAT).replace(tzinfo=dt.UTC)
    except ValueError:  # 20260325T240000Z: shaped like a stamp, not a time
        return None


@dataclass
class FoundSnapshots:
    """Every file under raw/status_pages/ parsed (or refused whole), and what was looked at."""

    rows: FileRows = field(default_factory=FileRows)  # every file's rows, refusals and staging.status_snapshots row
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)  # the four staging tables, deduplicated
    files: list[str] = field(default_factory=list)  # every file looked at, relative to the data dir
    providers: list[str] = field(default_factory=list)
    cache_hits: int = 0  # files whose rows came from the parse cache
    cache_misses: int = 0  # files parsed in this run

    def refuse(self, rel: str, reason: str) -> None:
        self.rows.add_parsed((file_reject(rel, reason), None))
        self.files.append(rel)


def find_snapshots(data_dir: Path, config: ProvidersConfig) -> FoundSnapshots:
    """Parse every snapshot of every configured provider (unchanged files from the parse cache); anything
    else in the archive is one reject."""
    root = safe_path(data_dir, "raw", "status_pages")
    if not root.is_dir():
        return FoundSnapshots(tables=dedup_snapshots(FileRows().frames()))
    cache = ParseCache.open(data_dir)
    found = FoundSnapshots(FileRows(cache))
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
        provider_key = provider_digest(config, provider)
        for _name, path, file_rel in _entries(found, directory, rel):
            if not path.is_file():
                found.refuse(file_rel, "not a snapshot: a directory inside a provider's archive; skipped")
                continue
            cache.add(path, file_rel, provider_key,
                      lambda path=path, provider=provider: read_snapshot(path, data_dir, provider, config), found.rows)
            found.files.append(file_rel)
    found.cache_hits, found.cache_misses = cache.hits, cache.misses
    found.tables = cache.tables()
    cache.save()
    return found


def _entries(found: FoundSnapshots, directory: Path, rel: str) -> Iterator[tuple[str, Path, str]]:
    """(name, path, path relative to the data dir) of each entry that stays inside the archive.

    `directory` is a resolved path inside the data dir (safe_path's result). Dot files are skipped (the
    fetcher's temporary files and editor droppings); a symlink is resolved, and refused if it leads out of
    the data dir.
    """
    with os.scandir(directory) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name.startswith("."):
            continue
        entry_rel = f"{rel}/{entry.name}"
        if not entry.is_symlink():  # `directory` is resolved and inside: so is a plain entry of it
            yield entry.name, directory / entry.name, entry_rel
            continue
        try:
            path = safe_path(directory, entry.name)
        except UnsafePathError as exc:
            found.refuse(entry_rel, str(exc))
            continue
        yield entry.name, path, entry_rel


def read_snapshot(path: Path, data_dir: Path, provider: str, config: ProvidersConfig
                  ) -> tuple[ParsedSnapshot, dict | None]:
    """Parse one archived file by what its content is; also its staging.status_snapshots row (None: not a snapshot).

    An unrecognised body is read with the parser its extension and the configured kind call for, so a broken
    snapshot is refused with the reason that parser gives (truncated JSON, not well-formed XML ...); a file
    that is neither recognised nor named like a snapshot is refused whole as "not a snapshot".
    """
    rel = path.relative_to(data_dir).as_posix()
    size = path.stat().st_size
    if size > MAX_SNAPSHOT_BYTES:
        return file_reject(rel, f"file is {size} bytes, over the {MAX_SNAPSHOT_BYTES} byte limit"), None
    data = path.read_bytes()
    configured = config.providers[provider].status_page.kind
    detected = detect_platform(data)
    kind = _parser_kind(detected, configured, path.name)
    if kind is None:
        return file_reject(rel, "not a snapshot: its content is no status document we read (Statuspage or "
                                "incident.io JSON, an Atom/RSS feed, Instatus, Better Stack, Google Cloud, AWS "
                                "Health, Rootly, Azure RSS) and its name is not <UTC stamp like 20260302T120500Z>"
                                "[-incidents|-summary].json|.atom|.rss; skipped"), None
    when, time_source = snapshot_time(path.name), "name"
    if when is None:
        when, time_source = document_time(data), "content"
    match = SNAPSHOT_NAME.match(path.name)
    table = COMPONENTS if kind in JSON_KINDS and match and match["suffix"] == "summary" else INCIDENTS
    parsed = parse_document(data, kind, provider=provider, file=rel, snapshot_at=when,
                            capabilities=dict(config.providers[provider].components), file_table=table)
    if when is None:
        newest = parsed.incidents["updated_at"].max()
        when, time_source = (newest, "content") if newest is not None else (_mtime(path), "mtime")
        parsed = _stamped(parsed, when)
    # a file refused whole is no evidence either way: its count is null, never 0 ("no incidents")
    refused_whole = any(r["record_no"] == 0 for r in parsed.rejects.rows)
    read = {"provider": provider, "file": rel, "snapshot_at": when, "time_source": time_source,
            "page_kind": detected, "configured_kind": configured,
            "incidents": None if refused_whole else parsed.counts()[INCIDENTS]["rows_in"]}
    return parsed, read


def _parser_kind(detected: str | None, configured: str, name: str) -> str | None:
    """The parser for a file: the configured kind's when the content is of its platform (its dialect decides
    strictness), else the detected one; for unrecognised content, the extension's (None: not a snapshot)."""
    if detected is not None:
        return configured if same_platform(detected, configured) and configured in PARSED_KINDS else detected
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in SNAPSHOT_EXTENSIONS:
        return None
    if extension == "json":
        return configured if configured in JSON_KINDS else "incident_io"
    return "rss" if extension == "rss" else "atom"


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC).replace(microsecond=0)


def _stamped(parsed: ParsedSnapshot, when: dt.datetime) -> ParsedSnapshot:
    """The snapshot's rows with the time it was found to be taken at (parsed before it was known)."""
    column = pl.lit(when).cast(parsed.incidents.schema["snapshot_at"]).alias("snapshot_at")
    parsed.incidents = parsed.incidents.with_columns(column)
    parsed.updates = parsed.updates.with_columns(column)
    parsed.components = parsed.components.with_columns(column)
    return parsed


def file_reject(rel: str, reason: str) -> ParsedSnapshot:
    """A whole file refused before parsing (not a snapshot, too big, outside the archive)."""
    rows = SnapshotRows("", rel, None, {})
    rows.reject(INCIDENTS, 0, reason, "")
    return rows.finish()
