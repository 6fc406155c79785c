"""nginx JSON access logs: one JSON object per line, written by a `log_format ... escape=json` of
nginx variables. The layout is the operator's, so the usual variable names are read:

time: time_iso8601, else time_local (02/Mar/2026:11:49:03 +0000), else msec (epoch seconds);
status; request_time (seconds, else upstream_response_time); request ('POST /v1/messages HTTP/1.1')
or request_uri / uri (endpoint); proxy_host, upstream host, host / http_host or the route's first path
segment (provider); remote_addr / http_x_forwarded_for (client); optional model.
"""

from __future__ import annotations

import json

from assets.ingest.gateways.fields import (
    ProviderFor,
    Unmappable,
    duration_ms,
    http_status,
    number,
    provider_key,
    request,
    route_name,
    text,
    url_host_path,
    utc_from_access_log,
    utc_from_epoch,
    utc_iso,
)

NAME = "nginx_json"
READER = "json"
_TIME_KEYS = ("time_iso8601", "time_local", "msec")


def matches(head: str, name: str) -> bool:
    try:
        first = json.loads(head.lstrip("\ufeff").split("\n", 1)[0])
    except ValueError:
        return False
    return (isinstance(first, dict) and "status" in first and "latency_ms" not in first
            and any(key in first for key in _TIME_KEYS)
            and any(key in first for key in ("request", "request_uri", "uri", "request_time")))


def _ts(row: dict) -> str:
    if text(row.get("time_iso8601")) is not None:
        return utc_iso(row["time_iso8601"], "time_iso8601")
    if text(row.get("time_local")) is not None:
        return utc_from_access_log(row["time_local"], "time_local")
    seconds = number(row.get("msec"), "msec")
    if seconds is None:
        blamed = next((key for key in _TIME_KEYS if key in row), "time_iso8601")
        raise Unmappable(blamed, "missing (every request needs its time: time_iso8601, time_local or msec)")
    return utc_from_epoch(seconds)


def _path(row: dict) -> str | None:
    request_line = (text(row.get("request")) or "").split(" ")
    target = request_line[1] if len(request_line) >= 2 else text(row.get("request_uri")) or text(row.get("uri"))
    return url_host_path(target)[1]


def _latency_ms(row: dict) -> float | None:
    if text(row.get("request_time")) is not None:
        return duration_ms(row["request_time"], "request_time")
    upstream = (text(row.get("upstream_response_time")) or "").split(",")[-1]  # the last upstream tried
    return duration_ms(upstream, "upstream_response_time")


def to_row(row: dict, provider_for: ProviderFor) -> dict:
    ts = _ts(row)
    status = http_status(row.get("status"), "status")
    path = _path(row)
    upstream_host = url_host_path((text(row.get("upstream_addr")) or "").split(",")[-1].strip())[0]
    model = text(row.get("model"))
    return request(
        ts=ts,
        provider=provider_key(provider_for, row.get("proxy_host"), upstream_host, row.get("host"),
                              row.get("http_host"), route_name(path), model),
        model=model,
        endpoint=path,
        status=status,
        latency_ms=_latency_ms(row),
        tokens_in=None,
        tokens_out=None,
        client_id=text((text(row.get("http_x_forwarded_for")) or "").split(",")[0]) or text(row.get("remote_addr")),
        region=None,
        error_type=None,
    )
