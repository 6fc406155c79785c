"""XML for the history feeds, parsed with defusedxml: any DOCTYPE or entity declaration refuses the file.

So entity-expansion ("billion laughs") and external-entity tricks never reach expat's expansion code, and
an HTML error page served in place of the feed (`<!DOCTYPE html>`) is refused with a reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.parsers import expat

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from assets.ingest.status_pages.schema import Invalid


class FeedError(Invalid):
    """The whole feed file is unusable (not XML, DOCTYPE, not a feed)."""


def parse_xml_document(data: bytes) -> ET.Element:
    """Parse XML into an ElementTree element, refusing DTDs and entity declarations outright."""
    try:
        return defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise FeedError(
            "XML with a DOCTYPE or entity declaration is refused (an HTML page, or unsafe XML)"
        ) from exc
    except ET.ParseError as exc:
        line, column = exc.position
        raise FeedError(f"not well-formed XML (truncated or corrupt?): {expat.ErrorString(exc.code)} "
                        f"at line {line} column {column}") from exc


def feed_kind(root: ET.Element) -> str:
    """'atom' or 'rss' from the root element, or FeedError."""
    local = local_name(root.tag)
    if local == "feed":
        return "atom"
    if local == "rss" or local == "RDF":
        return "rss"
    raise FeedError(f"root element <{local}> is neither an Atom <feed> nor an RSS <rss>")


def local_name(tag: object) -> str:
    """`entry` for `{http://www.w3.org/2005/Atom}entry`; "" for comments and processing instructions."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def children(element: ET.Element, local: str) -> list[ET.Element]:
    return [child for child in element if local_name(child.tag) == local]


def child_text(element: ET.Element, local: str) -> str | None:
    """The first non-blank text of a child element named `local` (any namespace), stripped."""
    for child in children(element, local):
        text = "".join(child.itertext()).strip()
        if text:
            return text
    return None
