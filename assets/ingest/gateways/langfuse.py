"""Langfuse observations: the generations of a Langfuse project, as the public API returns them
(`GET /api/public/observations`, pages `{"data": [...], "meta": {...}}`) or as JSONL, one per line.

Only observations of type GENERATION are model calls; spans and events are not requests and are
skipped. Fields used: startTime, endTime, model, usageDetails.input / .output (older: usage.input /
.output), level and statusMessage, userId. Langfuse records no HTTP code: a generation at level ERROR
takes the code its statusMessage quotes (the provider SDKs write "Error code: 529 - {...}"), any
other generation completed (200). An ERROR without a code is refused, never counted as a success.
"""

from __future__ import annotations

import re

from assets.ingest.gateways.fields import (
    ProviderFor,
    Unmappable,
    count,
    elapsed_ms,
    http_status,
    provider_key,
    request,
    text,
    utc_iso,
)

NAME = "langfuse_observations"
READER = "json"
_CODE = re.compile(r"(?i)\b(?:error code|status code|status)\s*[:=]?\s*(\d{3})\b")
_ERROR_TYPE = re.compile(r"""['"]type['"]\s*:\s*['"]([A-Za-z_]+_error)['"]""")


def matches(head: str, name: str) -> bool:
    return all(f'"{key}"' in head for key in ("traceId", "startTime", "type"))


def _usage(row: dict, side: str) -> object:
    for block in ("usageDetails", "usage"):
        usage = row.get(block)
        if isinstance(usage, dict) and usage.get(side) is not None:
            return usage.get(side)
    return None


def _status(row: dict) -> tuple[int, str | None]:
    if text(row.get("level")) != "ERROR":
        return 200, None
    message = text(row.get("statusMessage")) or ""
    code = _CODE.search(message)
    if code is None:
        raise Unmappable("statusMessage", f"an ERROR generation with no HTTP code in {message[:80]!r}")
    error_type = _ERROR_TYPE.search(message)
    return http_status(code.group(1), "statusMessage"), error_type.group(1) if error_type else "error"


def to_row(row: dict, provider_for: ProviderFor) -> dict | None:
    if text(row.get("type")) != "GENERATION":
        return None
    ts = utc_iso(row.get("startTime"), "startTime")
    status, error_type = _status(row)
    model = text(row.get("model"))
    return request(
        ts=ts,
        provider=provider_key(provider_for, model),
        model=model,
        endpoint=None,
        status=status,
        latency_ms=elapsed_ms(ts, row.get("endTime"), "endTime"),
        tokens_in=count(_usage(row, "input"), "usageDetails.input"),
        tokens_out=count(_usage(row, "output"), "usageDetails.output"),
        client_id=text(row.get("userId")),
        region=None,
        error_type=error_type,
    )
