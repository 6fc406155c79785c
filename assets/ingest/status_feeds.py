"""Statuspage-style incident history feeds (Atom and RSS 2.0): one entry per incident.

An entry's HTML content holds its updates, newest first, one `<p>` each:
`<p><small>Mar <var data-var='date'>2</var>, <var data-var='time'>09:00</var> PST</small><br>
<strong>Resolved</strong> - This incident has been resolved.</p>`. The display time is Pacific and has no
year: the year is the one that puts the update closest to the entry's published date (so an update on
Jan 1 of an incident published Dec 31 lands in the next year), and the time is converted to UTC with
zoneinfo America/Los_Angeles, the PST/PDT label choosing the side of the autumn fold. The original text is
kept in `display_text`. Feeds carry no impact, so `impact` is null.

XML is parsed with expat directly and any DOCTYPE or entity declaration refuses the whole file, so
entity-expansion and external-entity tricks never reach the parser's expansion code.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from xml.parsers import expat
from zoneinfo import ZoneInfo

from assets.ingest.statuspage import (
    AFFECTED,
    INCIDENT_STATUSES,
    INCIDENTS,
    UPDATE_STATUSES,
    UPDATES,
    Invalid,
    ParsedSnapshot,
    SnapshotRows,
    complete_incident,
    decode_text,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_DISPLAY = re.compile(
    r"^(?P<month>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?,?\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<ampm>[AaPp][Mm])?\s+(?P<zone>[A-Z]{2,5})$"
)
# Fixed offsets the labels stand for; zoneinfo decides first, these settle a label the calendar disagrees with.
_ZONE_OFFSETS = {"PST": -8, "PDT": -7, "UTC": 0, "GMT": 0}
_INCIDENT_LINK = re.compile(r"/incidents/([A-Za-z0-9_-]+)/?(?:[?#].*)?$")
_INCIDENT_TAG = re.compile(r"Incident/([A-Za-z0-9_-]+)$")
_AFFECTED_PREFIX = re.compile(r"^\s*This incident affected:\s*", re.IGNORECASE)


class FeedError(Invalid):
    """The whole feed file is unusable (not XML, DOCTYPE, not a feed)."""


def parse_xml_document(data: bytes) -> ET.Element:
    """Parse XML into an ElementTree element, refusing DTDs and entity declarations outright."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def name(raw: str) -> str:
        uri, sep, local = raw.rpartition(" ")
        return f"{{{uri}}}{local}" if sep else raw

    def refuse(*_args: object) -> None:
        raise FeedError("XML with a DOCTYPE or entity declaration is refused (an HTML page, or unsafe XML)")

    parser.StartElementHandler = lambda tag, attrs: builder.start(name(tag), {name(k): v for k, v in attrs.items()})
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
        return builder.close()
    except expat.ExpatError as exc:
        raise FeedError(f"not well-formed XML (truncated or corrupt?): {expat.ErrorString(exc.code)} "
                        f"at line {exc.lineno} column {exc.offset}") from exc
    except (AssertionError, IndexError) as exc:  # TreeBuilder on a document without a root element
        raise FeedError("XML document without a root element") from exc


def feed_kind(root: ET.Element) -> str:
    """'atom' or 'rss' from the root element, or FeedError."""
    local = _local(root.tag)
    if local == "feed":
        return "atom"
    if local == "rss" or local == "RDF":
        return "rss"
    raise FeedError(f"root element <{local}> is neither an Atom <feed> nor an RSS <rss>")


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(element: ET.Element, local: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == local]


def _child_text(element: ET.Element, local: str) -> str | None:
    for child in _children(element, local):
        text = "".join(child.itertext()).strip()
        if text:
            return text
    return None


@dataclass
class FeedUpdate:
    display_text: str
    status_word: str
    body: str


class _UpdateBlocks(HTMLParser):
    """Split a history entry's HTML into update blocks: the <small> time, the <strong> status, the text after."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[dict[str, list[str]]] = []
        self._current: dict[str, list[str]] | None = None
        self._small = self._strong = 0

    def _block(self) -> dict[str, list[str]]:
        if self._current is None:
            self._current = {"small": [], "strong": [], "body": [], "text": []}
            self.blocks.append(self._current)
        return self._current

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "p":
            self._current = None
        elif tag == "small":
            block = self._block()
            if block["small"] and (block["strong"] or block["body"]):  # a second update without its own <p>
                self._current = None
            self._small += 1
        elif tag == "strong":
            self._strong += 1
        elif tag == "br":
            block = self._block()
            if block["strong"]:
                block["body"].append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "small":
            self._small = max(0, self._small - 1)
        elif tag == "strong":
            self._strong = max(0, self._strong - 1)
        elif tag == "p":
            self._current = None

    def handle_data(self, data: str) -> None:
        block = self._block()
        block["text"].append(data)
        if self._small:
            block["small"].append(data)
        elif self._strong and not block["body"]:
            block["strong"].append(data)
        elif block["strong"]:
            block["body"].append(data)


def _squash(parts: list[str]) -> str:
    return " ".join("".join(parts).split())


def split_updates(html: str) -> tuple[list[FeedUpdate], list[str]]:
    """The updates of one entry (document order, i.e. newest first) and any other paragraphs' text."""
    parser = _UpdateBlocks()
    parser.feed(html)
    parser.close()
    updates, other = [], []
    for block in parser.blocks:
        if block["small"]:
            body = "".join(block["body"])
            body = "\n".join(" ".join(line.split()) for line in body.splitlines()).strip()
            body = re.sub(r"^[-\u2013\u2014:]\s*", "", body).strip()
            updates.append(FeedUpdate(_squash(block["small"]), _squash(block["strong"]), body))
        elif text := _squash(block["text"]):
            other.append(text)
    return updates, other


def update_status(word: str) -> str:
    """'Resolved' -> resolved, 'In progress' -> in_progress; an unknown word is Invalid (never mapped)."""
    status = "_".join(word.lower().split())
    if status not in UPDATE_STATUSES:
        raise Invalid(f"update status {word!r:.60} is not one of "
                      f"{', '.join(s.replace('_', ' ').capitalize() for s in UPDATE_STATUSES)}")
    return status


def parse_display_time(text: str, reference: dt.datetime | None) -> dt.datetime:
    """'Mar 2, 09:00 PST' -> UTC datetime; the year is taken from `reference` (the entry's published date)."""
    match = _DISPLAY.match(text)
    if not match:
        raise Invalid(f"display time {text!r:.80} is not like 'Mar 2, 09:00 PST'")
    if match["month"] not in _MONTHS:
        raise Invalid(f"display time {text!r:.80}: unknown month {match['month']!r}")
    zone = match["zone"]
    if zone not in _ZONE_OFFSETS:
        raise Invalid(f"display time {text!r:.80}: time zone {zone!r} is not supported (expected PST, PDT or UTC)")
    hour, minute = int(match["hour"]), int(match["minute"])
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise Invalid(f"display time {text!r:.80}: hour {hour} with AM/PM")
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    if match["year"]:
        years = [int(match["year"])]
    elif reference is None:
        raise Invalid(f"display time {text!r:.80} has no year and the entry has no published/updated date")
    else:
        ref_year = reference.astimezone(PACIFIC).year
        years = [ref_year - 1, ref_year, ref_year + 1]
    candidates = []
    for year in years:
        try:
            candidates.append(_to_utc(year, _MONTHS[match["month"]], int(match["day"]), hour, minute, zone))
        except ValueError:
            continue
    if not candidates:
        raise Invalid(f"display time {text!r:.80} is not a real date/time")
    if reference is None:
        return candidates[0]
    return min(candidates, key=lambda when: abs(when - reference))


def _to_utc(year: int, month: int, day: int, hour: int, minute: int, zone: str) -> dt.datetime:
    if zone in ("UTC", "GMT"):
        return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
    # PST names the second (standard-time) occurrence of the repeated autumn hour, PDT the first.
    local = dt.datetime(year, month, day, hour, minute, tzinfo=PACIFIC, fold=1 if zone == "PST" else 0)
    if local.tzname() != zone:  # e.g. "PDT" in January: the label states the offset, so it wins
        local = local.replace(tzinfo=dt.timezone(dt.timedelta(hours=_ZONE_OFFSETS[zone])), fold=0)
    return local.astimezone(dt.UTC)


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
        return _child_text(entry, "link")
    links = _children(entry, "link")
    for link in links:
        if link.get("rel") in (None, "alternate") and link.get("href"):
            return link.get("href").strip()
    return links[0].get("href") if links else None


def _entry_content(entry: ET.Element, rss: bool) -> str:
    names = ("encoded", "description") if rss else ("content", "summary")
    for local in names:
        for element in _children(entry, local):
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


def _entry(out: SnapshotRows, entry: ET.Element, rss: bool, page_kind: str) -> None:
    """Validate one entry and add its rows; raise Invalid to quarantine the whole incident."""
    link = _entry_link(entry, rss)
    entry_id = _child_text(entry, "guid" if rss else "id")
    if not entry_id:
        # Atom requires exactly one <id> per entry (RFC 4287) and Statuspage's RSS always carries a <guid>:
        # an entry without one is broken, even when its link would still name the incident.
        raise Invalid(f"entry has no <{'guid' if rss else 'id'}> (link {link!r:.100})")
    # The incident code in the /incidents/<code> link is the id the JSON API uses too; the tag id
    # (tag:host,2005:Incident/<n>) only stands in when there is no such link.
    match = _INCIDENT_LINK.search(link or "") or _INCIDENT_LINK.search(entry_id) or _INCIDENT_TAG.search(entry_id)
    incident_id = match[1] if match else entry_id.strip()
    where = f"entry {incident_id!r}: "
    published = _feed_time(_child_text(entry, "pubDate" if rss else "published"), f"{where}published", rss)
    updated = None if rss else _feed_time(_child_text(entry, "updated"), f"{where}updated", rss)
    reference = published or updated

    blocks, paragraphs = split_updates(_entry_content(entry, rss))
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
    # The entry's status is its newest update's (document order breaks ties: newest is listed first).
    newest = sorted(
        (u for u in updates if u["status"] in INCIDENT_STATUSES), key=lambda u: u["display_at"], reverse=True
    )
    incident = {
        "provider": out.provider,
        "incident_id": incident_id,
        "title": _child_text(entry, "title"),
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
        out.reject(INCIDENTS, 0, str(exc), data[:2000].decode("utf-8", "replace"))
        return out.finish()
    rss = kind == "rss"
    if rss:
        entries = [item for channel in _children(root, "channel") for item in _children(channel, "item")]
        entries += _children(root, "item")  # RSS 1.0 (RDF) keeps items beside the channel
    else:
        entries = _children(root, "entry")
    for position, entry in enumerate(entries):
        try:
            _entry(out, entry, rss, kind)
        except Invalid as exc:
            out.reject(INCIDENTS, position + 1, str(exc), ET.tostring(entry, encoding="unicode")[:2000])
        except RecursionError:
            out.reject(INCIDENTS, position + 1, "entry nested too deeply", "")
    return out.finish()
