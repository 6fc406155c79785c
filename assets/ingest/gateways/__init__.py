"""Request logs as AI gateways and proxies write them, recognised from content and mapped to our columns.

The request-log ingest asks `detect(head, name)` which format a file is in (None: our own JSONL / CSV /
combined log), then `to_canonical_jsonl(path, fmt, out, provider_for)` streams the file (plain or .gz)
into one JSON object per request with our columns (fields.COLUMNS) and returns the records it could
not map as (record_no, 'field: why', raw text). A record is a line of a log or JSONL file, a row of a
CSV, an element of a JSON array, or a span of an OTLP request; record numbers are 1-based in file order.
Records that are not requests (Langfuse spans and events, OTLP spans without gen_ai.* attributes) are
skipped, not refused. Each format module names the platform documentation it follows.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

from assets.ingest.gateways import (
    aws_alb,
    envoy,
    helicone,
    langfuse,
    litellm,
    nginx_json,
    openrouter,
    otel_genai,
    portkey,
)
from assets.ingest.gateways.fields import COLUMNS, ProviderFor, Unmappable
from assets.ingest.gateways.reading import Record, Unreadable, csv_rows, json_records, text_lines
from pipelines.core.quarantine import RAW_PREVIEW_CHARS

# In the order detect() tries them: the most specific signatures first.
FORMATS: dict[str, ModuleType] = {
    module.NAME: module
    for module in (otel_genai, langfuse, litellm, helicone, portkey, openrouter, nginx_json, envoy, aws_alb)
}
_READERS = {"json": json_records, "csv": csv_rows, "lines": text_lines}
_GZIP_MAGIC = b"\x1f\x8b"
Reject = tuple[int, str, str]

__all__ = ["COLUMNS", "FORMATS", "detect", "to_canonical_jsonl"]


def _head_text(head: bytes) -> str:
    if head.startswith(_GZIP_MAGIC):  # the first bytes of a .gz file: inflate what they hold
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
        except zlib.error:
            return ""
    return head.decode("utf-8", "replace").lstrip("\ufeff")


def detect(head: bytes, name: str) -> str | None:
    """The gateway format of a file from its first bytes (a few KB: at least its first line, compressed or
    not) and name; None for our own JSONL / CSV / combined logs."""
    text = _head_text(head)
    return next((fmt for fmt, module in FORMATS.items() if module.matches(text, name)), None)


def _units(module: ModuleType, record: Record) -> Iterable[tuple[object, object]]:
    """(unit to map, the value its raw text shows): the record itself, an API page's elements, or spans."""
    value = record.value
    is_page = module.READER == "json" and isinstance(value, dict) and isinstance(value.get("data"), list)
    split = getattr(module, "units", None)
    for element in value["data"] if is_page else (value,):
        if split is not None and isinstance(element, dict):
            yield from split(element)
        else:
            yield element, element


def _map(module: ModuleType, path: Path, provider_for: ProviderFor) -> Iterator[dict | Reject]:
    record_no = 0
    for item in _READERS[module.READER](path):
        if isinstance(item, Unreadable):
            record_no += 1
            yield record_no, item.reason, item.raw[:RAW_PREVIEW_CHARS]
            continue
        for unit, source in _units(module, item):
            record_no += 1
            try:
                if module.READER == "json" and not isinstance(unit, dict):
                    raise Unmappable("record", f"expected a JSON object, got {type(unit).__name__}")
                row = module.to_row(unit, provider_for)
            except Unmappable as problem:
                raw = item.raw if source is item.value else json.dumps(source, ensure_ascii=False)
                yield record_no, str(problem), raw[:RAW_PREVIEW_CHARS]
                continue
            if row is not None:
                yield row


def to_canonical_jsonl(path: Path, fmt: str, out: Path, provider_for: ProviderFor) -> list[Reject]:
    """Streams `path` in gateway format `fmt` into `out` (JSONL of our columns); returns the refused records.

    A file that stops being readable part-way (a cut .gz) keeps the requests read so far and adds one
    refusal for the whole file (record 0) saying so.
    """
    module = FORMATS.get(fmt)
    if module is None:
        raise ValueError(f"unknown gateway format {fmt!r}; known: {', '.join(FORMATS)}")
    rejects: list[Reject] = []
    with open(out, "w", encoding="utf-8") as sink:
        try:
            for mapped in _map(module, Path(path), provider_for):
                if isinstance(mapped, dict):
                    sink.write(json.dumps(mapped, ensure_ascii=False) + "\n")
                else:
                    rejects.append(mapped)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            kind = "not a valid gzip file" if isinstance(exc, gzip.BadGzipFile) else "cannot be read further"
            rejects.append((0, f"file: {kind} ({exc}); the records after the last one read are lost", ""))
    return rejects
