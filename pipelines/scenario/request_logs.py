"""Our gateway's request logs: raw/request_logs/<YYYY-MM-DD>/...

Per day: `anthropic.jsonl` and `openai.jsonl` (ts with Z / +00:00), `google.csv` (provider written `gemini`
on some days, both names map to google in the config), `gateway-access.log.gz` (~8 % of all requests in
Apache/Nginx combined log format with the provider's path prefix and the request time in seconds) and on
Sundays `api.openai.com-access.log` (a host-named combined log, no prefix). Every request row appears once.

Volume follows `TrafficModel.rate_per_minute` (Poisson per minute) times `scale`; statuses mix 200, 429 (our
quota), 529 (Anthropic overloaded; 503 for the others), 500 and 504 timeouts; each vendor incident raises the
error probability of the affected capability's endpoints, and Anthropic's 529 ratio follows its load 6 h later.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np

from pipelines.scenario.output import Ledger, insert_bad_lines
from pipelines.scenario.timeline import (
    DAY_S,
    PROVIDER_CODE,
    PROVIDERS,
    REGIONS,
    S_MALFORMED,
    S_REQUESTS,
    World,
    day_start,
    epoch_s,
    migration_factor,
    rng_for,
)

SOURCE = "request_logs"
CAPS = ("api", "coding_agent", "consumer_app")
CAP_SHARE = (0.85, 0.08, 0.07)
GATEWAY_SHARE = 0.08
HOST_LOG_SHARE = 0.04
TIMEOUT_MS = 60_000.0

# endpoint, share within the capability, kind (gen: generates tokens, count/embed/batch: no output, auth: login)
ENDPOINTS = {
    "anthropic": {
        "api": (("/v1/messages", 0.90, "gen"), ("/v1/messages/count_tokens", 0.07, "count"),
                ("/v1/messages/batches", 0.03, "batch")),
        "coding_agent": (("/v1/claude_code/messages", 0.75, "gen"), ("/v1/oauth/token", 0.25, "auth")),
        "consumer_app": (("/api/chat_conversations/completion", 0.70, "gen"), ("/api/auth/session", 0.30, "auth")),
    },
    "openai": {
        "api": (("/v1/chat/completions", 0.55, "gen"), ("/v1/responses", 0.35, "gen"), ("/v1/embeddings", 0.10, "embed")),
        "coding_agent": (("/backend-api/codex/responses", 0.75, "gen"), ("/oauth/token", 0.25, "auth")),
        "consumer_app": (("/backend-api/conversation", 0.70, "gen"), ("/api/auth/session", 0.30, "auth")),
    },
    "google": {
        "api": (("/v1beta/models/{model}:generateContent", 0.60, "gen"),
                ("/v1beta/models/{model}:streamGenerateContent", 0.30, "gen"),
                ("/v1beta/models/text-embedding-004:embedContent", 0.10, "embed")),
        "coding_agent": (("/v1internal:streamGenerateContent", 0.75, "gen"), ("/v1internal:loadCodeAssist", 0.25, "auth")),
        "consumer_app": (("/_/BardChatUi/data/batchexecute", 1.0, "gen"),),
    },
}
EMBED_MODEL = {"openai": "text-embedding-3-small", "google": "text-embedding-004", "anthropic": "claude-haiku-4-5-20251001"}
# (first day, [(model, share)]) per provider
MODEL_MIX = {
    "anthropic": ((dt.date(2025, 1, 1), (("claude-sonnet-4-5-20250929", 0.5), ("claude-haiku-4-5-20251001", 0.3),
                                         ("claude-opus-4-5-20251101", 0.2))),
                  (dt.date(2026, 2, 5), (("claude-sonnet-4-5-20250929", 0.45), ("claude-haiku-4-5-20251001", 0.3),
                                         ("claude-opus-4-6", 0.25))),
                  (dt.date(2026, 2, 17), (("claude-sonnet-4-6", 0.5), ("claude-haiku-4-5-20251001", 0.25),
                                          ("claude-opus-4-6", 0.25)))),
    "openai": ((dt.date(2025, 1, 1), (("gpt-5.1", 0.45), ("gpt-5-mini", 0.35), ("gpt-4.1-mini", 0.2))),
               (dt.date(2025, 12, 11), (("gpt-5.2", 0.45), ("gpt-5-mini", 0.35), ("gpt-4.1-mini", 0.2)))),
    "google": ((dt.date(2025, 1, 1), (("gemini-2.5-flash", 0.55), ("gemini-2.5-pro", 0.2), ("gemini-3-pro-preview", 0.25))),
               (dt.date(2025, 12, 17), (("gemini-3-flash-preview", 0.35), ("gemini-2.5-flash", 0.35),
                                        ("gemini-3-pro-preview", 0.3)))),
}
ERROR_TYPE = {
    "anthropic": {529: "overloaded_error", 500: "api_error", 429: "rate_limit_error", 504: "timeout"},
    "openai": {503: "service_unavailable", 500: "server_error", 429: "rate_limit_exceeded", 504: "timeout"},
    "google": {503: "UNAVAILABLE", 500: "INTERNAL", 429: "RESOURCE_EXHAUSTED", 504: "timeout"},
}
OVERLOAD_STATUS = {"anthropic": 529, "openai": 503, "google": 503}
USER_AGENT = {
    ("anthropic", "api"): "anthropic-sdk-python/0.76.0", ("anthropic", "coding_agent"): "claude-cli/2.1.29 (external, cli)",
    ("anthropic", "consumer_app"): "Claude/1.260227 CFNetwork/3826.500.131 Darwin/24.5.0",
    ("openai", "api"): "OpenAI/Python 2.14.0", ("openai", "coding_agent"): "codex_cli_rs/0.98.0",
    ("openai", "consumer_app"): "ChatGPT/1.2026.055 (iOS 18.6; iPhone16,2; build 1740)",
    ("google", "api"): "google-genai-sdk/1.58.0 gl-python/3.12.8", ("google", "coding_agent"): "GeminiCLI/0.27.0",
    ("google", "consumer_app"): "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def endpoint_capability() -> dict[str, dict[str, str]]:
    """provider -> endpoint (with `{model}` placeholders) -> capability."""
    return {p: {e: cap for cap, items in caps.items() for e, _, _ in items} for p, caps in ENDPOINTS.items()}


def _model_mix(provider: str, day: dt.date) -> tuple[tuple[str, float], ...]:
    mix = MODEL_MIX[provider][0][1]
    for first, models in MODEL_MIX[provider]:
        if day >= first:
            mix = models
    return mix


def _speed(model: str) -> tuple[float, float]:
    """(median time to first token in ms, output tokens per second)."""
    if any(k in model for k in ("opus", "-pro", "gpt-5.2", "gpt-5.1")):
        return 1400.0, 50.0
    if any(k in model for k in ("haiku", "mini", "flash")):
        return 480.0, 140.0
    return 900.0, 75.0


class _Rows:
    """Column arrays of one provider's requests for one day."""

    def __init__(self, world: World, provider: str, day: dt.date):
        self.provider = provider
        r = rng_for(world.seed, S_REQUESTS, PROVIDER_CODE[provider], day.toordinal())
        t0 = epoch_s(day_start(day))
        minutes = t0 + 60 * np.arange(DAY_S // 60)
        traffic = world.traffic
        counts = r.poisson(traffic.rate_per_minute(provider, minutes + 30) * world.scale)
        n = int(counts.sum())
        ts_ms = np.sort(np.repeat(minutes, counts) * 1000 + r.integers(0, 60_000, n))
        t = ts_ms // 1000
        self.ts_ms = ts_ms
        self.n = n

        cap = r.choice(len(CAPS), size=n, p=CAP_SHARE)
        endpoint = np.empty(n, dtype=object)
        kind = np.empty(n, dtype=object)
        for ci, cap_name in enumerate(CAPS):
            items = ENDPOINTS[provider][cap_name]
            mask = cap == ci
            pick = r.choice(len(items), size=int(mask.sum()), p=[s for _, s, _ in items])
            endpoint[mask] = np.array([e for e, _, _ in items], dtype=object)[pick]
            kind[mask] = np.array([k for _, _, k in items], dtype=object)[pick]
        mix = _model_mix(provider, day)
        model = np.array([m for m, _ in mix], dtype=object)[r.choice(len(mix), size=n, p=[w for _, w in mix])]
        model = np.where(kind == "embed", EMBED_MODEL[provider], model)
        if provider == "google":
            endpoint = np.array([e.replace("{model}", m) for e, m in zip(endpoint.tolist(), model.tolist())],
                                dtype=object)

        # clients: Zipf over everyone active, plus a share from the clients that arrived this week
        plan = world.clients
        k_day = (day - plan.world_start).days
        first = plan.first_day[provider]
        active = np.flatnonzero(first <= k_day)
        fresh = np.flatnonzero((first > 0) & (first <= k_day) & (first > k_day - 7))
        q_new = min(0.5 if provider == "anthropic" else 0.2, 0.01 * len(fresh))
        weights = 1.0 / np.arange(1, len(active) + 1)
        client = active[r.choice(len(active), size=n, p=weights / weights.sum())]
        if len(fresh):
            from_new = r.random(n) < q_new
            client = np.where(from_new, fresh[r.integers(0, len(fresh), n)], client)
        self.client = client
        self.client_id = np.array(plan.ids[provider], dtype=object)[client]
        self.region = np.array(REGIONS, dtype=object)[plan.regions[provider][client]]

        # statuses
        p_timeout = np.full(n, 0.0012)
        mig = migration_factor(provider, t)
        p_429 = 0.008 + 0.01 * np.clip(mig - 1.0, 0.0, 4.0)
        p_over = traffic.anthropic_529_prob(t) if provider == "anthropic" else np.full(n, 0.003)
        p_500 = np.full(n, 0.0015)
        latency_factor = np.ones(n)
        lo, hi = t0, t0 + DAY_S
        for inc in world.incidents[provider]:
            for eff in inc.effects:
                a, b = epoch_s(eff.start), epoch_s(eff.end)
                if b <= lo or a >= hi or eff.capability not in CAPS:
                    continue
                mask = (cap == CAPS.index(eff.capability)) & (t >= a) & (t < b)
                if not mask.any():
                    continue
                ramp = np.clip((t[mask] - a) / 60.0 / eff.ramp_minutes, 0.0, 1.0) if eff.ramp_minutes else 1.0
                extra = eff.error_prob * ramp
                p_over[mask] += extra * eff.overload_share
                p_500[mask] += extra * (1.0 - eff.overload_share)
                latency_factor[mask] *= eff.latency_factor
                if eff.latency_factor >= 2.0:
                    p_timeout[mask] += 0.01
        total = p_timeout + p_429 + p_over + p_500
        shrink = np.where(total > 0.97, 0.97 / total, 1.0)
        u = r.random(n)
        c1 = p_timeout * shrink
        c2 = c1 + p_429 * shrink
        c3 = c2 + p_over * shrink
        c4 = c3 + p_500 * shrink
        status = np.select([u < c1, u < c2, u < c3, u < c4], [504, 429, OVERLOAD_STATUS[provider], 500], 200)
        self.status = status
        self.cap = cap
        self.endpoint = endpoint
        self.model = model

        # tokens and latency
        tokens_in = np.clip(np.rint(r.lognormal(math.log(1800), 1.1, n)), 1, 200_000).astype(np.int64)
        tokens_out = np.clip(np.rint(r.lognormal(math.log(380), 0.9, n)), 1, 32_000).astype(np.int64)
        tokens_in = np.where(kind == "batch", tokens_in * 20, tokens_in)
        tokens_out = np.where(np.isin(kind, ["count", "embed", "batch", "auth"]), 0, tokens_out)
        tokens_in = np.where(kind == "auth", 0, tokens_in)
        ok = status == 200
        tokens_out = np.where(ok, tokens_out, 0)
        speeds = {m: _speed(m) for m in set(model.tolist())}
        ttft = np.array([speeds[m][0] for m in model.tolist()])
        tps = np.array([speeds[m][1] for m in model.tolist()])
        gen_ms = ttft * r.lognormal(0.0, 0.35, n) + tokens_out / tps * 1000.0 * r.lognormal(0.0, 0.2, n)
        quick = {"count": 120.0, "embed": 140.0, "batch": 300.0, "auth": 180.0}
        quick_ms = np.array([quick.get(k, 0.0) for k in kind.tolist()]) * r.lognormal(0.0, 0.4, n)
        latency = np.where(kind == "gen", gen_ms, quick_ms) * latency_factor
        err_ms = r.lognormal(math.log(350), 0.6, n)
        latency = np.where(ok, latency, err_ms)
        latency = np.where(status == 429, r.lognormal(math.log(25), 0.4, n), latency)
        latency = np.where(status == 504, TIMEOUT_MS + r.uniform(0, 50, n), latency)
        self.latency_ms = np.round(latency, 1)
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.route = r.random(n)  # which file carries the row
        self.extra = r.random(n)  # spare uniform for byte counts


def _iso_ms(ts_ms: np.ndarray) -> list[str]:
    return np.datetime_as_string(ts_ms.astype("datetime64[ms]"), unit="ms").tolist()


def _clf_time(iso: str) -> str:
    # 2026-03-02T11:49:12.345 -> 02/Mar/2026:11:49:12 +0000
    return f"{iso[8:10]}/{_MONTHS[int(iso[5:7]) - 1]}/{iso[0:4]}:{iso[11:19]} +0000"


def _json_line(ts: str, provider: str, model: str, endpoint: str, status: object, latency: float, tin: int,
               tout: int, client: str, region: str, error: str | None) -> str:
    row = {"ts": ts, "provider": provider, "model": model, "endpoint": endpoint, "status": status,
           "latency_ms": latency, "tokens_in": tin, "tokens_out": tout, "client_id": client, "region": region}
    if error:
        row["error_type"] = error
    return json.dumps(row, separators=(",", ":"))


CSV_COLUMNS = ("ts", "provider", "model", "endpoint", "status", "latency_ms", "tokens_in", "tokens_out", "client_id",
               "region", "error_type")


def write_request_logs(world: World, ledger: Ledger) -> None:
    for day in world.days:
        _write_day(world, ledger, day)


def _write_day(world: World, ledger: Ledger, day: dt.date) -> None:
    ordinal = day.toordinal()
    main: dict[str, tuple[str, list[str], int]] = {}  # file name -> (kind, lines, first line no)
    gateway: list[tuple[int, str]] = []
    host_lines: list[tuple[int, str]] = []
    host_name = None
    for provider in PROVIDERS:
        setup = world.setup.providers[provider]
        rows = _Rows(world, provider, day)
        iso = _iso_ms(rows.ts_ms)
        errors = ERROR_TYPE[provider]
        status = rows.status.tolist()
        fields = zip(iso, rows.model.tolist(), rows.endpoint.tolist(), status, rows.latency_ms.tolist(),
                     rows.tokens_in.tolist(), rows.tokens_out.tolist(), rows.client_id.tolist(),
                     rows.region.tolist(), rows.route.tolist(), rows.cap.tolist(), rows.extra.tolist(),
                     rows.client.tolist())
        prefix = setup.path_prefixes[0].rstrip("/") if setup.path_prefixes else None
        sunday_host = provider == "openai" and day.weekday() == 6 and bool(setup.hosts)
        if sunday_host:
            host_name = f"{setup.hosts[0]}-access.log"
        log_name = setup.log_names[0]
        if provider == "google" and len(setup.log_names) > 1 and ordinal % 5 == 0:
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
        name = f"{provider}.csv" if csv else f"{provider}.jsonl"
        main[name] = ("csv" if csv else "jsonl", lines, 2 if csv else 1)
    files: dict[str, tuple[str, list[str], int]] = dict(main)
    if gateway:
        files["gateway-access.log.gz"] = ("log", [line for _, line in sorted(gateway)], 1)
    if host_name and host_lines:
        files[host_name] = ("log", [line for _, line in sorted(host_lines)], 1)
    bad = _plan_bad(world, day, files)
    for name, (kind, lines, first) in files.items():
        body, marks = insert_bad_lines(lines, bad.get(name, []), first_line=first)
        header = [",".join(CSV_COLUMNS)] if kind == "csv" else []
        rel = ledger.write(SOURCE, (SOURCE, day.isoformat(), name), "\n".join(header + body) + "\n", len(body))
        for line_no, bad_kind in marks:
            ledger.mark_bad(SOURCE, rel, line_no - first + 1, bad_kind, line_no)


def _clf(provider: str, k: int, client: str, iso: str, path: str, status: int, tokens_out: int, extra: float,
         latency_ms: float, cap: int) -> str:
    code = PROVIDER_CODE[provider]
    ip = f"10.{code * 16 + (k >> 16) % 16}.{(k >> 8) % 256}.{k % 256}"
    size = tokens_out * 4 + 350 if status == 200 else 120 + int(extra * 180)
    agent = USER_AGENT[(provider, CAPS[cap])]
    return (f'{ip} - {client} [{_clf_time(iso)}] "POST {path} HTTP/1.1" {status} {size} "-" "{agent}" '
            f"{latency_ms / 1000:.3f}")


def _plan_bad(world: World, day: dt.date, files: dict[str, tuple[str, list[str], int]]) -> dict[
        str, list[tuple[int, str, str]]]:
    """A few malformed lines a week: (position among the good lines, text, kind) per file."""
    r = rng_for(world.seed, S_MALFORMED, 300, day.toordinal())
    names = [n for n, (_, lines, _) in files.items() if lines]
    out: dict[str, list[tuple[int, str, str]]] = {}
    for _ in range(int(r.poisson(0.6)) if names else 0):
        name = names[int(r.integers(0, len(names)))]
        kind, lines, _ = files[name]
        source = lines[int(r.integers(0, len(lines)))]
        position = int(r.integers(0, len(lines) + 1))
        if kind == "jsonl":
            bad_kind = ("bad_json", "status_not_integer", "missing_ts", "ts_without_offset")[int(r.integers(0, 4))]
            if bad_kind == "bad_json":
                text = source[: len(source) // 2]
            else:
                row = json.loads(source)
                if bad_kind == "status_not_integer":
                    row["status"] = "abc"
                elif bad_kind == "missing_ts":
                    row.pop("ts")
                else:
                    row["ts"] = row["ts"].replace("Z", "").replace("+00:00", "")
                text = json.dumps(row, separators=(",", ":"))
        elif kind == "csv":
            cells = source.split(",")
            bad_kind = ("status_not_integer", "missing_ts", "ts_without_offset")[int(r.integers(0, 3))]
            if bad_kind == "status_not_integer":
                cells[4] = "abc"
            elif bad_kind == "missing_ts":
                cells[0] = ""
            else:
                cells[0] = cells[0].replace("+00:00", "")
            text = ",".join(cells)
        else:
            bad_kind = "truncated_line"
            text = source[: source.index("[") + 12]
        out.setdefault(name, []).append((position, text, bad_kind))
    return out
