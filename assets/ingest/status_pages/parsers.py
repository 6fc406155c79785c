"""One parser per status platform, by the `kind` the config (or the content) names.

Statuspage and incident.io JSON and the Statuspage-style Atom/RSS history feeds have parsers of their own
(statuspage_json, feeds); every other platform is translated into Statuspage-shaped records (translated.py)
and validated by the same code. OnlineOrNot and Flashduty pages publish no machine-readable feed we could find
documented, so they have no parser: an archived file of theirs is read by whatever its content is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from assets.ingest.status_pages import aws_health, azure_rss, betterstack, google_cloud, instatus, rootly
from assets.ingest.status_pages.feeds import parse_status_feed
from assets.ingest.status_pages.fields import load_json
from assets.ingest.status_pages.rows import ParsedSnapshot, SnapshotRows
from assets.ingest.status_pages.schema import INCIDENTS, Invalid
from assets.ingest.status_pages.statuspage_json import add_translated, parse_statuspage_json
from assets.ingest.status_pages.translated import Translated

JSON_TRANSLATORS: dict[str, Callable[[object], Translated]] = {
    "instatus": instatus.translate,
    "betterstack": betterstack.translate,
    "google_cloud": google_cloud.translate,
    "aws_health": aws_health.translate,
    "rootly": rootly.translate,
}
XML_TRANSLATORS: dict[str, Callable[[bytes], Translated]] = {"azure_rss": azure_rss.translate}
STATUSPAGE_KINDS = ("statuspage", "incident_io")
FEED_KINDS = ("atom", "rss")
PARSED_KINDS = (*STATUSPAGE_KINDS, *FEED_KINDS, *JSON_TRANSLATORS, *XML_TRANSLATORS)


def parse_document(
    data: bytes,
    kind: str,
    *,
    provider: str,
    file: str,
    snapshot_at: dt.datetime | None,
    capabilities: Mapping[str, str],
    file_table: str = INCIDENTS,
    now: dt.datetime | None = None,
) -> ParsedSnapshot:
    """Parse one archived document as a `kind` document into rows of the four staging tables."""
    if kind in STATUSPAGE_KINDS:
        return parse_statuspage_json(data, provider=provider, file=file, snapshot_at=snapshot_at, page_kind=kind,
                                     capabilities=capabilities, file_table=file_table, now=now)
    if kind in FEED_KINDS:
        return parse_status_feed(data, provider=provider, file=file, snapshot_at=snapshot_at,
                                 capabilities=capabilities, now=now)
    if kind not in JSON_TRANSLATORS and kind not in XML_TRANSLATORS:
        raise ValueError(f"no parser for status platform {kind!r}")
    out = SnapshotRows(provider, file, snapshot_at, capabilities, now=now)
    try:
        translated = XML_TRANSLATORS[kind](data) if kind in XML_TRANSLATORS else JSON_TRANSLATORS[kind](load_json(data))
    except Invalid as exc:
        return out.reject_file(INCIDENTS, str(exc), data)
    except RecursionError:
        return out.reject_file(INCIDENTS, "document nested too deeply", data)
    add_translated(out, translated, kind)
    return out.finish()
