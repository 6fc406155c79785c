"""Synthetic gateway request logs for the benchmark: raw/request_logs/<YYYY-MM-DD>/ in a temp data dir.

Fast (vectorised numpy, written by Polars' Rust writers, gzip at level 1) and realistic enough for the
engines to do real work:
- providers anthropic 45 %, openai 35 %, google 20 %; three models and three endpoints each;
- ts: ISO 8601 with milliseconds and `Z`, sorted within a file (gateways log in time order), with a
  day/night cycle, over `days` UTC days starting 2026-03-01;
- status: 200 mostly, 429 (our quota) 1 %, overloaded (529 for Anthropic, 503 for the others) 0.4 %,
  500/502 0.4 %, timeouts (504, 408) 0.2 %, 400 0.3 %; on 2026-03-02 11:45-14:30 UTC Anthropic is
  overloaded (25 % 529s, 5 % 500s), like the real outage;
- error_type: the provider's error class for non-2xx rows, null otherwise;
- latency_ms: lognormal per model (median 0.4-2.5 s), ~30 ms for 429s, ~60 s for timeouts;
- tokens_in / tokens_out: lognormal whole numbers (tokens_out 0 on errors);
- client_id: heavy-tailed over 5,000 clients (u**3); region: the client's home region (6 regions).

Each day holds four files of equal size, one per variant: `gw-eu-1.jsonl`, `gw-us-1.csv`,
`gw-us-2.jsonl.gz`, `gw-ap-1.csv.gz`. Provider values are the config keys (anthropic, openai, google),
so the raw engines, which do not map provider aliases, produce the same values as the pipeline.
`malformed_copy()` writes a day's files again with a given share of lines broken (for the exact path).
"""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import numpy as np
import polars as pl

START_DAY = dt.date(2026, 3, 1)
FILES = (  # name, format, gzip
    ("gw-eu-1.jsonl", "jsonl", False),
    ("gw-us-1.csv", "csv", False),
    ("gw-us-2.jsonl.gz", "jsonl", True),
    ("gw-ap-1.csv.gz", "csv", True),
)
GZIP_LEVEL = 1

PROVIDERS = ("anthropic", "openai", "google")
PROVIDER_SHARE = (0.45, 0.35, 0.20)
MODELS = {  # (model, share, median latency ms)
    "anthropic": (
        ("claude-sonnet-4-6", 0.5, 1400.0),
        ("claude-haiku-4-5-20251001", 0.25, 450.0),
        ("claude-opus-4-6", 0.25, 2500.0),
    ),
    "openai": (("gpt-5.2", 0.45, 2200.0), ("gpt-5-mini", 0.35, 600.0), ("gpt-4.1-mini", 0.2, 500.0)),
    "google": (
        ("gemini-3-flash-preview", 0.35, 400.0),
        ("gemini-2.5-flash", 0.35, 450.0),
        ("gemini-3-pro-preview", 0.3, 1900.0),
    ),
}
ENDPOINTS = {
    "anthropic": (
        ("/v1/messages", 0.90),
        ("/v1/messages/count_tokens", 0.07),
        ("/v1/messages/batches", 0.03),
    ),
    "openai": (("/v1/chat/completions", 0.55), ("/v1/responses", 0.35), ("/v1/embeddings", 0.10)),
    "google": (
        ("/v1beta/models:generateContent", 0.60),
        ("/v1beta/models:streamGenerateContent", 0.30),
        ("/v1beta/models:embedContent", 0.10),
    ),
}
OVERLOAD = {"anthropic": 529, "openai": 503, "google": 503}
ERROR_TYPE = {
    "anthropic": {
        529: "overloaded_error",
        500: "api_error",
        502: "api_error",
        429: "rate_limit_error",
        504: "timeout",
        408: "request_timeout",
        400: "invalid_request_error",
    },
    "openai": {
        503: "service_unavailable",
        500: "server_error",
        502: "server_error",
        429: "rate_limit_exceeded",
        504: "timeout",
        408: "timeout",
        400: "invalid_request_error",
    },
    "google": {
        503: "UNAVAILABLE",
        500: "INTERNAL",
        502: "INTERNAL",
        429: "RESOURCE_EXHAUSTED",
        504: "DEADLINE_EXCEEDED_timeout",
        408: "timeout",
        400: "INVALID_ARGUMENT",
    },
}
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-northeast-1", "ap-southeast-2")
N_CLIENTS = 5_000
# The 2 March outage: Anthropic overloaded from 11:45 to 14:30 UTC.
INCIDENT_DAY = dt.date(2026, 3, 2)
INCIDENT_MS = ((11 * 60 + 45) * 60_000, (14 * 60 + 30) * 60_000)
DAY_MS = 86_400_000


def _diurnal_ms(rng: np.random.Generator, n: int) -> np.ndarray:
    """n sorted millisecond offsets in a day, busier in the (UTC) afternoon than at night."""
    grid = np.linspace(0.0, 1.0, 1441)
    density = 1.0 + 0.6 * np.sin(2 * np.pi * (grid - 0.375))  # peak around 15:00 UTC
    cdf = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2)])
    cdf /= cdf[-1]
    t = np.interp(rng.random(n), cdf, grid)
    return np.sort(np.minimum((t * DAY_MS).astype(np.int64), DAY_MS - 1))


def _iso_ms(day: dt.date, ms: np.ndarray) -> pl.Series:
    """'2026-03-01T11:49:03.123Z' for millisecond offsets in `day`, digit by digit (chrono is 3x slower)."""
    text = np.empty((len(ms), 24), dtype=np.uint8)
    text[:] = np.frombuffer(f"{day.isoformat()}T00:00:00.000Z".encode(), dtype=np.uint8)
    seconds = ms // 1000
    for start, width, values in (
        (11, 2, seconds // 3600),
        (14, 2, seconds // 60 % 60),
        (17, 2, seconds % 60),
        (20, 3, ms % 1000),
    ):
        for k in range(width):
            text[:, start + width - 1 - k] = 48 + (values // 10**k) % 10
    return pl.Series(text.view("S24").ravel()).cast(pl.String)


def _pick(rng: np.random.Generator, shares: list[float], n: int) -> np.ndarray:
    return rng.choice(len(shares), size=n, p=np.asarray(shares) / sum(shares)).astype(np.int32)


def request_frame(day: dt.date, n: int, seed: int) -> pl.DataFrame:
    """n request rows of one UTC day, in time order, with the raw-format columns (ts as text)."""
    rng = np.random.default_rng(seed)
    ms = _diurnal_ms(rng, n)
    provider = _pick(rng, list(PROVIDER_SHARE), n)

    # model and endpoint: a per-provider pick, flattened into one vocabulary (provider * 3 + choice)
    model = np.empty(n, dtype=np.int32)
    endpoint = np.empty(n, dtype=np.int32)
    median_ms = np.empty(n)
    for p, name in enumerate(PROVIDERS):
        mask = provider == p
        k = int(mask.sum())
        m = _pick(rng, [s for _, s, _ in MODELS[name]], k)
        model[mask] = p * 3 + m
        median_ms[mask] = np.array([lat for _, _, lat in MODELS[name]])[m]
        endpoint[mask] = p * 3 + _pick(rng, [s for _, s in ENDPOINTS[name]], k)

    # status: sequential thresholds on one uniform draw; the overload share rises in the incident window
    u = rng.random(n)
    p_over = np.full(n, 0.004)
    p_500 = np.full(n, 0.003)
    if day == INCIDENT_DAY:
        hit = (provider == 0) & (ms >= INCIDENT_MS[0]) & (ms < INCIDENT_MS[1])
        p_over[hit], p_500[hit] = 0.25, 0.05
    overload = np.array([OVERLOAD[p] for p in PROVIDERS])[provider]
    edges = [0.010, p_over, p_500, 0.001, 0.0015, 0.0005, 0.003]
    codes = [429, overload, 500, 502, 504, 408, 400]
    cum = np.zeros(n)
    conditions, choices = [], []
    for edge, code in zip(edges, codes, strict=True):
        cum = cum + edge
        conditions.append(u < cum)
        choices.append(code)
    status = np.select(conditions, choices, 200).astype(np.int32)

    latency = rng.lognormal(np.log(median_ms), 0.6)
    latency = np.where(status == 429, rng.lognormal(np.log(30.0), 0.3, n), latency)
    latency = np.where(np.isin(status, (504, 408)), 60_000.0 + rng.random(n) * 500, latency)
    latency = np.round(latency, 1)
    tokens_in = np.clip(rng.lognormal(7.0, 1.2, n), 1, 200_000).astype(np.int64)
    tokens_out = np.where(status == 200, np.clip(rng.lognormal(5.5, 1.0, n), 1, 64_000), 0).astype(np.int64)

    client = (N_CLIENTS * rng.random(n) ** 3).astype(np.int64)  # heavy-tailed: a few clients send most
    home_region = np.random.default_rng(7).integers(0, len(REGIONS), N_CLIENTS)  # fixed per client

    def vocab(values, idx) -> pl.Series:
        return pl.Series(list(values), dtype=pl.String).gather(pl.Series(idx, dtype=pl.UInt32))

    error_key = provider.astype(np.int64) * 1000 + status
    error_vocab = {
        p * 1000 + code: et for p, name in enumerate(PROVIDERS) for code, et in ERROR_TYPE[name].items()
    }
    return pl.DataFrame(
        {
            "ts": _iso_ms(day, ms),
            "provider": vocab(PROVIDERS, provider),
            "model": vocab([m for p in PROVIDERS for m, _, _ in MODELS[p]], model),
            "endpoint": vocab([e for p in PROVIDERS for e, _ in ENDPOINTS[p]], endpoint),
            "status": status,
            "latency_ms": latency,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "client_id": vocab([f"client-{i:05d}" for i in range(N_CLIENTS)], client),
            "region": vocab(REGIONS, home_region[client]),
            "error_type": pl.Series(error_key).replace_strict(
                list(error_vocab), list(error_vocab.values()), default=None, return_dtype=pl.String
            ),
        }
    )


def write_file(frame: pl.DataFrame, path: Path, fmt: str, compressed: bool) -> None:
    options = {"compression": "gzip", "compression_level": GZIP_LEVEL} if compressed else {}
    if fmt == "jsonl":
        frame.write_ndjson(path, **options)
    else:
        frame.write_csv(path, **options)


def generate(data_dir: Path, rows: int, days: int = 3, seed: int = 20260302) -> dict:
    """Write `rows` request rows over `days` days under data_dir/raw/request_logs; return a manifest."""
    data_dir = Path(data_dir)
    day_list = [START_DAY + dt.timedelta(days=i) for i in range(days)]
    per_file = _split(rows, days * len(FILES))
    files, total_bytes = [], 0
    for d, day in enumerate(day_list):
        day_dir = data_dir / "raw" / "request_logs" / day.isoformat()
        day_dir.mkdir(parents=True, exist_ok=True)
        for f, (name, fmt, compressed) in enumerate(FILES):
            n = per_file[d * len(FILES) + f]
            path = day_dir / name
            write_file(request_frame(day, n, seed + d * 100 + f), path, fmt, compressed)
            size = path.stat().st_size
            total_bytes += size
            files.append({"path": path.relative_to(data_dir).as_posix(), "rows": n, "bytes": size})
    return {
        "rows": rows,
        "days": [d.isoformat() for d in day_list],
        "files": files,
        "bytes": total_bytes,
    }


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _broken(line: bytes, fmt: str, kind: int) -> bytes:
    """One of four realistic breakages: cut short, status not a number, ts without offset, unknown provider."""
    if kind == 0:
        return line[: max(len(line) // 2, 1)]
    if fmt == "jsonl":
        if kind == 1:
            return line.replace(b'"status":', b'"status":"abc","was":', 1)
        if kind == 2:
            return line.replace(b'Z"', b'"', 1)
        return line.replace(b'"provider":"', b'"provider":"acme-', 1)
    fields = line.split(b",")
    if kind == 1:
        fields[4] = b"abc"
    elif kind == 2:
        fields[0] = fields[0].rstrip(b"Z")
    else:
        fields[1] = b"acme-" + fields[1]
    return b",".join(fields)


def malformed_copy(src_day_dir: Path, dst_day_dir: Path, share: float = 1e-4, seed: int = 1) -> dict:
    """Copy a day's files to dst_day_dir with `share` of each file's data lines broken; returns counts."""
    rng = np.random.default_rng(seed)
    dst_day_dir.mkdir(parents=True, exist_ok=True)
    broken_total, lines_total = 0, 0
    for src in sorted(src_day_dir.iterdir()):
        compressed = src.name.endswith(".gz")
        fmt = "csv" if ".csv" in src.name else "jsonl"
        data = gzip.decompress(src.read_bytes()) if compressed else src.read_bytes()
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        starts = np.concatenate([[0], ends[:-1] + 1])
        first = 1 if fmt == "csv" else 0  # never the CSV header
        n_lines = len(ends) - first
        k = max(1, round(n_lines * share))
        chosen = np.sort(rng.choice(np.arange(first, len(ends)), size=k, replace=False))
        pieces, pos = [], 0
        for i, line_idx in enumerate(chosen):
            s, e = int(starts[line_idx]), int(ends[line_idx])
            pieces += [data[pos:s], _broken(data[s:e], fmt, i % 4)]
            pos = e
        pieces.append(data[pos:])
        out = b"".join(pieces)
        dst = dst_day_dir / src.name
        if compressed:
            with gzip.open(dst, "wb", compresslevel=GZIP_LEVEL) as fh:
                fh.write(out)
        else:
            dst.write_bytes(out)
        broken_total += k
        lines_total += n_lines
    return {"rows": lines_total, "broken_lines": broken_total, "share": share}
