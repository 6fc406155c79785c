"""AWS Application Load Balancer access logs: space-separated entries, quoted where a field may hold spaces:

type time elb client:port target:port request_processing_time target_processing_time
response_processing_time elb_status_code target_status_code received_bytes sent_bytes "request"
"user_agent" ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name" "chosen_cert_arn"
matched_rule_priority request_creation_time "actions_executed" "redirect_url" "error_reason" ...

ts is request_creation_time (when the balancer received the request; `time`, the response time, for
entries without it); status the balancer's elb_status_code; latency the sum of the three processing
times in seconds, unknown when one is -1 (the request never reached a target or the connection
closed); error_reason the error type; the region comes from the target group's ARN.
"""

from __future__ import annotations

import re

from assets.ingest.gateways.fields import (
    ProviderFor,
    Unmappable,
    aws_region,
    http_status,
    number,
    provider_key,
    request,
    route_name,
    text,
    url_host_path,
    utc_iso,
)

NAME = "aws_alb"
READER = "lines"
_FIELDS = (
    "type", "time", "elb", "client", "target", "request_processing_time", "target_processing_time",
    "response_processing_time", "elb_status_code", "target_status_code", "received_bytes", "sent_bytes",
    "request", "user_agent", "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
    "chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed", "redirect_url",
    "error_reason",
)
_MIN_FIELDS = _FIELDS.index("request") + 1
_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')
_FIRST = re.compile(r"^(?:http|https|h2|grpcs|ws|wss) \d{4}-\d\d-\d\dT\S+ \S+ ")
_TIMINGS = ("request_processing_time", "target_processing_time", "response_processing_time")


def matches(head: str, name: str) -> bool:
    return _FIRST.match(head.lstrip("\ufeff")) is not None


def _entry(line: str) -> dict:
    values = [quoted if quoted or plain == "" else plain for quoted, plain in _TOKEN.findall(line)]
    if line.count('"') % 2:
        raise Unmappable("line", "unbalanced quotes: not a whole ALB entry (truncated?)")
    if len(values) < _MIN_FIELDS:
        raise Unmappable("line", f"{len(values)} fields where an ALB entry has at least {_MIN_FIELDS} (truncated?)")
    return dict(zip(_FIELDS, values, strict=False))


def _latency_ms(entry: dict) -> float | None:
    timings = [number(entry[name], name) for name in _TIMINGS]
    if any(t is None or t < 0 for t in timings):
        return None  # -1: not dispatched to a target, or the connection closed before the response
    return round(sum(timings) * 1000.0, 3)


def to_row(line: str, provider_for: ProviderFor) -> dict:
    entry = _entry(line)
    received = text(entry.get("request_creation_time"))
    ts = utc_iso(received, "request_creation_time") if received else utc_iso(entry["time"], "time")
    status = http_status(entry["elb_status_code"], "elb_status_code")
    request_line = entry["request"].split(" ")
    host, path = url_host_path(request_line[1] if len(request_line) >= 2 else None)
    return request(
        ts=ts,
        provider=provider_key(provider_for, entry.get("domain_name"), host, route_name(path)),
        model=None,
        endpoint=path,
        status=status,
        latency_ms=_latency_ms(entry),
        tokens_in=None,
        tokens_out=None,
        client_id=text(entry["client"].rsplit(":", 1)[0]),
        region=aws_region(entry.get("target_group_arn")),
        error_type=text(entry.get("error_reason")),
    )
