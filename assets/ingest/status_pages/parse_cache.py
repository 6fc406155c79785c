"""Each archived status-page snapshot parsed once, not on every run.

The staging tables are rebuilt from every snapshot on each run (`incidents.json` lists only the 50 newest
incidents), so a year of fetches meant parsing every file of the year again for one new day. A file's rows
are kept under `<data dir>/cache/status_pages/` and reused while its path (relative to the data dir), size
and modification time are unchanged, the parser is the same (a digest of this package's sources and the
status contract) and so is its provider's configured kind and component mapping. Refused records are kept
with the rows, except a time "in the future": that refusal depends on the clock, so such a file is parsed
again on every run.

The kept files' rows are also kept folded (dedup.py): while every kept file is unchanged, a run folds only
its new files into that, so one new day costs the same after a year of snapshots as after a month.

Layout: `manifest.json` (parser digest, generation, one entry per kept file with its row counts), one
Parquet file per table of that generation, the files' rows one after another in manifest order, and one
per staging table of their fold (`folded_<table>-<generation>.parquet`). The manifest is replaced last,
so a reader sees one whole generation or, after any error, no cache at all (every file is then parsed, as
without a cache).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest.status_pages.dedup import finished, fold, folded_together, prepared
from assets.ingest.status_pages.incident import IN_THE_FUTURE
from assets.ingest.status_pages.rows import ParsedSnapshot
from assets.ingest.status_pages.schema import SCHEMAS, SNAPSHOT_SCHEMA, TABLES
from pipelines.core import status_contract
from pipelines.core.config import ProvidersConfig
from pipelines.core.files import write_atomic
from pipelines.core.quarantine import REJECTED_SCHEMA
from pipelines.core.settings import safe_path

MANIFEST = "manifest.json"
GENERATION = re.compile(r"[0-9a-f]{32}")  # uuid4().hex: the manifest names its Parquet files by it
READS = "reads"  # the file's staging.status_snapshots row
REJECTS = "rejects"  # the file's refused records
KEPT_SCHEMAS = {**SCHEMAS, READS: SNAPSHOT_SCHEMA, REJECTS: REJECTED_SCHEMA}

Parsed = tuple[ParsedSnapshot, dict | None]


def parser_digest() -> str:
    """Digest of the code that turns a file into rows: a changed parser invalidates every kept file."""
    digest = hashlib.sha256()
    for source in [*sorted(Path(__file__).parent.glob("*.py")), Path(status_contract.__file__)]:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def provider_digest(config: ProvidersConfig, provider: str) -> str:
    """What a provider's config contributes to its files' rows: the configured kind and component mapping."""
    page = config.providers[provider]
    text = json.dumps([page.status_page.kind, sorted(dict(page.components).items())])
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class FileRows:
    """Files' rows one after another, for every kept table (the four staging tables, reads and rejects).

    A run of files the cache keeps one after another stays one slice of the cache's frames, so a year of
    unchanged snapshots is a few slices, not six small frames per file.
    """

    cache: ParseCache | None = None
    pieces: list[dict[str, pl.DataFrame] | list[int]] = field(default_factory=list)  # a file's frames, or kept [first, last]
    quarantined: Counter = field(default_factory=Counter)  # table -> refused rows charged to it

    def add_parsed(self, parsed: Parsed) -> None:
        self.add_frames(_file_frames(parsed), parsed[0].quarantined)

    def add_frames(self, frames: dict[str, pl.DataFrame], quarantined: dict[str, int]) -> None:
        self.pieces.append(frames)
        self.quarantined.update(quarantined)

    def add_kept(self, position: int, quarantined: dict[str, int]) -> None:
        last = self.pieces[-1] if self.pieces else None
        if isinstance(last, list) and last[1] == position - 1:
            last[1] = position
        else:
            self.pieces.append([position, position])
        self.quarantined.update(quarantined)

    def frames(self, tables: Iterable[str] = KEPT_SCHEMAS, parsed_only: bool = False) -> dict[str, pl.DataFrame]:
        """Each table's rows (`parsed_only`: only of the files parsed in this run)."""
        pieces = [piece for piece in self.pieces if isinstance(piece, dict) or not parsed_only]
        return {table: pl.concat([self._frame(piece, table) for piece in pieces], how="vertical")
                if pieces else pl.DataFrame(schema=KEPT_SCHEMAS[table]) for table in tables}

    def heights(self) -> dict[str, int]:
        """Each table's number of rows, without reading kept rows."""
        return {table: sum(piece[table].height if isinstance(piece, dict)
                           else self.cache.starts[table][piece[1] + 1] - self.cache.starts[table][piece[0]]
                           for piece in self.pieces) for table in KEPT_SCHEMAS}

    def has_parsed_rows(self) -> bool:
        return any(isinstance(piece, dict) and any(piece[table].height for table in TABLES) for piece in self.pieces)

    def _frame(self, piece: dict[str, pl.DataFrame] | list[int], table: str) -> pl.DataFrame:
        if isinstance(piece, dict):
            return piece[table]
        starts = self.cache.starts[table]
        return self.cache.rows_of(table).slice(starts[piece[0]], starts[piece[1] + 1] - starts[piece[0]])


@dataclass
class ParseCache:
    """Kept rows of unchanged files; `add` reuses them or parses, `save` keeps this run's files."""

    directory: Path
    version: str
    entries: dict[str, dict] = field(default_factory=dict)  # file -> its key and row counts, in stored order
    frames: dict[str, pl.DataFrame | pl.LazyFrame] = field(default_factory=dict)  # table -> every kept file's rows
    positions: dict[str, int] = field(default_factory=dict)  # file -> its place in `entries`
    starts: dict[str, list[int]] = field(default_factory=dict)  # table -> first row of each file, then the total
    folded: dict[str, pl.DataFrame] | None = None  # table -> the kept files' rows folded (dedup.py)
    kept: dict[str, dict] = field(default_factory=dict)  # this run's cacheable files -> their manifest entry
    keep: FileRows = field(init=False)  # their rows, for `save`
    unkept: FileRows = field(default_factory=FileRows)  # rows of this run's files that are not to be kept
    hits: int = 0
    misses: int = 0
    _kept_folded: dict[str, pl.DataFrame] | None = None

    def __post_init__(self) -> None:
        self.keep = FileRows(self)

    @classmethod
    def open(cls, data_dir: Path) -> ParseCache:
        cache = cls(safe_path(data_dir, "cache", "status_pages"), parser_digest())
        try:
            manifest = json.loads((cache.directory / MANIFEST).read_text())
            if manifest["version"] != cache.version or not GENERATION.fullmatch(manifest["generation"]):
                return cache  # another parser's rows, or a generation that is no file name of ours
            # The staging tables' rows are parsed when a run needs them (a changed file, a save), not to reuse
            # the fold; their bytes are read now, so a later generation replacing them cannot take them away.
            frames = {table: _parquet(cache.directory / f"{table}-{manifest['generation']}.parquet", table in TABLES)
                      for table in KEPT_SCHEMAS}
            starts = {table: [0] for table in KEPT_SCHEMAS}
            for entry in manifest["files"].values():
                for table, first in starts.items():
                    first.append(first[-1] + int(entry["rows"][table]))
            if any(_height(frames[table]) != first[-1] for table, first in starts.items()):
                return cache  # the manifest does not describe these files
            folded = {table: pl.read_parquet(cache.directory / f"folded_{table}-{manifest['generation']}.parquet")
                      for table in TABLES}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, pl.exceptions.PolarsError):
            return cache  # no cache, or an unreadable one: every file is parsed
        cache.entries, cache.frames, cache.starts, cache.folded = manifest["files"], frames, starts, folded
        cache.positions = {rel: position for position, rel in enumerate(cache.entries)}
        return cache

    def rows_of(self, table: str) -> pl.DataFrame:
        """Every kept file's rows of a table (read on first use)."""
        frame = self.frames[table]
        if isinstance(frame, pl.LazyFrame):
            frame = self.frames[table] = frame.collect()
        return frame

    def add(self, path: Path, rel: str, provider_key: str, parse: Callable[[], Parsed], rows: FileRows) -> None:
        """Add the file's rows to `rows`: kept ones when the file, parser and provider config are unchanged,
        else `parse()`'s."""
        stat = path.stat()
        key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "provider": provider_key}
        stored = self.entries.get(rel)
        if stored is not None and stored["key"] == key:
            self.hits += 1
            for into in (rows, self.keep):
                into.add_kept(self.positions[rel], stored["quarantined"])
            self.kept[rel] = stored
            return
        self.misses += 1
        snapshot, read = parsed = parse()
        frames = _file_frames(parsed)
        rows.add_frames(frames, snapshot.quarantined)
        if read is not None and not any(IN_THE_FUTURE in row["reason"] for row in snapshot.rejects.rows):
            self.keep.add_frames(frames, snapshot.quarantined)
            self.kept[rel] = {"key": key, "rows": {table: frame.height for table, frame in frames.items()},
                              "quarantined": dict(snapshot.quarantined)}
        else:
            self.unkept.add_frames(frames, snapshot.quarantined)

    def tables(self) -> dict[str, pl.DataFrame]:
        """The four staging tables of every file added: one version of each row across snapshots (dedup.py)."""
        tables = self.kept_folded()
        if self.unkept.has_parsed_rows():
            tables = folded_together(tables, self.unkept.frames())
        return finished(tables)

    def kept_folded(self) -> dict[str, pl.DataFrame]:
        """This run's cacheable files folded: the kept fold with the new files folded in while every kept file
        is unchanged, else all of them folded from their rows."""
        if self._kept_folded is None:
            if self.folded is not None and self.hits == len(self.entries):
                new = self.keep.frames(parsed_only=True) if self.keep.has_parsed_rows() else None
                self._kept_folded = self.folded if new is None else folded_together(self.folded, new)
            else:
                self._kept_folded = fold(prepared(self.keep.frames()))
        return self._kept_folded

    def save(self) -> None:
        """Keep this run's cacheable files (and only those: files gone from the archive drop out)."""
        if self.misses == 0 and self.kept.keys() == self.entries.keys():
            return
        generation = uuid.uuid4().hex
        folded = {f"folded_{table}": frame for table, frame in self.kept_folded().items()}
        for name, frame in {**self.keep.frames(), **folded}.items():
            buffer = io.BytesIO()
            frame.write_parquet(buffer)
            write_atomic(self.directory / f"{name}-{generation}.parquet", buffer.getvalue())
        write_atomic(self.directory / MANIFEST, json.dumps({"version": self.version, "generation": generation,
                                                            "files": self.kept}).encode())
        for stale in self.directory.glob("*.parquet"):
            if not stale.name.endswith(f"-{generation}.parquet"):
                stale.unlink(missing_ok=True)


def _parquet(path: Path, lazily: bool) -> pl.DataFrame | pl.LazyFrame:
    data = io.BytesIO(path.read_bytes())
    return pl.scan_parquet(data) if lazily else pl.read_parquet(data)


def _height(frame: pl.DataFrame | pl.LazyFrame) -> int:
    return frame.select(pl.len()).collect().item() if isinstance(frame, pl.LazyFrame) else frame.height


def _file_frames(parsed: Parsed) -> dict[str, pl.DataFrame]:
    """A parsed file's rows for every kept table: its staging rows, its staging.status_snapshots row, its rejects."""
    snapshot, read = parsed
    return {**{table: snapshot.frame(table) for table in SCHEMAS},
            READS: pl.DataFrame([read] if read is not None else [], schema=SNAPSHOT_SCHEMA),
            REJECTS: snapshot.rejects.frame()}
