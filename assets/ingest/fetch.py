"""`incidents fetch`: pull live status pages and App Store chart feeds over HTTP into the raw archive.

Each response body is written as fetched, but only after it proved to be what we asked for (JSON that
parses and has the expected shape, or an Atom/RSS feed), and only through a temporary file in the same
directory followed by `os.replace`, so a failed or interrupted fetch never leaves a partial file and
never touches an earlier snapshot. Transient failures (429/500/502/503/504, timeouts, dropped
connections) are retried a bounded number of times with exponential backoff, honouring Retry-After.
One provider failing costs one error line; the others are still fetched. A page's bearer token comes
from the env var its config names and never appears in logs, errors or the report.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from assets.ingest.status_feeds import FeedError, feed_kind, parse_xml_document
from pipelines.core.config import ProvidersConfig
from pipelines.core.settings import Settings, UnsafePathError, safe_path

log = logging.getLogger(__name__)

USER_AGENT = f"incidents-fetch/0.1 (incident analytics pipeline for AI providers) httpx/{httpx.__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDACTED = "[redacted]"


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


@dataclass
class FetchReport:
    """What one `fetch_all` run wrote and what failed (one line per failing provider or chart feed)."""

    started_at: dt.datetime
    written: list[str] = field(default_factory=list)  # paths relative to the data dir
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        return [f"wrote {path}" for path in self.written] + [f"error: {line}" for line in self.errors]


class FetchError(Exception):
    """One target could not be fetched; the message says what happened and is safe to show."""


@dataclass(frozen=True)
class _Target:
    name: str  # what the error line calls it: "incidents.json", "us/top-free"
    url: str
    path: Path
    expect: str  # incidents | summary | app_feed | history_feed
    headers: dict[str, str] = field(default_factory=dict, repr=False)


def make_client(options: FetchOptions = FetchOptions(), trust_env: bool = True) -> httpx.Client:
    """An httpx client with our timeouts, redirect limit and User-Agent."""
    return httpx.Client(
        timeout=httpx.Timeout(options.timeout_s),
        follow_redirects=True,
        max_redirects=options.max_redirects,
        headers={"User-Agent": USER_AGENT},
        trust_env=trust_env,
    )


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


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


def validate_body(body: bytes, expect: str, content_type: str) -> None:
    """Refuse a body that is not what the target serves (checked BEFORE anything is written)."""
    if not body.strip():
        raise FetchError("empty response body")
    looks_html = "html" in content_type.lower() or body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    if expect == "history_feed":
        if looks_html:
            raise FetchError(f"got an HTML page instead of an Atom/RSS feed (Content-Type {content_type or 'none'})")
        try:
            body.decode("utf-8")
            feed_kind(parse_xml_document(body))
        except UnicodeDecodeError as exc:
            raise FetchError("feed is not UTF-8") from exc
        except FeedError as exc:
            raise FetchError(f"not a usable feed: {exc}") from exc
        return
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FetchError("response is not UTF-8 JSON") from exc
    if text.lstrip().startswith("<"):
        what = "an HTML page" if looks_html else "XML/HTML"
        raise FetchError(f"got {what} instead of JSON (Content-Type {content_type or 'none'})")
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FetchError(f"response is not valid JSON (truncated?): {exc}") from exc
    required = {"incidents": "incidents", "summary": "components", "app_feed": "feed"}[expect]
    if not isinstance(document, dict) or required not in document:
        raise FetchError(f"JSON has no top-level {required!r}: not the document this URL should serve")
    expected_type = dict if expect == "app_feed" else list
    if not isinstance(document[required], expected_type):
        raise FetchError(f"JSON {required!r} is not a {expected_type.__name__}")


def write_atomic(path: Path, body: bytes) -> None:
    """Write `body` to `path` via a temp file in the same directory and os.replace (all or nothing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _status_targets(settings: Settings, provider: str, page, stamp_time: dt.datetime, headers: dict) -> list[_Target]:
    # Anchored at the data dir, not at raw/: a raw/ (or raw/status_pages/) symlinked out of the data dir is
    # refused here (UnsafePathError: one error line for the provider) instead of being written through.
    directory = safe_path(settings.data_dir, "raw", "status_pages", provider)
    when = stamp_time
    for _ in range(3600):  # a second fetch within the same second gets the next free stamp, never overwrites
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        if page.kind in ("statuspage", "incident_io"):
            targets = [
                _Target("incidents.json", f"{page.url}/api/v2/incidents.json",
                        safe_path(directory, f"{stamp}-incidents.json"), "incidents", headers),
                _Target("summary.json", f"{page.url}/api/v2/summary.json",
                        safe_path(directory, f"{stamp}-summary.json"), "summary", headers),
            ]
        else:
            targets = [_Target(f"{page.kind} feed", page.url, safe_path(directory, f"{stamp}.{page.kind}"),
                               "history_feed", headers)]
        if not any(t.path.exists() for t in targets):
            return targets
        when += dt.timedelta(seconds=1)
    raise FetchError(f"no free snapshot name in {directory}")


def _fetch_targets(
    targets: list[_Target], client: httpx.Client, options: FetchOptions, sleep: Callable[[float], None],
    settings: Settings, report: FetchReport, secrets: list[str],
) -> list[str]:
    """Fetch, validate and write each target; return one message per failed target."""
    failures = []
    for target in targets:
        try:
            body, content_type = get_with_retries(client, target.url, target.headers, options, sleep)
            validate_body(body, target.expect, content_type)
            write_atomic(target.path, body)
        except (FetchError, httpx.HTTPError, OSError) as exc:
            failures.append(_redact(f"{target.name} ({target.url}): {exc}", secrets))
            continue
        rel = target.path.relative_to(settings.data_dir.resolve()).as_posix()
        report.written.append(rel)
        log.info("wrote %s (%d bytes)", rel, len(body))
    return failures


def fetch_all(
    settings: Settings,
    config: ProvidersConfig,
    client: httpx.Client | None = None,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    options: FetchOptions = FetchOptions(),
) -> FetchReport:
    """Fetch every provider's status page and every App Store country x chart feed into raw/.

    statuspage / incident_io pages: <url>/api/v2/incidents.json and summary.json ->
    raw/status_pages/<provider>/<stamp>-incidents.json|-summary.json; atom/rss: the feed URL ->
    <stamp>.atom|.rss; charts: app_store.feed_url -> raw/app_rankings/<UTC day>/<country>-<chart>.json.
    A `client` passed in keeps its own timeouts and redirect limit (see `make_client`); `options` still sets
    retries, backoff, the size cap and the per-request deadline. `now` fixes the stamp and the day.
    """
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    report = FetchReport(started_at=now)
    own_client = client is None
    client = client or make_client(options)
    try:
        for provider, settings_of in config.providers.items():
            page = settings_of.status_page
            secrets: list[str] = []
            try:
                headers = {"Accept": "application/json" if page.kind in ("statuspage", "incident_io")
                           else "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"}
                if page.token_env:
                    token = os.environ.get(page.token_env, "").strip()
                    if not token:
                        raise FetchError(f"status_page.token_env names {page.token_env}, but that env var is "
                                         "not set; export it or remove token_env")
                    secrets.append(token)
                    headers["Authorization"] = f"Bearer {token}"
                targets = _status_targets(settings, provider, page, now, headers)
                failures = _fetch_targets(targets, client, options, sleep, settings, report, secrets)
            except (FetchError, UnsafePathError, OSError) as exc:
                failures = [_redact(str(exc), secrets)]
            if failures:
                line = f"{provider}: " + "; ".join(failures)
                report.errors.append(line)
                log.error("%s", line)

        day = now.strftime("%Y-%m-%d")
        for country in config.app_store.countries:
            for chart in config.app_store.charts:
                name = f"app_store {country}/{chart}"
                try:
                    url = config.app_store.feed_url.format(country=quote(country, safe=""), chart=quote(chart, safe=""))
                    path = safe_path(settings.data_dir, "raw", "app_rankings", day, f"{country}-{chart}.json")
                    target = _Target(name, url, path, "app_feed", {"Accept": "application/json"})
                    failures = _fetch_targets([target], client, options, sleep, settings, report, [])
                except (KeyError, IndexError, ValueError, UnsafePathError) as exc:
                    failures = [f"{name}: cannot build the feed URL or path: {exc}"]
                for failure in failures:
                    report.errors.append(failure)
                    log.error("%s", failure)
    finally:
        if own_client:
            client.close()
    return report
