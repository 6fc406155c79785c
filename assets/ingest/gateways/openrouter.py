"""OpenRouter activity export: the CSV of generations downloaded from openrouter.ai/activity.

Columns: generation_id, created_at (UTC, written without an offset: '2026-06-28 03:46:57.713'),
cost_total, ..., tokens_prompt, tokens_completion, tokens_reasoning, tokens_cached, model_permaslug,
provider_name, variant, cancelled, streamed, user, finish_reason_raw, finish_reason_normalized,
generation_time_ms, time_to_first_token_ms, app_name, api_key_name. The export lists generations that
were served, with no HTTP code: a served one is 200, one the client cancelled 499 (client closed the
request, error_type 'cancelled') and one that ended in an error 502 (error_type 'error').
"""

from __future__ import annotations

from assets.ingest.gateways.fields import (
    ProviderFor,
    count,
    duration_ms,
    provider_key,
    request,
    text,
    utc_iso,
)

NAME = "openrouter_activity"
READER = "csv"
_TRUE = ("true", "1", "yes")


def matches(head: str, name: str) -> bool:
    header = head.lstrip("\ufeff").split("\n", 1)[0]
    return "generation_id" in header and "model_permaslug" in header


def _outcome(row: dict) -> tuple[int, str | None]:
    if (text(row.get("cancelled")) or "").lower() in _TRUE:
        return 499, "cancelled"
    if (text(row.get("finish_reason_normalized")) or "").lower() == "error":
        return 502, "error"
    return 200, None


def to_row(row: dict, provider_for: ProviderFor) -> dict:
    status, error_type = _outcome(row)
    model = text(row.get("model_permaslug"))
    return request(
        ts=utc_iso(row.get("created_at"), "created_at", naive_is_utc=True),
        provider=provider_key(provider_for, row.get("provider_name"), model),
        model=model,
        endpoint=None,
        status=status,
        latency_ms=duration_ms(row.get("generation_time_ms"), "generation_time_ms", unit_ms=1.0),
        tokens_in=count(row.get("tokens_prompt"), "tokens_prompt"),
        tokens_out=count(row.get("tokens_completion"), "tokens_completion"),
        client_id=text(row.get("api_key_name")) or text(row.get("user")),
        region=None,
        error_type=error_type,
    )
