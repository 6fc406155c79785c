"""Writing scenario files byte-for-byte reproducibly, and keeping the ledger of rows and planted bad rows."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.core.settings import safe_path


@dataclass
class BadRecord:
    """One planted malformed record: where it is and what is wrong with it."""

    source: str
    file: str  # relative to the data dir, posix
    record_no: int  # 1-based record: JSONL/log line, CSV data row (header not counted), JSON/XML entry
    kind: str
    line_no: int | None = None  # 1-based physical line in text files (a CSV header is line 1)


@dataclass
class Ledger:
    """Every file written (with its record count) and every malformed record planted in it."""

    data_dir: Path
    rows: dict[str, int] = field(default_factory=dict)  # file -> records (good + malformed)
    sources: dict[str, str] = field(default_factory=dict)  # file -> source
    bad: list[BadRecord] = field(default_factory=list)

    def write(self, source: str, parts: tuple[str, ...], content: str | bytes, records: int) -> str:
        """Write `content` under <data dir>/raw/<parts...>; `.gz` names are gzipped with a fixed header."""
        path = safe_path(self.data_dir, "raw", *parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if path.name.endswith(".gz"):
            data = gzip.compress(data, compresslevel=6, mtime=0)  # mtime 0: same bytes on every run
        path.write_bytes(data)
        rel = path.relative_to(Path(self.data_dir).resolve()).as_posix()
        self.rows[rel] = records
        self.sources[rel] = source
        return rel

    def mark_bad(self, source: str, file: str, record_no: int, kind: str, line_no: int | None = None) -> None:
        self.bad.append(BadRecord(source, file, record_no, kind, line_no))

    def rel(self, *parts: str) -> str:
        return "/".join(("raw", *parts))


def insert_bad_lines(lines: list[str], bad: list[tuple[int, str, str]], first_line: int = 1) -> tuple[
        list[str], list[tuple[int, str]]]:
    """Insert malformed lines (position among the good lines, text, kind); return lines and (line no, kind).

    `first_line` is the file line number of lines[0] (2 when a CSV header precedes them).
    """
    if not bad:
        return lines, []
    out: list[str] = []
    marks: list[tuple[int, str]] = []
    queue = sorted(bad, key=lambda b: b[0])
    q = 0
    for i, line in enumerate(lines + [None]):  # type: ignore[list-item]
        while q < len(queue) and queue[q][0] <= i:
            out.append(queue[q][1])
            marks.append((first_line + len(out) - 1, queue[q][2]))
            q += 1
        if line is not None:
            out.append(line)
    return out, marks
