"""OpenTelemetry GenAI spans in OTLP JSON (the collector's file exporter: one ExportTraceServiceRequest
`{"resourceSpans": [...]}` per line; a pretty-printed request is read too).

A span is a model call when it carries `gen_ai.*` attributes (semantic conventions for generative
AI); other spans are not requests and are skipped. Mapped: startTimeUnixNano (ts), end - start
(latency), gen_ai.provider.name / gen_ai.system / server.address / the model (provider),
gen_ai.request.model, gen_ai.usage.input_tokens / output_tokens, http.response.status_code,
error.type, url.path or gen_ai.operation.name (endpoint), the resource's service.name (client) and
cloud.region. Without http.response.status_code a span that ended without error is a served request
(200); a failed one takes error.type when that is an HTTP code, else it is refused.
"""

from __future__ import annotations

from collections.abc import Iterator

from assets.ingest.gateways.fields import (
    ProviderFor,
    Unmappable,
    aws_region,
    count,
    http_status,
    provider_key,
    request,
    text,
    url_host_path,
    utc_from_epoch,
)

NAME = "otel_genai"
READER = "json"
_STATUS_ERROR = (2, "STATUS_CODE_ERROR")
_SCALARS = ("stringValue", "intValue", "doubleValue", "boolValue")


def matches(head: str, name: str) -> bool:
    return '"resourceSpans"' in head or ('"scopeSpans"' in head and '"spans"' in head)


def attributes(items: object) -> dict:
    """OTLP's [{"key": k, "value": {"stringValue": v}}] -> {k: v} (scalar values only)."""
    found = {}
    for item in items if isinstance(items, list) else []:
        value = item.get("value") if isinstance(item, dict) else None
        if isinstance(value, dict):
            for kind in _SCALARS:
                if kind in value:
                    found[str(item.get("key"))] = value[kind]
                    break
    return found


def units(document: dict) -> Iterator[tuple[object, object]]:
    """Each span with its resource's attributes; a request holds resourceSpans, an element is one."""
    for resource_span in _listed(document.get("resourceSpans", document)):
        if not isinstance(resource_span, dict):
            yield {"span": resource_span, "resource": {}}, resource_span
            continue
        resource = resource_span.get("resource")
        resource_attributes = attributes(resource.get("attributes")) if isinstance(resource, dict) else {}
        for scope_span in _listed(resource_span.get("scopeSpans")):
            spans = scope_span.get("spans") if isinstance(scope_span, dict) else scope_span
            for span in _listed(spans):
                yield {"span": span, "resource": resource_attributes}, span


def _listed(value: object) -> list:
    """An OTLP repeated field: its list; a lone value stands for itself (and is refused as a span if bad)."""
    return value if isinstance(value, list) else [] if value is None else [value]


def _nanos(span: dict, field: str) -> int:
    value = span.get(field)
    if text(value) is None:
        raise Unmappable(field, "missing (every request needs its time)")
    try:
        return int(str(value))
    except ValueError:
        raise Unmappable(field, f"{str(value)[:40]!r} is not a whole number of nanoseconds") from None


def _latency_ms(start: int, end: int) -> float:
    if end < start:
        raise Unmappable("endTimeUnixNano", "is before startTimeUnixNano")
    return round((end - start) / 1e6, 3)


def _status(span: dict, attrs: dict) -> int:
    if "http.response.status_code" in attrs:
        return http_status(attrs["http.response.status_code"], "http.response.status_code")
    error_type = text(attrs.get("error.type"))
    if error_type is not None and error_type.isdigit():
        return http_status(error_type, "error.type")
    status = span.get("status") if isinstance(span.get("status"), dict) else {}
    if error_type is not None or status.get("code") in _STATUS_ERROR:
        raise Unmappable("http.response.status_code",
                         f"missing on a failed span (error.type {error_type!r}): its HTTP outcome is unknown")
    return 200


def to_row(unit: dict, provider_for: ProviderFor) -> dict | None:
    span, resource = unit["span"], unit["resource"]
    if not isinstance(span, dict):
        raise Unmappable("span", f"expected an object, got {type(span).__name__}")
    attrs = attributes(span.get("attributes"))
    if not any(key.startswith("gen_ai.") for key in attrs):
        return None
    start = _nanos(span, "startTimeUnixNano")
    end = _nanos(span, "endTimeUnixNano") if text(span.get("endTimeUnixNano")) else None
    model = text(attrs.get("gen_ai.request.model")) or text(attrs.get("gen_ai.response.model"))
    host = text(attrs.get("server.address"))
    _, path = url_host_path(attrs.get("url.full"))
    return request(
        ts=utc_from_epoch(start / 1e9),
        provider=provider_key(provider_for, attrs.get("gen_ai.provider.name"), attrs.get("gen_ai.system"),
                              host, model),
        model=model,
        endpoint=path or text(attrs.get("url.path")) or text(attrs.get("gen_ai.operation.name")),
        status=_status(span, attrs),
        latency_ms=None if end is None else _latency_ms(start, end),
        tokens_in=count(attrs.get("gen_ai.usage.input_tokens", attrs.get("gen_ai.usage.prompt_tokens")),
                        "gen_ai.usage.input_tokens"),
        tokens_out=count(attrs.get("gen_ai.usage.output_tokens", attrs.get("gen_ai.usage.completion_tokens")),
                         "gen_ai.usage.output_tokens"),
        client_id=text(resource.get("service.name")),
        region=text(resource.get("cloud.region")) or aws_region(host),
        error_type=text(attrs.get("error.type")),
    )
