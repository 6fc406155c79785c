"""Envoy access logs in Envoy's default format (the format used when none is configured):

[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"

'-' marks an empty value. DURATION (ms, start to last byte) is the latency, RESPONSE_FLAGS (UF, UT,
UH, ...) the error type; the provider comes from :authority, the upstream host or the route's first
path segment. RESPONSE_CODE 0 (no response was sent) is not an HTTP code and is refused.
"""

from __future__ import annotations

import re

from assets.ingest.gateways.fields import (
    ProviderFor,
    Unmappable,
    duration_ms,
    http_status,
    provider_key,
    request,
    route_name,
    text,
    url_host_path,
    utc_iso,
)

NAME = "envoy"
READER = "lines"
_LINE = re.compile(
    r'^\[(?P<start_time>[^\]]*)\] "(?P<method>\S*) (?P<path>\S*) (?P<protocol>[^"]*)" '
    r"(?P<response_code>\S+) (?P<response_flags>\S+) (?P<bytes_received>\S+) (?P<bytes_sent>\S+) "
    r"(?P<duration>\S+) (?P<upstream_service_time>\S+) "
    r'"(?P<x_forwarded_for>[^"]*)" "(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)" '
    r'"(?P<authority>[^"]*)" "(?P<upstream_host>[^"]*)"'
)


def matches(head: str, name: str) -> bool:
    return _LINE.match(head.lstrip("\ufeff").split("\n", 1)[0]) is not None


def to_row(line: str, provider_for: ProviderFor) -> dict:
    fields = _LINE.match(line)
    if fields is None:
        raise Unmappable("line", "not an Envoy default-format access log line (truncated or another format?)")
    ts = utc_iso(fields["start_time"], "START_TIME")
    status = http_status(fields["response_code"], "RESPONSE_CODE")
    path = url_host_path(text(fields["path"]))[1]
    authority = url_host_path(text(fields["authority"]))[0]
    upstream = url_host_path(text(fields["upstream_host"]))[0]
    forwarded_for = text((text(fields["x_forwarded_for"]) or "").split(",")[0])
    return request(
        ts=ts,
        provider=provider_key(provider_for, authority, upstream, route_name(path)),
        model=None,
        endpoint=path,
        status=status,
        latency_ms=duration_ms(fields["duration"], "DURATION", unit_ms=1.0),
        tokens_in=None,
        tokens_out=None,
        client_id=forwarded_for,
        region=None,
        error_type=text(fields["response_flags"]),
    )
