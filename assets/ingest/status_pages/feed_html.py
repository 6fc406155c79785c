"""The updates inside one history-feed entry's HTML content.

An entry's HTML content holds its updates, newest first, one `<p>` each:
`<p><small>Mar <var data-var='date'>2</var>, <var data-var='time'>09:00</var> PST</small><br>
<strong>Resolved</strong> - This incident has been resolved.</p>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from assets.ingest.status_pages.schema import UPDATE_STATUSES, Invalid


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
