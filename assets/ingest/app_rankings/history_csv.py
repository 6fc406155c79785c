"""Rank histories exported from other tools: a CSV with one row per day, country, chart and rank, naming the
app by its Apple id, its name, or both. Recognised from its header (data/history_columns.json lists the
names tools use), so any file name works; each row goes to the UTC day in its `date` column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from assets.ingest.day_folders import FileRefused
from assets.ingest.day_sources import read_raw

REQUIRED = ("date", "country", "chart", "rank")
_ALIASES = json.loads((Path(__file__).parent / "data" / "history_columns.json").read_text("utf-8"))
_COLUMN_OF = {alias: column for column, names in _ALIASES.items() if column != "_about" for alias in names}
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


@dataclass
class HistoryRecord:
    """One data row: its 1-based number, raw text, values by our column names, and a reading error if any."""

    record_no: int
    raw: str
    values: dict[str, str]
    reason: str | None = None

    @property
    def own_day(self) -> str | None:
        """The row's day when its `date` is a real YYYY-MM-DD day, else None (it stays with its folder)."""
        text = self.values.get("date", "")
        try:
            return dt.date.fromisoformat(text).isoformat() if _DAY.match(text) else None
        except ValueError:
            return None


def _columns(file_name: str, header: list[str]) -> list[str | None]:
    names = [_COLUMN_OF.get(re.sub(r"[\s-]+", "_", name.strip().lower())) for name in header]
    missing = [c for c in REQUIRED if c not in names]
    if not ("app_id" in names or "app_name" in names):
        missing.append("app_id or app_name")
    if missing:
        raise FileRefused(
            f"file: {file_name!r} is neither a <country>-<chart>.json chart feed nor a rank-history CSV "
            f"(no {missing[0]} column; found: {', '.join(header)[:200]}); a history needs date, country, "
            "chart, rank and app_id or app_name"
        )
    repeated = sorted({n for n in names if n is not None and names.count(n) > 1})
    if repeated:
        raise FileRefused(f"header: two columns mean {repeated[0]!r}; keep one")
    return names


def read_history(path: Path) -> list[HistoryRecord]:
    """Every data row of a rank-history CSV; a file that is not one (no such header) is refused whole."""
    try:
        text = read_raw(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"file: not UTF-8 text (bad byte at offset {exc.start})") from exc
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise FileRefused(f"file: {path.name!r} is empty; neither a chart feed nor a rank-history CSV")
    try:
        header = next(csv.reader([lines[0]], strict=True))
    except csv.Error as exc:
        raise FileRefused(f"header: not a CSV header ({exc})") from exc
    names = _columns(path.name, header)
    records = []
    for record_no, line in enumerate(lines[1:], start=1):
        try:
            fields = next(csv.reader(io.StringIO(line), strict=True))
        except csv.Error as exc:
            records.append(HistoryRecord(record_no, line, {}, f"line: malformed CSV quoting ({exc})"))
            continue
        values = {n: f.strip() for n, f in zip(names, fields, strict=False) if n is not None}
        reason = None if len(fields) == len(names) else f"row: {len(fields)} fields but the header has {len(names)}"
        records.append(HistoryRecord(record_no, line, values, reason))
    return records


def _app(values: dict[str, str], app_names: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """(app_id, app_name, reason): a missing id is looked up from a configured app name, and back."""
    app_id, app_name = values.get("app_id") or None, values.get("app_name") or None
    if app_id is not None and (not app_id.isascii() or not app_id.isdigit() or int(app_id) == 0):
        return None, None, f"app_id: {app_id[:60]!r} is not a positive integer Apple app id"
    ids_by_name = {name.lower(): app for name, app in app_names.items()}
    names_by_id = {app: name for name, app in app_names.items()}
    app_id = app_id or (ids_by_name.get(app_name.lower()) if app_name else None)
    app_name = app_name or names_by_id.get(app_id or "")
    if app_name is None:
        return None, None, "app_name: missing or empty, and app_id is not a configured app"
    return app_id, app_name, None


def history_row(
    record: HistoryRecord, placed: dt.date, countries: Sequence[str], app_names: Mapping[str, str]
) -> tuple[dict, str | None]:
    """The staging fields of one row placed on `placed`, or the reason (naming the field) it is refused."""
    values = record.values
    date_text = values.get("date", "")
    if record.reason:
        return {}, record.reason
    if record.own_day is None:
        return {}, f"date: {date_text[:40]!r} is not a YYYY-MM-DD day" if date_text else "date: missing"
    if record.own_day != placed.isoformat():  # no partition covers its day: it stayed with its folder's day
        when = "in the future" if record.own_day > placed.isoformat() else "before the first partition day"
        return {}, f"date: {date_text} is {when}"
    country = values.get("country", "").lower()
    if country not in countries:
        return {}, f"country: {country[:40]!r} is not a configured country ({', '.join(countries)})"
    chart = re.sub(r"[\s_]+", "-", values.get("chart", "").lower())
    if not _SLUG.match(chart):
        return {}, f"chart: {values.get('chart', '')[:40]!r} is not a chart name such as top-free"
    rank = values.get("rank", "")
    if not (rank.isascii() and rank.isdigit() and 1 <= int(rank) < 2**31):
        return {}, f"rank: {rank[:40]!r} is not a whole number >= 1"
    app_id, app_name, reason = _app(values, app_names)
    if reason:
        return {}, reason
    artist_name = values.get("artist_name") or None
    return {"country": country, "chart": chart, "rank": int(rank), "app_id": app_id, "app_name": app_name,
            "artist_name": artist_name}, None
