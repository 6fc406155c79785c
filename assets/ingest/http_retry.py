"""HTTP GET for `incidents fetch`: bounded retries with backoff, a size cap and a wall-clock deadline.

Transient failures (429/500/502/503/504, timeouts, dropped connections) are retried a bounded number of
times with exponential backoff, honouring Retry-After; anything else fails at once with a message that
is safe to show.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)

USER_AGENT = f"incidents-fetch/0.1 (incident analytics pipeline for AI providers) httpx/{httpx.__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FetchOptions:
    """Limits of one fetch run (defaults suit the public pages; tests shrink them)."""

    timeout_s: float = 15.0  # connect/read/write/pool timeout of each request
    max_attempts: int = 4  # first try + 3 retries
    backoff_base_s: float = 1.0  # 1, 2, 4 s ... between attempts
    backoff_cap_s: float = 30.0
    retry_after_cap_s: float = 120.0  # a server asking for longer gets this much
    max_bytes: int = 20 * 1024 * 1024  # response-size cap, enforced while streaming
    max_redirects: int = 5
    deadline_s: float = 120.0  # wall clock per request, against slow-drip bodies


DEFAULT_OPTIONS = FetchOptions()


class FetchError(Exception):
    """One target could not be fetched; the message says what happened and is safe to show."""


def make_client(options: FetchOptions = FetchOptions(), trust_env: bool = True) -> httpx.Client:
    """An httpx client with our timeouts, redirect limit and User-Agent."""
    return httpx.Client(
        timeout=httpx.Timeout(options.timeout_s),
        follow_redirects=True,
        max_redirects=options.max_redirects,
        headers={"User-Agent": USER_AGENT},
        trust_env=trust_env,
    )


def retry_delay(attempt: int, retry_after: str | None, options: FetchOptions, now: dt.datetime | None = None) -> float:
    """Seconds to wait before attempt `attempt + 1`: Retry-After (seconds or HTTP date) if given, else backoff."""
    if retry_after:
        value = retry_after.strip()
        seconds: float | None = None
        if value.isdigit():
            seconds = float(value)
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
                seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
        if seconds is not None:
            return min(max(seconds, 0.0), options.retry_after_cap_s)
    return min(options.backoff_base_s * 2 ** (attempt - 1), options.backoff_cap_s)


def _read_capped(response: httpx.Response, options: FetchOptions, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > options.max_bytes:
        raise FetchError(f"response of {int(declared)} bytes is over the {options.max_bytes} byte cap")
    chunks, total = [], 0
    for chunk in response.iter_bytes():
        total += len(chunk)
        if total > options.max_bytes:
            raise FetchError(f"response passed the {options.max_bytes} byte cap; aborted")
        if time.monotonic() > deadline:
            raise FetchError(f"response still arriving after {options.deadline_s:.0f} s; aborted")
        chunks.append(chunk)
    return b"".join(chunks)


def get_with_retries(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    options: FetchOptions,
    sleep: Callable[[float], None],
) -> tuple[bytes, str]:
    """GET `url` -> (body, content type), retrying transient failures; FetchError when it gives up."""
    reason = "not attempted"
    for attempt in range(1, options.max_attempts + 1):
        retry_after = None
        try:
            deadline = time.monotonic() + options.deadline_s
            with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
                status = response.status_code
                if status < 400:
                    return _read_capped(response, options, deadline), response.headers.get("content-type", "")
                if status not in RETRY_STATUSES:
                    hint = " (check the token env var named by status_page.token_env)" if status in (401, 403) else ""
                    raise FetchError(f"HTTP {status} {response.reason_phrase}{hint}")
                reason, retry_after = f"HTTP {status}", response.headers.get("retry-after")
        except httpx.TooManyRedirects as exc:
            raise FetchError(f"too many redirects (more than {client.max_redirects})") from exc
        except httpx.TimeoutException as exc:
            reason = f"timed out ({type(exc).__name__})"
        except httpx.TransportError as exc:
            reason = f"connection failed ({type(exc).__name__}: {exc})"
        if attempt < options.max_attempts:
            delay = retry_delay(attempt, retry_after, options)
            log.warning("GET %s: %s; retry %d of %d in %.1f s", url, reason, attempt, options.max_attempts - 1, delay)
            sleep(delay)
    raise FetchError(f"{reason} after {options.max_attempts} attempts")
