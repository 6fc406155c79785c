"""Statuspage-style incident history feeds (Atom and RSS 2.0): one entry per incident.

Each entry's HTML content holds its updates (feed_html), each with a Pacific display time without a year
(display_time); the original text is kept in `display_text`. Feeds carry no impact, so `impact` is null.
The XML itself is read by safe_xml, which refuses any DOCTYPE or entity declaration.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping

from assets.ingest.status_pages.display_time import parse_display_time
from assets.ingest.status_pages.feed_html import FeedUpdate, split_updates, update_status
from assets.ingest.status_pages.fields import decode_text
from assets.ingest.status_pages.incident import complete_incident
from assets.ingest.status_pages.rows import ParsedSnapshot, SnapshotRows
from assets.ingest.status_pages.safe_xml import child_text, children, feed_kind, parse_xml_document
from assets.ingest.status_pages.schema import AFFECTED, INCIDENT_STATUSES, INCIDENTS, UPDATES, Invalid
from pipelines.core.quarantine import RAW_PREVIEW_CHARS

_INCIDENT_LINK = re.compile(r"/incidents/([A-Za-z0-9_-]+)/?(?:[?#].*)?$")
_INCIDENT_TAG = re.compile(r"Incident/([A-Za-z0-9_-]+)$")
_AFFECTED_PREFIX = re.compile(r"^\s*This incident affected:\s*", re.IGNORECASE)


def parse_status_feed(
    data: bytes,
    *,
    provider: str,
    file: str,
    snapshot_at: dt.datetime | None = None,
    capabilities: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> ParsedSnapshot:
    """Parse one archived Atom or RSS history feed; the kind is read from the root element.

    A file that is empty, not UTF-8, not well-formed XML (e.g. truncated), carries a DOCTYPE (an HTML page)
    or is not a feed is one reject with record_no 0. Otherwise each entry/item is record n (1-based); `now`
    bounds "in the future" as in parse_statuspage_json.
    """
    out = SnapshotRows(provider, file, snapshot_at, capabilities or {}, now=now)
    try:
        decode_text(data)
        root = parse_xml_document(data)
        kind = feed_kind(root)
    except Invalid as exc:
        return out.reject_file(INCIDENTS, str(exc), data)
    rss = kind == "rss"
    if rss:
        entries = [item for channel in children(root, "channel") for item in children(channel, "item")]
        entries += children(root, "item")  # RSS 1.0 (RDF) keeps items beside the channel
    else:
        entries = children(root, "entry")
    for position, entry in enumerate(entries):
        try:
            _entry(out, entry, rss, kind)
        except Invalid as exc:
            out.reject(INCIDENTS, position + 1, str(exc), ET.tostring(entry, encoding="unicode")[:RAW_PREVIEW_CHARS])
        except RecursionError:
            out.reject(INCIDENTS, position + 1, "entry nested too deeply", "")
    return out.finish()


def _entry(out: SnapshotRows, entry: ET.Element, rss: bool, page_kind: str) -> None:
    """Validate one entry and add its rows; raise Invalid to quarantine the whole incident."""
    link = _entry_link(entry, rss)
    entry_id = child_text(entry, "guid" if rss else "id")
    if not entry_id:
        # Atom requires exactly one <id> per entry (RFC 4287) and Statuspage's RSS always carries a <guid>:
        # an entry without one is broken, even when its link would still name the incident.
        raise Invalid(f"entry has no <{'guid' if rss else 'id'}> (link {link!r:.100})")
    # The incident code in the /incidents/<code> link is the id the JSON API uses too; the tag id
    # (tag:host,2005:Incident/<n>) only stands in when there is no such link.
    match = _INCIDENT_LINK.search(link or "") or _INCIDENT_LINK.search(entry_id) or _INCIDENT_TAG.search(entry_id)
    incident_id = match[1] if match else entry_id.strip()
    where = f"entry {incident_id!r}: "
    published = _feed_time(child_text(entry, "pubDate" if rss else "published"), f"{where}published", rss)
    updated = None if rss else _feed_time(child_text(entry, "updated"), f"{where}updated", rss)

    blocks, paragraphs = split_updates(_entry_content(entry, rss))
    updates = _updates(out, incident_id, blocks, where, reference=published or updated)
    # The entry's status is its newest update's (document order breaks ties: newest is listed first).
    newest = sorted(
        (u for u in updates if u["status"] in INCIDENT_STATUSES), key=lambda u: u["display_at"], reverse=True
    )
    incident = {
        "provider": out.provider,
        "incident_id": incident_id,
        "title": child_text(entry, "title"),
        "status": newest[0]["status"] if newest else None,
        "impact": None,
        "created_at": published,
        "updated_at": updated or (max(u["display_at"] for u in updates) if updates else None),
        "started_at": None,
        "resolved_at": None,
        "monitoring_at": None,
        "shortlink": link,
        "page_kind": page_kind,
        "snapshot_file": out.file,
        "snapshot_at": out.snapshot_at,
    }
    complete_incident(incident, updates, now=out.now)
    for update in updates:
        out.add(UPDATES, update)
    for text in paragraphs:
        if _AFFECTED_PREFIX.match(text):
            for name in _affected_names(text, out.capabilities):
                out.add(AFFECTED, {
                    "provider": out.provider, "incident_id": incident_id, "update_id": None,
                    "component_name": name, "component_code": None, "old_status": None, "new_status": None,
                    "created_at": incident["created_at"], "capability": out.capability(name),
                    "origin": "feed", "snapshot_file": out.file,
                })
    out.add(INCIDENTS, incident)


def _updates(
    out: SnapshotRows, incident_id: str, blocks: list[FeedUpdate], where: str, reference: dt.datetime | None
) -> list[dict]:
    """Update rows of one entry; the id is the display time and status (-2, -3 ... for repeats)."""
    updates, seen = [], Counter()
    for position, block in enumerate(blocks):
        try:
            status = update_status(block.status_word)
            display_at = parse_display_time(block.display_text, reference)
        except Invalid as exc:
            raise Invalid(f"{where}update {position + 1}: {exc}") from exc
        base = f"{display_at:%Y%m%dT%H%MZ}-{status}"
        seen[base] += 1
        updates.append({
            "provider": out.provider,
            "incident_id": incident_id,
            "update_id": base if seen[base] == 1 else f"{base}-{seen[base]}",
            "status": status,
            "body": block.body or None,
            "created_at": display_at,
            "updated_at": None,
            "display_at": display_at,
            "display_text": block.display_text,
            "snapshot_file": out.file,
            "snapshot_at": out.snapshot_at,
        })
    return updates


def _feed_time(text: str | None, name: str, rss: bool) -> dt.datetime | None:
    if not text:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text) if rss else dt.datetime.fromisoformat(text.strip())
    except (TypeError, ValueError, IndexError) as exc:
        kind = "an RFC 822 date" if rss else "an RFC 3339 time"
        raise Invalid(f"{name}: {text!r:.80} is not {kind}") from exc
    if parsed.tzinfo is None:
        if not rss:
            raise Invalid(f"{name}: {text!r:.80} has no UTC offset")
        parsed = parsed.replace(tzinfo=dt.UTC)  # RFC 2822 "-0000": UTC with unknown local zone
    return parsed.astimezone(dt.UTC)


def _entry_link(entry: ET.Element, rss: bool) -> str | None:
    if rss:
        return child_text(entry, "link")
    links = children(entry, "link")
    for link in links:
        if link.get("rel") in (None, "alternate") and link.get("href"):
            return link.get("href").strip()
    return links[0].get("href") if links else None


def _entry_content(entry: ET.Element, rss: bool) -> str:
    names = ("encoded", "description") if rss else ("content", "summary")
    for local in names:
        for element in children(entry, local):
            if not rss and element.get("type") == "xhtml":
                return "".join(ET.tostring(child, encoding="unicode") for child in element)
            text = "".join(element.itertext())
            if text.strip():
                return text
    return ""


def _affected_names(text: str, capabilities: Mapping[str, str]) -> list[str]:
    """'This incident affected: claude.ai and Claude API (api.anthropic.com).' -> component names."""
    listed = _AFFECTED_PREFIX.sub("", text).strip().rstrip(".").strip()
    names = []
    # Known names first (longest first), since a name may itself contain ', ' or ' and '.
    for known in sorted(capabilities, key=len, reverse=True):
        if known and known in listed:
            names.append(known)
            listed = listed.replace(known, "\x00")
    for piece in re.split(r",\s*|\s+and\s+|\x00", listed):
        piece = piece.strip(" ,.")
        if piece and piece.lower() != "and":
            names.append(piece)
    return names
