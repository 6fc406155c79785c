"""Which status platform a document comes from, read from its content (not its name, URL or config).

Providers move between platforms (in 2026 alone Mistral, Fireworks, Replicate and DeepSeek did), so every
fetched body and every archived snapshot is recognised from what it holds; `incidents fetch` and the staging
asset compare the answer with the provider's configured `kind`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json

from assets.ingest.status_pages.fields import decode_text, parse_timestamp
from assets.ingest.status_pages.safe_xml import (
    child_text,
    children,
    feed_kind,
    local_name,
    parse_xml_document,
)
from assets.ingest.status_pages.schema import Invalid

# Kinds read by one parser from one format: a page of either kind never needs its config changed for the other.
FAMILIES = ({"statuspage", "incident_io"}, {"atom", "rss"})
_AZURE_HOSTS = ("azure.status.microsoft", "status.azure.com", "azure.microsoft.com")


def same_platform(kind: str | None, other: str | None) -> bool:
    return kind == other or any(kind in family and other in family for family in FAMILIES)


def detect_platform(body: bytes, content_type: str = "") -> str | None:
    """The StatusPageKind this body is a document of, or None when it is none we read (or unreadable).

    An empty JSON array (Google Cloud and AWS Health with nothing to report) is None: it could be either.
    """
    try:
        text = decode_text(body).lstrip()
    except Invalid:
        return None
    if text.startswith("<"):
        return _xml_kind(body)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return _list_kind(document) if isinstance(document, list) else _object_kind(document)


def _xml_kind(body: bytes) -> str | None:
    try:
        root = parse_xml_document(body)
        kind = feed_kind(root)
    except (Invalid, RecursionError):
        return None
    if kind == "rss":
        links = " ".join(child_text(channel, "link") or "" for channel in children(root, "channel"))
        if any(host in links for host in _AZURE_HOSTS):
            return "azure_rss"
    return kind


def _list_kind(document: list) -> str | None:
    first = next((item for item in document if isinstance(item, dict)), None)
    if first is None:
        return None
    if "status_impact" in first or "external_desc" in first:
        return "google_cloud"
    if "event_log" in first or ("region_name" in first and "service" in first):
        return "aws_health"
    return None


def _object_kind(document: object) -> str | None:
    if not isinstance(document, dict):
        return None
    data = document.get("data")
    if isinstance(data, dict) and data.get("type") == "status_page":
        return "betterstack"
    if "activeIncidents" in document or "activeMaintenances" in document:
        return "instatus"
    if not any(key in document for key in ("incidents", "components", "scheduled_maintenances")):
        return None
    page = document.get("page")
    if isinstance(page, dict) and "id" not in page:
        return "rootly"  # Rootly's page names itself without an id; Statuspage and incident.io pages carry one
    records = [r for key in ("incidents", "components") if isinstance(document.get(key), list)
               for r in document[key] if isinstance(r, dict)]
    # Atlassian stamps every record with its page_id; incident.io's compatible API does not.
    if not records or any("page_id" in r for r in records) or not isinstance(page, dict):
        return "statuspage"
    return "incident_io"


def document_time(body: bytes) -> dt.datetime | None:
    """When the document says it was last updated (feed <updated>/<lastBuildDate>, page.updated_at), or None."""
    try:
        text = decode_text(body).lstrip()
        if text.startswith("<"):
            return _feed_time(parse_xml_document(body))
        document = json.loads(text)
    except (Invalid, ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    page = document.get("page") if isinstance(document.get("page"), dict) else None
    data = document.get("data") if isinstance(document.get("data"), dict) else None
    value = (page or {}).get("updated_at") or ((data or {}).get("attributes") or {}).get("updated_at")
    try:
        return parse_timestamp(value, "updated_at")
    except Invalid:
        return None


def _feed_time(root) -> dt.datetime | None:
    if local_name(root.tag) == "feed":
        try:
            return parse_timestamp(child_text(root, "updated"), "updated")
        except Invalid:
            return None
    for channel in children(root, "channel"):
        text = child_text(channel, "lastBuildDate") or child_text(channel, "pubDate")
        try:
            when = email.utils.parsedate_to_datetime(text) if text else None
        except (TypeError, ValueError, IndexError):
            return None
        return when.astimezone(dt.UTC) if when and when.tzinfo else None
    return None
