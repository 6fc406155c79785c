"""LiteLLM proxy spend logs: rows of the `LiteLLM_SpendLogs` table, as `/spend/logs` returns them.

One row per call through the proxy (JSON lines, a JSON array or an API page `{"data": [...]}`):
request_id, call_type, startTime, endTime, model, model_group, custom_llm_provider, api_base, user,
end_user, prompt_tokens, completion_tokens, status ('success' / 'failure') and metadata, whose
error_information carries the upstream HTTP code (error_code) and error_class of a failed call.
The table's times are `timestamp(3) without time zone`, which Prisma always writes in UTC, so a time
without an offset is read as UTC.
"""

from __future__ import annotations

import json

from assets.ingest.gateways.fields import (
    ProviderFor,
    Unmappable,
    count,
    elapsed_ms,
    http_status,
    provider_key,
    request,
    text,
    url_host_path,
    utc_iso,
)

NAME = "litellm_spend_logs"
READER = "json"


def matches(head: str, name: str) -> bool:
    return all(f'"{key}"' in head for key in ("request_id", "call_type", "startTime"))


def _metadata(row: dict) -> dict:
    metadata = row.get("metadata")
    if isinstance(metadata, str):  # some exports (raw queries, CSV dumps) keep the JSON column as text
        try:
            metadata = json.loads(metadata)
        except ValueError:
            raise Unmappable("metadata", "not valid JSON") from None
    return metadata if isinstance(metadata, dict) else {}


def _status(row: dict, error: dict) -> int:
    outcome = text(row.get("status")) or "success"
    if outcome == "success":
        return 200
    if outcome != "failure":
        raise Unmappable("status", f"{outcome[:40]!r} is neither 'success' nor 'failure'")
    return http_status(error.get("error_code"), "metadata.error_information.error_code")


def to_row(row: dict, provider_for: ProviderFor) -> dict:
    ts = utc_iso(row.get("startTime"), "startTime", naive_is_utc=True)
    metadata = _metadata(row)
    error = metadata.get("error_information") if isinstance(metadata.get("error_information"), dict) else {}
    status = _status(row, error)
    model = text(row.get("model")) or text(row.get("model_group"))
    api_host, _ = url_host_path(row.get("api_base"))
    return request(
        ts=ts,
        provider=provider_key(provider_for, row.get("custom_llm_provider"), error.get("llm_provider"),
                              api_host, model),
        model=model,
        endpoint=text(metadata.get("user_api_key_request_route")) or text(row.get("call_type")),
        status=status,
        latency_ms=elapsed_ms(ts, row.get("endTime"), "endTime", naive_is_utc=True),
        tokens_in=count(row.get("prompt_tokens"), "prompt_tokens"),
        tokens_out=count(row.get("completion_tokens"), "completion_tokens"),
        client_id=text(row.get("end_user")) or text(row.get("user")) or text(row.get("team_id")),
        region=None,
        error_type=text(error.get("error_class")) if status >= 400 else None,
    )
