"""Is a fetched body what its URL should serve? Checked BEFORE anything is written to the raw archive."""

from __future__ import annotations

import json

from assets.ingest.http_retry import FetchError
from assets.ingest.status_pages.detect import detect_platform
from assets.ingest.status_pages.fields import decode_text
from assets.ingest.status_pages.safe_xml import FeedError, feed_kind, parse_xml_document
from assets.ingest.status_pages.schema import Invalid

# The top-level key each JSON document must carry, and its type.
_REQUIRED = {"incidents": ("incidents", list), "summary": ("components", list), "app_feed": ("feed", dict)}


def validate_body(body: bytes, expect: str, content_type: str) -> None:
    """Refuse a body that is not what the target serves.

    `expect`: incidents | summary (Statuspage JSON), app_feed, history_feed (Atom/RSS), status_document (any
    other platform's JSON: a document we recognise, or at least an array or object that parses).
    """
    if not body.strip():
        raise FetchError("empty response body")
    looks_html = "html" in content_type.lower() or body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    if expect == "history_feed":
        _validate_feed(body, content_type, looks_html)
        return
    if expect == "status_document":
        _validate_document(body, content_type, looks_html)
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
    required, expected_type = _REQUIRED[expect]
    if not isinstance(document, dict) or required not in document:
        raise FetchError(f"JSON has no top-level {required!r}: not the document this URL should serve")
    if not isinstance(document[required], expected_type):
        raise FetchError(f"JSON {required!r} is not a {expected_type.__name__}")


def _validate_feed(body: bytes, content_type: str, looks_html: bool) -> None:
    if looks_html:
        raise FetchError(f"got an HTML page instead of an Atom/RSS feed (Content-Type {content_type or 'none'})")
    try:
        body.decode("utf-8")
        feed_kind(parse_xml_document(body))
    except UnicodeDecodeError as exc:
        raise FetchError("feed is not UTF-8") from exc
    except FeedError as exc:
        raise FetchError(f"not a usable feed: {exc}") from exc


def _validate_document(body: bytes, content_type: str, looks_html: bool) -> None:
    if looks_html:
        raise FetchError(f"got an HTML page instead of a status document (Content-Type {content_type or 'none'})")
    if detect_platform(body, content_type) is not None:
        return
    try:
        document = json.loads(decode_text(body))
    except (Invalid, ValueError, RecursionError) as exc:
        raise FetchError(f"response is not a status document we read, nor valid JSON: {exc}") from exc
    if not isinstance(document, (list, dict)):
        raise FetchError(f"JSON is a {type(document).__name__}, not a status document")
