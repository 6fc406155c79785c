"""Helicone request export: `HeliconeRequest` objects, as `npx @helicone/export` writes them (JSONL or
a JSON array) and the `/v1/request/query` API returns them (`{"data": [...]}`).

Fields used: request_created_at, response_status, delay_ms, prompt_tokens, completion_tokens,
model / response_model / request_model, provider (upper case, e.g. OPENAI), target_url,
request_path, request_user_id and, when bodies are included, response_body.error.type.
"""

from __future__ import annotations

from assets.ingest.gateways.fields import (
    ProviderFor,
    body_error_type,
    count,
    duration_ms,
    http_status,
    provider_key,
    request,
    text,
    url_host_path,
    utc_iso,
)

NAME = "helicone"
READER = "json"


def matches(head: str, name: str) -> bool:
    return '"request_created_at"' in head and '"response_status"' in head


def to_row(row: dict, provider_for: ProviderFor) -> dict:
    ts = utc_iso(row.get("request_created_at"), "request_created_at")
    status = http_status(row.get("response_status"), "response_status")
    model = text(row.get("model")) or text(row.get("response_model")) or text(row.get("request_model"))
    target_host, _ = url_host_path(row.get("target_url"))
    _, path = url_host_path(row.get("request_path"))
    return request(
        ts=ts,
        provider=provider_key(provider_for, row.get("provider"), target_host, model),
        model=model,
        endpoint=path,
        status=status,
        latency_ms=duration_ms(row.get("delay_ms"), "delay_ms", unit_ms=1.0),
        tokens_in=count(row.get("prompt_tokens"), "prompt_tokens"),
        tokens_out=count(row.get("completion_tokens"), "completion_tokens"),
        client_id=text(row.get("request_user_id")),
        region=None,
        error_type=body_error_type(row.get("response_body")) if status >= 400 else None,
    )
