"""Our request-log columns, and the typed conversions every gateway format shares.

A conversion either returns the value in our terms or raises `Unmappable(field, why)`, which the
dispatcher turns into a refused record with the reason 'field: why'. Missing optional values are None,
never a guess: a request without a token count has tokens_in null, not 0.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from urllib.parse import urlsplit

# The columns of one canonical request, in the order the request-log ingest reads them.
COLUMNS = (
    "ts", "provider", "model", "endpoint", "status", "latency_ms",
    "tokens_in", "tokens_out", "client_id", "region", "error_type",
)
ProviderFor = Callable[[str], "str | None"]
_AWS_REGION = re.compile(r"\b([a-z]{2}(?:-gov)?-[a-z]+-\d)\b")


class Unmappable(ValueError):
    """A record that cannot be mapped to our columns: `field` names what is wrong, `why` says how."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


def request(**values: object) -> dict:
    """One canonical request: every column present (None where the source does not say)."""
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise TypeError(f"not request columns: {sorted(unknown)}")
    return {column: values.get(column) for column in COLUMNS}


def text(value: object) -> str | None:
    """Text as written; None for absent, empty and the access logs' '-' placeholder."""
    if value is None or isinstance(value, (dict, list)):
        return None
    value = str(value).strip()
    return None if value in ("", "-") else value


def utc_iso(value: object, field: str = "ts", *, naive_is_utc: bool = False) -> str:
    """ISO 8601 time -> ISO 8601 in UTC with its offset. A time without an offset is refused, unless the
    format documents that its times are UTC (`naive_is_utc`)."""
    raw = text(value)
    if raw is None:
        raise Unmappable(field, "missing (every request needs its time)")
    if not isinstance(value, str):
        raise Unmappable(field, f"expected an ISO 8601 time string, got {type(value).__name__}")
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise Unmappable(field, f"{raw[:60]!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise Unmappable(field, f"{raw[:60]!r} has no UTC offset (a local time is never guessed)")
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat()


def utc_from_epoch(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


def utc_from_access_log(value: object, field: str) -> str:
    """The access logs' local time with its offset ('02/Mar/2026:11:49:03 +0000') -> ISO 8601 in UTC."""
    raw = text(value)
    if raw is None:
        raise Unmappable(field, "missing (every request needs its time)")
    try:
        parsed = dt.datetime.strptime(raw, "%d/%b/%Y:%H:%M:%S %z")
    except ValueError:
        raise Unmappable(field, f"{raw[:60]!r} is not a time like 02/Mar/2026:11:49:03 +0000") from None
    return parsed.astimezone(dt.UTC).isoformat()


def number(value: object, field: str) -> float | None:
    """A finite number (JSON number or numeric text); None when absent."""
    if isinstance(value, bool):
        raise Unmappable(field, f"{value!r} is not a number")
    if isinstance(value, (dict, list)):
        raise Unmappable(field, f"expected a number, got {type(value).__name__}")
    raw = text(value)
    if raw is None:
        return None
    try:
        result = float(raw)
    except ValueError:
        raise Unmappable(field, f"{raw[:60]!r} is not a number") from None
    if not math.isfinite(result):
        raise Unmappable(field, f"{raw[:60]!r} is not a finite number")
    return result


def duration_ms(value: object, field: str, *, unit_ms: float = 1000.0) -> float | None:
    """A non-negative duration in milliseconds; the source's unit is `unit_ms` milliseconds (seconds: 1000)."""
    amount = number(value, field)
    if amount is None:
        return None
    if amount < 0:
        raise Unmappable(field, f"{amount!r} is negative")
    return round(amount * unit_ms, 3)


def count(value: object, field: str) -> int | None:
    """A whole, non-negative count (token counts); None when absent."""
    amount = number(value, field)
    if amount is None:
        return None
    if amount != int(amount) or amount < 0:
        raise Unmappable(field, f"{value!r} is not a whole non-negative number")
    return int(amount)


def http_status(value: object, field: str = "status") -> int:
    """An HTTP status code in 100-599 (JSON number or text)."""
    if text(value) is None:
        raise Unmappable(field, "missing (every request needs its HTTP status)")
    try:
        amount = number(value, field)
    except Unmappable:
        amount = None
    if amount is None or amount != int(amount) or not 100 <= amount <= 599:
        raise Unmappable(field, f"{str(value)[:60]!r} is not an integer HTTP code in 100-599")
    return int(amount)


def elapsed_ms(start_iso: str, end_value: object, field: str, *, naive_is_utc: bool = False) -> float | None:
    """Milliseconds from a start time (already in UTC ISO) to an end time; None without an end."""
    if text(end_value) is None:
        return None
    end = dt.datetime.fromisoformat(utc_iso(end_value, field, naive_is_utc=naive_is_utc))
    millis = (end - dt.datetime.fromisoformat(start_iso)).total_seconds() * 1000.0
    if millis < 0:
        raise Unmappable(field, f"{end_value!r} is before the start time")
    return round(millis, 3)


def url_host_path(url: object) -> tuple[str | None, str | None]:
    """'https://api.openai.com/v1/chat/completions?x=1' -> ('api.openai.com', '/v1/chat/completions')."""
    raw = text(url)
    if raw is None:
        return None, None
    try:
        parts = urlsplit(raw if "://" in raw or raw.startswith("/") else f"//{raw}")
    except ValueError:  # e.g. '[not-an-ip]': the URL names no usable host or path
        return None, None
    return (parts.hostname or None), (parts.path or None)


def route_name(path: str | None) -> str | None:
    """A gateway route's first path segment ('/anthropic/v1/messages' -> 'anthropic'), a provider candidate."""
    segment = (path or "").lstrip("/").split("/", 1)[0]
    return segment or None


def body_error_type(body: object) -> str | None:
    """`{"error": {"type": "overloaded_error", ...}}` (OpenAI and Anthropic error bodies) -> 'overloaded_error'."""
    error = body.get("error") if isinstance(body, dict) else None
    return (text(error.get("type")) or text(error.get("code"))) if isinstance(error, dict) else None


def aws_region(value: object) -> str | None:
    """The AWS region named inside an ARN or host name (us-east-1 in arn:aws:...:us-east-1:...)."""
    match = _AWS_REGION.search(text(value) or "")
    return match.group(1) if match else None


def provider_key(provider_for: ProviderFor, *candidates: object) -> str:
    """Our provider key for the first candidate (a provider name, host or model) the config knows."""
    named = [name for name in (text(c) for c in candidates) if name is not None]
    for name in named:
        key = provider_for(name)
        if key is not None:
            return key
    shown = ", ".join(repr(name[:80]) for name in named) or "no provider, host or model"
    raise Unmappable("provider", f"{shown}: not a configured provider name, host or model prefix")
