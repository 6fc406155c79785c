"""Streaming the records out of a gateway export (plain or .gz), in bounded memory.

Three shapes: text lines (access logs), CSV with a header, and JSON - either one object per line
(JSONL) or one document holding an array of records (`[...]`, or `{"data": [...], ...}` as the
Langfuse and LiteLLM APIs page them), read element by element without loading the document.
Each item is a `Record` (parsed value + its raw text) or an `Unreadable` (reason 'field: why' + raw).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.quarantine import RAW_PREVIEW_CHARS

CHUNK_CHARS = 1 << 18  # characters read per step of a JSON document
MAX_RECORD_CHARS = 16 << 20  # a JSON record longer than this is refused, never buffered further
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Record:
    value: object
    raw: str


@dataclass(frozen=True)
class Unreadable:
    reason: str
    raw: str


Item = Record | Unreadable


def open_binary(path: Path):
    """The file's bytes, decompressing `.gz` on the fly."""
    return gzip.open(path, "rb") if path.name.endswith(".gz") else open(path, "rb")


def open_text(path: Path):
    """The file as UTF-8 text (a leading byte-order mark dropped); invalid bytes raise when reached."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="strict", newline="")


def text_lines(path: Path) -> Iterator[Item]:
    """Non-blank lines; a line that is not UTF-8 is refused on its own and reading goes on."""
    with open_binary(path) as stream:
        for number, data in enumerate(stream, start=1):
            data = data.rstrip(b"\r\n")
            if number == 1:
                data = data.removeprefix(codecs.BOM_UTF8)
            if not data.strip():
                continue
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError:
                yield Unreadable("line: bytes are not valid UTF-8", data[:RAW_PREVIEW_CHARS].decode("latin-1"))
                continue
            yield Record(line, line)


def csv_rows(path: Path) -> Iterator[Item]:
    """Rows of a CSV file as {header: value}; a row whose field count differs from the header is refused."""
    consumed: list[str] = []

    def tracked(lines):
        for line in lines:
            consumed.append(line)
            yield line

    with open_text(path) as stream:
        reader = csv.reader(tracked(stream))
        try:
            header = next(reader, None)
            consumed.clear()
            for values in reader:
                raw, consumed[:] = "".join(consumed).rstrip("\r\n"), []
                if not any(v.strip() for v in values):
                    continue
                if header is None or len(values) != len(header):
                    yield Unreadable(f"record: {len(values)} fields where the header has {len(header or [])} "
                                     "(truncated or corrupt row?)", raw)
                    continue
                yield Record(dict(zip(header, values, strict=True)), raw)
        except UnicodeDecodeError:
            yield Unreadable("file: bytes are not valid UTF-8 from here on; the rest is not read", "")
        except csv.Error as exc:
            yield Unreadable(f"record: not valid CSV ({exc}); the rest of the file is not read",
                             "".join(consumed))


def json_records(path: Path) -> Iterator[Item]:
    """JSONL objects, or the elements of a JSON document's records array."""
    with open_text(path) as stream:
        try:
            head = stream.read(CHUNK_CHARS).lstrip()
        except UnicodeDecodeError:
            head = ""
    first_line = head.split("\n", 1)[0]
    if head[:1] == "{" and _is_object(first_line):
        yield from _jsonl(path)
    elif head[:1] in ("[", "{"):
        yield from _json_array(path)
    elif head:
        yield Unreadable("file: neither JSON lines nor a JSON document", first_line[:RAW_PREVIEW_CHARS])


def _is_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def _jsonl(path: Path) -> Iterator[Item]:
    for item in text_lines(path):
        if isinstance(item, Unreadable):
            yield item
            continue
        try:
            value = json.loads(item.value)
        except ValueError:
            yield Unreadable("line: invalid JSON (truncated or corrupt?)", item.raw)
            continue
        if isinstance(value, dict):
            yield Record(value, item.raw)
        else:
            yield Unreadable("line: JSON value is not an object", item.raw)


def _json_array(path: Path) -> Iterator[Item]:
    """Elements of the first array in the document (`[...]` or `{"data": [...]}`), one at a time."""
    with open_text(path) as stream:
        buffer, position = "", -1
        try:
            while position < 0:  # find the array's opening bracket
                chunk = stream.read(CHUNK_CHARS)
                if not chunk:
                    yield Unreadable("file: no array of records in this JSON document", buffer[:RAW_PREVIEW_CHARS])
                    return
                buffer += chunk
                position = buffer.find("[")
            yield from _elements(stream, buffer, position + 1)
        except UnicodeDecodeError:
            yield Unreadable("file: bytes are not valid UTF-8 from here on; the rest is not read", "")


def _elements(stream, buffer: str, position: int) -> Iterator[Item]:
    at_end = False
    while True:
        while position < len(buffer) and buffer[position] in " \t\r\n,":
            position += 1
        if position < len(buffer) and buffer[position] == "]":
            return
        try:
            if position >= len(buffer):
                raise ValueError("need more text")
            value, end = _DECODER.raw_decode(buffer, position)
        except ValueError:
            if at_end or len(buffer) - position > MAX_RECORD_CHARS:
                rest = buffer[position:].strip()
                if rest:
                    yield Unreadable("record: invalid JSON (truncated or corrupt?); the rest of the file "
                                     "is not read", rest[:RAW_PREVIEW_CHARS])
                return
            chunk = stream.read(CHUNK_CHARS)
            at_end = not chunk
            buffer, position = buffer[position:] + chunk, 0
            continue
        raw = buffer[position:end]
        if isinstance(value, dict):
            yield Record(value, raw)
        else:
            yield Unreadable("record: JSON value is not an object", raw[:RAW_PREVIEW_CHARS])
        position = end
