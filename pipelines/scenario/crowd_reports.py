"""Downdetector-style exports: raw/crowd_reports/<YYYY-MM-DD>/<service>.csv|.jsonl|.jsonl.gz

One row per 5-minute bucket, service and country (every bucket, zero reports included). The baseline follows
local daily and weekly cycles and the provider's user growth; every vendor incident adds a bump (smaller than
the planted ones), and the planted outages hit their exact per-country peaks (US 4,780 on 2 March at 12:35 UTC).
Formats rotate by day and service: CSV, JSONL or gzipped JSONL, timestamps in UTC (Z or +00:00), -08:00 or
+05:30 (always inside the folder's UTC day), optional `problem_type` and `baseline` columns.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np

from pipelines.scenario.output import Ledger, insert_bad_lines
from pipelines.scenario.timeline import (
    DAY_S,
    MIGRATION_MULTIPLIER_48H,
    PROVIDER_CODE,
    PROVIDERS,
    S_CROWD,
    S_MALFORMED,
    Incident,
    World,
    anthropic_trend,
    day_start,
    epoch_s,
    local_activity,
    migration_factor,
    rng_for,
)

SOURCE = "crowd_reports"
BUCKET_S = 300
CROWD_BASE = {  # median reports per 5 minutes at the daily mean, 1 Dec 2025
    "anthropic": {"us": 6.0, "in": 2.5, "gb": 1.8, "de": 1.2, "sg": 0.6},
    "openai": {"us": 14.0, "in": 7.0, "gb": 4.0, "de": 3.0, "sg": 1.2},
    "google": {"us": 4.0, "in": 3.0, "gb": 1.2, "de": 0.9, "sg": 0.5},
}
COUNTRY_SHARE = {"us": 1.0, "in": 0.30, "gb": 0.20, "de": 0.14, "sg": 0.08}
UTC_OFFSET_H = {"us": -6.0, "gb": 0.0, "de": 1.0, "in": 5.5, "sg": 8.0}
PEAK_SHIFT_MIN = {"us": 0, "in": 5, "gb": 0, "de": 5, "sg": -5}
PROBLEMS = ("login", "app", "website", "api")
PROBLEM_WEIGHTS = {"anthropic": (0.25, 0.35, 0.30, 0.10), "openai": (0.25, 0.35, 0.30, 0.10),
                   "google": (0.15, 0.45, 0.30, 0.10)}
OFFSETS = (("Z", 0), ("+00:00", 0), ("-08:00", -8 * 3600), ("+05:30", 5 * 3600 + 1800))
FORMATS = ("csv", "jsonl", "jsonl.gz")
NB_SHAPE = 5.0  # negative-binomial dispersion of the baseline reports


def _slug(service: str) -> str:
    return "-".join(service.lower().split())


def _growth(provider: str, t: np.ndarray) -> np.ndarray:
    if provider == "anthropic":  # more users -> more reports; the migration wave doubles and a half it
        return anthropic_trend(t) * (1.0 + 0.375 * (migration_factor("anthropic", t) - 1.0)
                                     * 4.0 / (MIGRATION_MULTIPLIER_48H - 1.0))
    return migration_factor(provider, t)


def baseline(provider: str, country: str, t: np.ndarray) -> np.ndarray:
    """Expected reports per 5-minute bucket without any incident."""
    local = t + UTC_OFFSET_H.get(country, 0.0) * 3600
    hour = (local % DAY_S) / 3600.0
    weekday = ((local // DAY_S).astype(np.int64) + 3) % 7
    weekly = np.where(weekday >= 5, 0.85, 1.0)
    base = CROWD_BASE[provider].get(country, 1.0)
    return base * local_activity(hour) * weekly * _growth(provider, t)


def _bump(inc: Incident, country: str, t: np.ndarray) -> np.ndarray:
    crowd = inc.crowd
    if crowd is None:
        return np.zeros(len(t))
    xs = np.array([k for k, _ in crowd.keyframes], dtype=np.float64)
    ys = np.array([v for _, v in crowd.keyframes], dtype=np.float64)
    minutes = (t - epoch_s(crowd.start)) / 60.0
    if crowd.country_peaks is not None:
        shape = np.interp(minutes - PEAK_SHIFT_MIN.get(country, 0), xs, ys, left=0.0, right=0.0)
        return shape * crowd.country_peaks.get(country, 0.0)
    local_hour = ((t + UTC_OFFSET_H.get(country, 0.0) * 3600) % DAY_S) / 3600.0
    awake = 0.4 + 0.6 * local_activity(local_hour)
    shape = np.interp(minutes, xs, ys, left=0.0, right=0.0)
    return shape * crowd.peak_us * COUNTRY_SHARE.get(country, 0.1) * awake


def _day_rows(world: World, provider: str, day: dt.date) -> dict[str, np.ndarray]:
    """Counts, baselines and problem types for every (bucket, country) of one service and day."""
    r = rng_for(world.seed, S_CROWD, PROVIDER_CODE[provider], day.toordinal())
    countries = world.setup.countries
    t0 = epoch_s(day_start(day))
    t = t0 + BUCKET_S * np.arange(DAY_S // BUCKET_S)
    window = (t0 - 6 * 3600, t0 + DAY_S)
    incidents = [i for i in world.incidents[provider] if i.crowd is not None
                 and epoch_s(i.started_at) - 3600 < window[1] and epoch_s(i.ended_at) + 6 * 3600 > window[0]]
    counts = np.zeros((len(t), len(countries)), dtype=np.int64)
    base = np.zeros((len(t), len(countries)))
    problem = np.empty((len(t), len(countries)), dtype=object)
    weights = np.array(PROBLEM_WEIGHTS[provider])
    for ci, country in enumerate(countries):
        mu = baseline(provider, country, t)
        base[:, ci] = mu
        lam = r.gamma(NB_SHAPE, mu / NB_SHAPE)
        n = r.poisson(lam)
        ordinary = np.zeros(len(t))
        planted_part = np.zeros(len(t))
        planted_peak = None
        incident_problem = np.full(len(t), None, dtype=object)
        for inc in incidents:
            b = _bump(inc, country, t)
            if inc.crowd.country_peaks is not None:
                planted_part += b
                if b.max() > 0:
                    planted_peak = (int(np.argmax(b)), round(inc.crowd.country_peaks.get(country, 0.0)))
            else:
                ordinary += b
            incident_problem = np.where(b > mu, inc.crowd.problem_type, incident_problem)
        n = n + r.poisson(ordinary * r.lognormal(0.0, 0.1, len(t)))
        jitter = np.rint(planted_part * r.normal(1.0, 0.06, len(t))).astype(np.int64)
        n = n + np.maximum(jitter, 0)
        if planted_peak is not None:
            k, peak = planted_peak
            n = np.minimum(n, int(np.floor(0.985 * peak)))  # the planted bucket stays the day's maximum
            n[k] = peak
        counts[:, ci] = n
        drawn = np.array(PROBLEMS, dtype=object)[r.choice(len(PROBLEMS), size=len(t), p=weights)]
        chosen = np.where(incident_problem != None, incident_problem, drawn)
        problem[:, ci] = np.where(n > 0, chosen, None)
    return {"t": t, "counts": counts, "baseline": base, "problem": problem}


def _timestamps(t: np.ndarray, offset: tuple[str, int], naive: bool = False) -> list[str]:
    suffix, seconds = offset
    text = np.datetime_as_string((t + seconds).astype("datetime64[s]"), unit="s")
    return [s if naive else s + suffix for s in text.tolist()]


def write_crowd_reports(world: World, ledger: Ledger) -> None:
    countries = world.setup.countries
    for day in world.days:
        ordinal = day.toordinal()
        files: list[dict] = []
        for si, provider in enumerate(PROVIDERS):
            service = world.setup.providers[provider].crowd_service
            data = _day_rows(world, provider, day)
            fmt = FORMATS[(ordinal + si) % 3]
            offset = OFFSETS[(ordinal + 2 * si) % 4]
            with_problem = (ordinal + si) % 2 == 0
            with_baseline = ordinal % 3 != 1
            stamps = _timestamps(data["t"], offset)
            naive = _timestamps(data["t"], offset, naive=True)
            rows = []
            for bi in range(len(data["t"])):
                for ci, country in enumerate(countries):
                    row = {"timestamp": stamps[bi], "service": service, "country": country,
                           "reports": int(data["counts"][bi, ci])}
                    if with_problem:
                        row["problem_type"] = data["problem"][bi, ci]
                    if with_baseline:
                        row["baseline"] = round(float(data["baseline"][bi, ci]), 1)
                    row["_naive"] = naive[bi]
                    rows.append(row)
            files.append({"service": service, "fmt": fmt, "rows": rows,
                          "name": f"{_slug(service)}.{fmt}", "with_problem": with_problem,
                          "with_baseline": with_baseline})
        bad = _plan_bad(world, day, files)
        for spec in files:
            _write_file(ledger, day, spec, bad.get(spec["name"], []))


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


def _write_file(ledger: Ledger, day: dt.date, spec: dict, bad: list[tuple[int, dict, str]]) -> None:
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
    rel = ledger.write(SOURCE, (SOURCE, day.isoformat(), spec["name"]), "\n".join(header + body) + "\n", len(body))
    for line_no, kind in marks:
        ledger.mark_bad(SOURCE, rel, line_no - first + 1, kind, line_no)
