"""Our gateway's request logs: raw/request_logs/<YYYY-MM-DD>/...

Per day: `anthropic.jsonl` and `openai.jsonl` (ts with Z / +00:00), `google.csv` (provider written `gemini`
on some days, both names map to google in the config), `gateway-access.log.gz` (~8 % of all requests in
Apache/Nginx combined log format with the provider's path prefix and the request time in seconds) and on
Sundays `api.openai.com-access.log` (a host-named combined log, no prefix). Every request row appears once.
The rows themselves come from request_rows.py.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np

from pipelines.scenario.gateway_catalog import CAPS, error_types, user_agent
from pipelines.scenario.output import Ledger, insert_bad_lines
from pipelines.scenario.providers import PROVIDER_CODE, PROVIDERS
from pipelines.scenario.request_rows import sample_requests
from pipelines.scenario.rng import S_MALFORMED, rng_for
from pipelines.scenario.world import World

SOURCE = "request_logs"
GATEWAY_SHARE = 0.08
HOST_LOG_SHARE = 0.04
CSV_COLUMNS = ("ts", "provider", "model", "endpoint", "status", "latency_ms", "tokens_in", "tokens_out", "client_id",
               "region", "error_type")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Files = dict[str, tuple[str, list[str], int]]  # file name -> (kind, lines, file line number of lines[0])


def _iso_ms(ts_ms: np.ndarray) -> list[str]:
    return np.datetime_as_string(ts_ms.astype("datetime64[ms]"), unit="ms").tolist()


def _clf_time(iso: str) -> str:
    # 2026-03-02T11:49:12.345 -> 02/Mar/2026:11:49:12 +0000
    return f"{iso[8:10]}/{_MONTHS[int(iso[5:7]) - 1]}/{iso[0:4]}:{iso[11:19]} +0000"


def _clf(provider: str, k: int, client: str, iso: str, path: str, status: int, tokens_out: int, extra: float,
         latency_ms: float, cap: int) -> str:
    code = PROVIDER_CODE[provider]
    ip = f"10.{code * 16 + (k >> 16) % 16}.{(k >> 8) % 256}.{k % 256}"
    size = tokens_out * 4 + 350 if status == 200 else 120 + int(extra * 180)
    agent = user_agent(provider, CAPS[cap])
    return (f'{ip} - {client} [{_clf_time(iso)}] "POST {path} HTTP/1.1" {status} {size} "-" "{agent}" '
            f"{latency_ms / 1000:.3f}")


def _provider_lines(world: World, provider: str, day: dt.date, gateway: list[tuple[str, str]],
                    host_lines: list[tuple[str, str]]) -> tuple[str, str, list[str]]:
    """(file name, kind, lines) of the provider's own log; routes some rows to the gateway and host logs."""
    setup = world.setup.providers[provider]
    rows = sample_requests(world, provider, day)
    errors = error_types(provider)
    written_ts_ms = rows.ts_ms + world.shift.seconds * 1000
    fields = zip(_iso_ms(written_ts_ms), rows.model.tolist(), rows.endpoint.tolist(), rows.status.tolist(),
                 rows.latency_ms.tolist(), rows.tokens_in.tolist(), rows.tokens_out.tolist(),
                 rows.client_id.tolist(), rows.region.tolist(), rows.route.tolist(), rows.cap.tolist(),
                 rows.extra.tolist(), rows.client.tolist())
    prefix = setup.path_prefixes[0].rstrip("/") if setup.path_prefixes else None
    sunday_host = provider == "openai" and day.weekday() == 6 and bool(setup.hosts)
    log_name = setup.log_names[0]
    if provider == "google" and len(setup.log_names) > 1 and day.toordinal() % 5 == 0:
        log_name = setup.log_names[1]
    lines: list[str] = []
    suffix = "Z" if provider == "anthropic" else "+00:00"
    csv = provider == "google"
    for ts, model, endpoint, st, lat, tin, tout, client, region, route, cap, extra, k in fields:
        if prefix and route < GATEWAY_SHARE:
            gateway.append((ts, _clf(provider, k, client, ts, prefix + endpoint, st, tout, extra, lat, cap)))
            continue
        if sunday_host and route < GATEWAY_SHARE + HOST_LOG_SHARE:
            host_lines.append((ts, _clf(provider, k, client, ts, endpoint, st, tout, extra, lat, cap)))
            continue
        err = errors.get(st)
        if csv:
            lines.append(f"{ts}+00:00,{log_name},{model},{endpoint},{st},{lat},{tin},{tout},{client},{region},"
                         f"{err or ''}")
        else:
            err_part = f',"error_type":"{err}"' if err else ""
            lines.append(f'{{"ts":"{ts}{suffix}","provider":"{log_name}","model":"{model}",'
                         f'"endpoint":"{endpoint}","status":{st},"latency_ms":{lat},"tokens_in":{tin},'
                         f'"tokens_out":{tout},"client_id":"{client}","region":"{region}"{err_part}}}')
    return (f"{provider}.csv", "csv", lines) if csv else (f"{provider}.jsonl", "jsonl", lines)


def _write_day(world: World, ledger: Ledger, day: dt.date) -> None:
    files: Files = {}
    gateway: list[tuple[str, str]] = []
    host_lines: list[tuple[str, str]] = []
    for provider in PROVIDERS:
        name, kind, lines = _provider_lines(world, provider, day, gateway, host_lines)
        files[name] = (kind, lines, 2 if kind == "csv" else 1)
    if gateway:
        files["gateway-access.log.gz"] = ("log", [line for _, line in sorted(gateway)], 1)
    openai = world.setup.providers["openai"]
    if host_lines:  # only on Sundays, when the config names an OpenAI host
        files[f"{openai.hosts[0]}-access.log"] = ("log", [line for _, line in sorted(host_lines)], 1)
    bad = _plan_bad(world, day, files)
    for name, (kind, lines, first) in files.items():
        body, marks = insert_bad_lines(lines, bad.get(name, []), first_line=first)
        header = [",".join(CSV_COLUMNS)] if kind == "csv" else []
        rel = ledger.write(SOURCE, (SOURCE, world.shift.day_iso(day), name), "\n".join(header + body) + "\n",
                           len(body))
        for line_no, bad_kind in marks:
            ledger.mark_bad(SOURCE, rel, line_no - first + 1, bad_kind, line_no)


def write_request_logs(world: World, ledger: Ledger) -> None:
    for day in world.days:
        _write_day(world, ledger, day)


def _damaged_line(r: np.random.Generator, kind: str, source: str) -> tuple[str, str]:
    """(text, bad kind): a broken copy of a good line of a file of this kind."""
    if kind == "jsonl":
        bad_kind = ("bad_json", "status_not_integer", "missing_ts", "ts_without_offset")[int(r.integers(0, 4))]
        if bad_kind == "bad_json":
            return source[: len(source) // 2], bad_kind
        row = json.loads(source)
        if bad_kind == "status_not_integer":
            row["status"] = "abc"
        elif bad_kind == "missing_ts":
            row.pop("ts")
        else:
            row["ts"] = row["ts"].replace("Z", "").replace("+00:00", "")
        return json.dumps(row, separators=(",", ":")), bad_kind
    if kind == "csv":
        cells = source.split(",")
        bad_kind = ("status_not_integer", "missing_ts", "ts_without_offset")[int(r.integers(0, 3))]
        if bad_kind == "status_not_integer":
            cells[4] = "abc"
        elif bad_kind == "missing_ts":
            cells[0] = ""
        else:
            cells[0] = cells[0].replace("+00:00", "")
        return ",".join(cells), bad_kind
    return source[: source.index("[") + 12], "truncated_line"


def _plan_bad(world: World, day: dt.date, files: Files) -> dict[str, list[tuple[int, str, str]]]:
    """A few malformed lines a week: (position among the good lines, text, kind) per file."""
    r = rng_for(world.seed, S_MALFORMED, 300, day.toordinal())
    names = [n for n, (_, lines, _) in files.items() if lines]
    out: dict[str, list[tuple[int, str, str]]] = {}
    for _ in range(int(r.poisson(0.6)) if names else 0):
        name = names[int(r.integers(0, len(names)))]
        kind, lines, _ = files[name]
        source = lines[int(r.integers(0, len(lines)))]
        position = int(r.integers(0, len(lines) + 1))
        text, bad_kind = _damaged_line(r, kind, source)
        out.setdefault(name, []).append((position, text, bad_kind))
    return out
