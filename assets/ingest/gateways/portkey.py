"""Portkey logs export: the JSONL file of a Portkey log export (one request per line).

Columns used (Portkey's "Exported Data" list): created_at, ai_org (the provider), ai_model,
req_units / res_units (tokens in / out), request_url (the final provider URL), response_status_code,
response_time (milliseconds), metadata (its `_user` is the end user) and response.body (error type).
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

NAME = "portkey"
READER = "json"


def matches(head: str, name: str) -> bool:
    return '"response_status_code"' in head and ('"ai_org"' in head or '"req_units"' in head)


def _response_body(row: dict) -> object:
    response = row.get("response")
    return response.get("body") if isinstance(response, dict) else row.get("response.body")


def to_row(row: dict, provider_for: ProviderFor) -> dict:
    ts = utc_iso(row.get("created_at"), "created_at")
    status = http_status(row.get("response_status_code"), "response_status_code")
    model = text(row.get("ai_model"))
    host, path = url_host_path(row.get("request_url"))
    metadata = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    return request(
        ts=ts,
        provider=provider_key(provider_for, row.get("ai_org"), host, model),
        model=model,
        endpoint=path,
        status=status,
        latency_ms=duration_ms(row.get("response_time"), "response_time", unit_ms=1.0),
        tokens_in=count(row.get("req_units"), "req_units"),
        tokens_out=count(row.get("res_units"), "res_units"),
        client_id=text(metadata.get("_user")),
        region=None,
        error_type=body_error_type(_response_body(row)) if status >= 400 else None,
    )
