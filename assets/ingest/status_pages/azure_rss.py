"""Azure status RSS: `https://rssfeed.azure.status.microsoft/en-us/status/feed/` (RSS 2.0).

Each `<item>` (title, link, guid, pubDate in RFC 822, description in HTML) is an active Azure status
notice; the feed is empty when nothing is wrong. An item is one incident: its guid (else link) is the id,
pubDate its creation, the description its one update (HTML reduced to text, so component names can be read
from it later). Azure's items say nothing machine-readable about status or impact, so both stay null: an item
that leaves the feed is known open until its `last_seen_at`, never marked resolved by us.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from assets.ingest.status_pages.safe_xml import child_text, children, feed_kind, parse_xml_document
from assets.ingest.status_pages.schema import INCIDENTS, Invalid
from assets.ingest.status_pages.translated import Source, Translated, iso
from pipelines.core.quarantine import RAW_PREVIEW_CHARS


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def translate(data: bytes) -> Translated:
    root = parse_xml_document(data)
    if feed_kind(root) != "rss":
        raise Invalid("expected an RSS 2.0 <rss> document (Azure status feed)")
    out = Translated()
    items = [item for channel in children(root, "channel") for item in children(channel, "item")]
    for position, item in enumerate(items):
        raw = ET.tostring(item, encoding="unicode")[:RAW_PREVIEW_CHARS]
        try:
            out.incidents.append(Source(position + 1, f"item[{position}]", _item(item, position), raw))
        except Invalid as exc:
            out.refused.append((INCIDENTS, position + 1, str(exc), raw))
    return out


def _item(item: ET.Element, position: int) -> dict:
    published_text = child_text(item, "pubDate")
    try:
        published = email.utils.parsedate_to_datetime(published_text) if published_text else None
    except (TypeError, ValueError, IndexError) as exc:
        raise Invalid(f"item[{position}].pubDate: {published_text!r:.80} is not an RFC 822 date") from exc
    if published is not None and published.tzinfo is None:
        raise Invalid(f"item[{position}].pubDate: {published_text!r:.80} has no time zone")
    body = html_text(child_text(item, "description") or "")
    return {
        "id": child_text(item, "guid") or child_text(item, "link"),
        "name": child_text(item, "title"),
        "created_at": iso(published),
        "shortlink": child_text(item, "link"),
        "incident_updates": [{"status": "update", "body": body or None, "created_at": iso(published)}],
    }
