"""`incidents fetch`: pull live status pages and App Store chart feeds over HTTP into the raw archive.

Each response body is written as fetched, but only after it proved to be what we asked for (JSON that
parses and has the expected shape, or an Atom/RSS feed: fetch_checks), and only through a temporary file
in the same directory followed by `os.replace` (core.files.write_atomic), so a failed or interrupted
fetch never leaves a partial file and never touches an earlier snapshot. Transient failures are retried
(http_retry). One provider failing costs one error line; the others are still fetched. A page's bearer
token comes from the env var its config names and never appears in logs, errors or the report.

What a page serves is recognised from its content (status_pages.detect): a page that now serves another
platform than its configured `kind` costs one hint line ("page X now looks like platform Y; set kind: Y"),
its body is archived under the new platform's name and every earlier snapshot stays as it was. With `dedup`
(the hourly archive job) a body identical to the provider's newest snapshot of the same document is not
stored again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from assets.ingest.fetch_checks import validate_body
from assets.ingest.http_retry import DEFAULT_OPTIONS, FetchError, FetchOptions, get_with_retries, make_client
from assets.ingest.status_pages.detect import detect_platform, same_platform
from assets.ingest.status_pages.snapshots import ENDPOINTS, JSON_KINDS, snapshot_names
from pipelines.core.config import ProvidersConfig, StatusPage
from pipelines.core.files import write_atomic
from pipelines.core.settings import Settings, UnsafePathError, safe_path

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
STAMP_EXAMPLE = "20260302T120500Z"  # every name the fetcher writes starts with a stamp this long
FEED_ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5"


@dataclass
class FetchReport:
    """What one `fetch_all` run wrote and what failed (one line per failing provider or chart feed)."""

    started_at: dt.datetime
    written: list[str] = field(default_factory=list)  # paths relative to the data dir
    errors: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)  # pages that moved platform: "page X now looks like ..."
    unchanged: list[str] = field(default_factory=list)  # newest snapshots a dedup fetch found unchanged

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        return ([f"wrote {path}" for path in self.written]
                + [f"unchanged since {path}: not stored again" for path in self.unchanged]
                + self.hints + [f"error: {line}" for line in self.errors])


@dataclass(frozen=True)
class _Target:
    name: str  # what the error line calls it: "incidents.json", "us/top-free"
    url: str
    path: Path
    expect: str  # incidents | summary | app_feed | history_feed | status_document
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    page_kind: str | None = None  # the configured platform of a status page (None: an App Store feed)
    page_url: str = ""
    stamp: dt.datetime | None = None


@dataclass
class _Run:
    """What every target of one `fetch_all` run shares."""

    settings: Settings
    client: httpx.Client
    options: FetchOptions
    sleep: Callable[[float], None]
    report: FetchReport
    dedup: bool = False


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _status_targets(settings: Settings, provider: str, page: StatusPage, stamp_time: dt.datetime,
                    headers: dict) -> list[_Target]:
    endpoints = ENDPOINTS.get(page.kind)
    if endpoints is None:
        raise FetchError(f"status_page.kind {page.kind} publishes no machine-readable feed we read (OnlineOrNot "
                         "and Flashduty pages document none); point the provider at a feed it does publish")
    # Anchored at the data dir, not at raw/: a raw/ (or raw/status_pages/) symlinked out of the data dir is
    # refused here (UnsafePathError: one error line for the provider) instead of being written through.
    directory = safe_path(settings.data_dir, "raw", "status_pages", provider)
    when = stamp_time
    for _ in range(3600):  # a second fetch within the same second gets the next free stamp, never overwrites
        names = snapshot_names(when, page.kind)
        targets = [
            _Target(_label(page.kind, slot), page.url + suffix, safe_path(directory, names[slot]),
                    _expect(page.kind, slot), headers, page.kind, page.url, when)
            for slot, suffix in endpoints.items()
        ]
        if not any(t.path.exists() for t in targets):
            return targets
        when += dt.timedelta(seconds=1)
    raise FetchError(f"no free snapshot name in {directory}")


def _label(kind: str, slot: str) -> str:
    if kind in JSON_KINDS:
        return f"{slot}.json"
    return f"{kind} feed" if kind in ("atom", "rss", "azure_rss") else f"{kind} document"


def _expect(kind: str, slot: str) -> str:
    if kind in JSON_KINDS:
        return slot
    return "history_feed" if kind in ("atom", "rss", "azure_rss") else "status_document"


def _newest_alike(path: Path) -> Path | None:
    """The newest archived file holding the same document as `path` (same name after the stamp)."""
    tail = path.name[len(STAMP_EXAMPLE):]
    alike = sorted(p for p in path.parent.glob(f"*{tail}") if p.is_file() and not p.name.startswith("."))
    return alike[-1] if alike else None


def _unchanged(path: Path, body: bytes) -> Path | None:
    newest = _newest_alike(path) if path.parent.is_dir() else None
    if newest is not None and hashlib.sha256(newest.read_bytes()).digest() == hashlib.sha256(body).digest():
        return newest
    return None


def _moved_platform(run: _Run, target: _Target, body: bytes, content_type: str) -> bool:
    """Archive a body of another platform than configured under that platform's name, and say so once."""
    detected = detect_platform(body, content_type)
    if target.page_kind is None or detected is None or same_platform(detected, target.page_kind):
        return False
    provider = target.path.parent.name
    hint = f"page {target.page_url} ({provider}) now looks like platform {detected}; set kind: {detected}"
    run.report.hints.append(hint)
    log.warning("%s", hint)
    path = target.path.with_name(next(iter(snapshot_names(target.stamp, detected).values())))
    if not path.exists():
        write_atomic(path, body, durable=True)
        run.report.written.append(path.relative_to(run.settings.data_dir.resolve()).as_posix())
    return True


def _fetch_targets(run: _Run, targets: list[_Target], secrets: list[str]) -> list[str]:
    """Fetch, validate and write each target; return one message per failed target.

    A status page found to serve another platform stops there: its other documents would say the same.
    """
    failures = []
    for target in targets:
        try:
            body, content_type = get_with_retries(
                run.client, target.url, target.headers, run.options, run.sleep
            )
            if _moved_platform(run, target, body, content_type):
                break
            validate_body(body, target.expect, content_type)
            if run.dedup and (same := _unchanged(target.path, body)) is not None:
                run.report.unchanged.append(same.relative_to(run.settings.data_dir.resolve()).as_posix())
                continue
            write_atomic(target.path, body, durable=True)
        except (FetchError, httpx.HTTPError, OSError) as exc:
            failures.append(_redact(f"{target.name} ({target.url}): {exc}", secrets))
            continue
        rel = target.path.relative_to(run.settings.data_dir.resolve()).as_posix()
        run.report.written.append(rel)
        log.info("wrote %s (%d bytes)", rel, len(body))
    return failures


def _fetch_status_page(run: _Run, provider: str, page: StatusPage) -> None:
    """Both JSON documents (or the feed) of one provider; its failures become one error line."""
    secrets: list[str] = []
    try:
        feed = page.kind in ("atom", "rss", "azure_rss")
        headers = {"Accept": FEED_ACCEPT if feed else "application/json"}
        if page.token_env:
            token = os.environ.get(page.token_env, "").strip()
            if not token:
                raise FetchError(f"status_page.token_env names {page.token_env}, but that env var is "
                                 "not set; export it or remove token_env")
            secrets.append(token)
            headers["Authorization"] = f"Bearer {token}"
        targets = _status_targets(run.settings, provider, page, run.report.started_at, headers)
        failures = _fetch_targets(run, targets, secrets)
    except (FetchError, UnsafePathError, OSError) as exc:
        failures = [_redact(str(exc), secrets)]
    if failures:
        line = f"{provider}: " + "; ".join(failures)
        run.report.errors.append(line)
        log.error("%s", line)


def _fetch_chart(run: _Run, config: ProvidersConfig, country: str, chart: str) -> None:
    """One App Store country x chart feed into raw/app_rankings/<UTC day>/<country>-<chart>.json."""
    name = f"app_store {country}/{chart}"
    try:
        url = config.app_store.feed_url.format(country=quote(country, safe=""), chart=quote(chart, safe=""))
        day = run.report.started_at.strftime("%Y-%m-%d")
        path = safe_path(run.settings.data_dir, "raw", "app_rankings", day, f"{country}-{chart}.json")
        target = _Target(name, url, path, "app_feed", {"Accept": "application/json"})
        failures = _fetch_targets(run, [target], [])
    except (KeyError, IndexError, ValueError, UnsafePathError) as exc:
        failures = [f"{name}: cannot build the feed URL or path: {exc}"]
    for failure in failures:
        run.report.errors.append(failure)
        log.error("%s", failure)


def fetch_all(
    settings: Settings,
    config: ProvidersConfig,
    client: httpx.Client | None = None,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    options: FetchOptions = DEFAULT_OPTIONS,
    dedup: bool = False,
    app_store: bool = True,
) -> FetchReport:
    """Fetch every provider's status page and every App Store country x chart feed into raw/.

    statuspage / incident_io pages: <url>/api/v2/incidents.json and summary.json ->
    raw/status_pages/<provider>/<stamp>-incidents.json|-summary.json; atom/rss: the feed URL ->
    <stamp>.atom|.rss; charts: app_store.feed_url -> raw/app_rankings/<UTC day>/<country>-<chart>.json.
    Other platforms: instatus <url>/summary.json, betterstack <url>/index.json, rootly
    <url>/api/v1/incidents.json, azure_rss/google_cloud/aws_health the URL itself -> <stamp>-<kind>.json
    (<stamp>-azure.rss). A `client` passed in keeps its own timeouts and redirect limit (see `make_client`);
    `options` still sets retries, backoff, the size cap and the per-request deadline. `now` fixes the stamp and
    the day. `dedup` skips a body identical to the newest snapshot of the same document; `app_store=False`
    fetches the status pages only.
    """
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    report = FetchReport(started_at=now)
    own_client = client is None
    client = client or make_client(options)
    run = _Run(settings, client, options, sleep, report, dedup)
    try:
        for provider, settings_of in config.providers.items():
            _fetch_status_page(run, provider, settings_of.status_page)
        for country in config.app_store.countries if app_store else ():
            for chart in config.app_store.charts:
                _fetch_chart(run, config, country, chart)
    finally:
        if own_client:
            client.close()
    return report
