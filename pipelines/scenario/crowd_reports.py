"""Downdetector-style exports: raw/crowd_reports/<YYYY-MM-DD>/<service>.csv|.jsonl|.jsonl.gz

One row per 5-minute bucket, service and country (every bucket, zero reports included); the counts come from
crowd_model.py. Formats rotate by day and service: CSV, JSONL or gzipped JSONL, timestamps in UTC (Z or
+00:00), -08:00 or +05:30 (always inside the folder's UTC day), optional `problem_type` and `baseline` columns.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np

from pipelines.scenario.crowd_model import day_rows
from pipelines.scenario.output import Ledger, insert_bad_lines
from pipelines.scenario.providers import PROVIDERS
from pipelines.scenario.rng import S_MALFORMED, rng_for
from pipelines.scenario.world import World

SOURCE = "crowd_reports"
OFFSETS = (("Z", 0), ("+00:00", 0), ("-08:00", -8 * 3600), ("+05:30", 5 * 3600 + 1800))
FORMATS = ("csv", "jsonl", "jsonl.gz")


def _slug(service: str) -> str:
    return "-".join(service.lower().split())


def _timestamps(t: np.ndarray, offset: tuple[str, int], naive: bool = False) -> list[str]:
    suffix, seconds = offset
    text = np.datetime_as_string((t + seconds).astype("datetime64[s]"), unit="s")
    return [s if naive else s + suffix for s in text.tolist()]


def _file_spec(world: World, day: dt.date, si: int, provider: str) -> dict:
    """One service's file of the day: its format, columns and rows (`_naive` keeps the offset-less stamp)."""
    ordinal = day.toordinal()
    service = world.setup.providers[provider].crowd_service
    data = day_rows(world, provider, day)
    fmt = FORMATS[(ordinal + si) % 3]
    offset = OFFSETS[(ordinal + 2 * si) % 4]
    with_problem = (ordinal + si) % 2 == 0
    with_baseline = ordinal % 3 != 1
    written_t = data["t"] + world.shift.seconds
    stamps = _timestamps(written_t, offset)
    naive = _timestamps(written_t, offset, naive=True)
    rows = []
    for bi in range(len(data["t"])):
        for ci, country in enumerate(world.setup.countries):
            row = {"timestamp": stamps[bi], "service": service, "country": country,
                   "reports": int(data["counts"][bi, ci])}
            if with_problem:
                row["problem_type"] = data["problem"][bi, ci]
            if with_baseline:
                row["baseline"] = round(float(data["baseline"][bi, ci]), 1)
            row["_naive"] = naive[bi]
            rows.append(row)
    return {"service": service, "fmt": fmt, "rows": rows, "name": f"{_slug(service)}.{fmt}",
            "with_problem": with_problem, "with_baseline": with_baseline}


def write_crowd_reports(world: World, ledger: Ledger) -> None:
    for day in world.days:
        files = [_file_spec(world, day, si, provider) for si, provider in enumerate(PROVIDERS)]
        bad = _plan_bad(world, day, files)
        for spec in files:
            _write_file(ledger, world.shift.day(day), spec, bad.get(spec["name"], []))


def _plan_bad(world: World, day: dt.date, files: list[dict]) -> dict[str, list[tuple[int, dict, str]]]:
    """A few malformed rows a week: (position among good rows, row to damage, kind) per file."""
    r = rng_for(world.seed, S_MALFORMED, 200, day.toordinal())
    out: dict[str, list[tuple[int, dict, str]]] = {}
    for _ in range(int(r.poisson(0.45))):
        spec = files[int(r.integers(0, len(files)))]
        kinds = ["negative_count", "ts_without_offset", "missing_service", "reports_not_integer"]
        if spec["fmt"] != "csv":
            kinds.append("bad_json")
        kind = kinds[int(r.integers(0, len(kinds)))]
        position = int(r.integers(0, len(spec["rows"]) + 1))
        source_row = dict(spec["rows"][int(r.integers(0, len(spec["rows"])))])
        source_row["_neg"] = -int(r.integers(1, 6))
        out.setdefault(spec["name"], []).append((position, source_row, kind))
    return out


def _damaged(row: dict, kind: str) -> dict:
    bad = {k: v for k, v in row.items() if not k.startswith("_")}
    if kind == "negative_count":
        bad["reports"] = row["_neg"]
    elif kind == "ts_without_offset":
        bad["timestamp"] = row["_naive"]
    elif kind == "missing_service":
        bad.pop("service")
    elif kind == "reports_not_integer":
        bad["reports"] = "n/a"
    return bad


def _fast_json(row: dict, columns: list[str]) -> str:
    """The same text json.dumps(separators=(",", ":")) gives for a good row (plain ASCII values)."""
    parts = [(f'"timestamp":"{row["timestamp"]}","service":"{row["service"]}","country":"{row["country"]}",'
              f'"reports":{row["reports"]}')]
    if "problem_type" in columns:
        value = row["problem_type"]
        parts.append(',"problem_type":null' if value is None else f',"problem_type":"{value}"')
    if "baseline" in columns:
        parts.append(f',"baseline":{row["baseline"]!r}')
    return "{" + "".join(parts) + "}"


def _write_file(ledger: Ledger, folder_day: dt.date, spec: dict, bad: list[tuple[int, dict, str]]) -> None:
    """One service's file in raw/crowd_reports/<folder_day>/ (the written, shifted day)."""
    rows = spec["rows"]
    columns = ["timestamp", "service", "country", "reports"]
    if spec["with_problem"]:
        columns.append("problem_type")
    if spec["with_baseline"]:
        columns.append("baseline")
    if spec["fmt"] == "csv":
        def fmt(row: dict) -> str:
            return ",".join("" if row.get(c) is None else str(row[c]) for c in columns)

        header = [",".join(columns)]
        lines = [fmt(row) for row in rows]
        bad_lines = [(pos, fmt(_damaged(row, kind)), kind) for pos, row, kind in bad]
        first = 2
    else:
        def fmt(row: dict) -> str:
            return json.dumps({c: row[c] for c in columns if c in row}, separators=(",", ":"))

        header = []
        lines = [_fast_json(row, columns) for row in rows]
        bad_lines = []
        for pos, row, kind in bad:
            text = fmt(_damaged(row, kind))
            bad_lines.append((pos, text[: len(text) // 2] if kind == "bad_json" else text, kind))
        first = 1
    body, marks = insert_bad_lines(lines, bad_lines, first_line=first)
    rel = ledger.write(SOURCE, (SOURCE, folder_day.isoformat(), spec["name"]), "\n".join(header + body) + "\n",
                       len(body))
    for line_no, kind in marks:
        ledger.mark_bad(SOURCE, rel, line_no - first + 1, kind, line_no)
