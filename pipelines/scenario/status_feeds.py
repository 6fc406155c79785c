"""Google-style incident history feeds (Atom or RSS) with Pacific display times (PST, or PDT from the second
Sunday of March: 8 March 2026). Every time is rendered on the written (shifted) calendar, so a shifted feed shows
the daylight-saving offset of its own dates."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from pipelines.scenario.dates import PACIFIC, pacific_iso
from pipelines.scenario.incidents import Incident, join_names
from pipelines.scenario.status_json import StatusPage

_LABEL = {"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
          "resolved": "Resolved", "postmortem": "Postmortem"}


def _base_url(page: StatusPage) -> str:
    parts = urlsplit(page.setup.page_url)
    return f"{parts.scheme}://{parts.netloc}"


def _pacific(page: StatusPage, moment: dt.datetime) -> dt.datetime:
    """The shifted moment in Pacific time."""
    return page.shift.moment(moment).astimezone(PACIFIC)


def feed_html(page: StatusPage, inc: Incident, at: dt.datetime) -> str:
    """The entry's HTML body: its updates up to `at`, newest first, then the affected components."""
    blocks = []
    for u in reversed([u for u in inc.updates if u.at <= at]):
        local = _pacific(page, u.at)
        blocks.append(
            f"<p><small>{local:%b} <var data-var='date'>{local.day}</var>, <var data-var='time'>"
            f"{local:%H:%M}</var> {local.tzname()}</small><br><strong>{_LABEL[u.status]}</strong> - "
            f"{escape(u.body)}</p>")
    names = inc.components
    if names:
        blocks.append(f"<p>This incident affected: {escape(join_names(names))}.</p>")
    return "".join(blocks)


def atom(page: StatusPage, listed: list[Incident], at: dt.datetime, bad_index: int | None) -> str:
    base = _base_url(page)
    host = urlsplit(base).netloc
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">',
             f"  <id>tag:{host},2005:/history</id>",
             f'  <link rel="alternate" type="text/html" href="{escape(base)}"/>',
             f'  <link rel="self" type="application/atom+xml" href="{escape(page.setup.page_url)}"/>',
             f"  <title>{escape(page.setup.display_name)} Status - Incident History</title>",
             f"  <updated>{pacific_iso(page.shift.moment(at))}</updated>",
             f"  <author><name>{escape(page.setup.display_name)}</name></author>"]
    for k, inc in enumerate(listed):
        last = max(u.at for u in inc.updates if u.at <= at)
        lines.append("  <entry>")
        if k != bad_index:  # the malformed entry has neither id nor link: nothing to key it by
            lines.append(f"    <id>tag:{host},2005:Incident/{inc.incident_id}</id>")
        lines += [f"    <published>{pacific_iso(page.shift.moment(inc.created_at))}</published>",
                  f"    <updated>{pacific_iso(page.shift.moment(last))}</updated>"]
        if k != bad_index:
            lines.append(f'    <link rel="alternate" type="text/html" href="{escape(base)}/incidents/{inc.incident_id}"/>')
        lines += [f"    <title>{escape(inc.title)}</title>",
                  f'    <content type="html">{escape(feed_html(page, inc, at))}</content>',
                  "  </entry>"]
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


def rss(page: StatusPage, listed: list[Incident], at: dt.datetime, bad_index: int | None) -> str:
    base = _base_url(page)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<rss version="2.0">', "  <channel>",
             f"    <title>{escape(page.setup.display_name)} Status - Incident History</title>",
             f"    <link>{escape(base)}</link>",
             "    <description>Statuspage</description>",
             f"    <pubDate>{format_datetime(_pacific(page, at))}</pubDate>"]
    for k, inc in enumerate(listed):
        lines += ["    <item>", f"      <title>{escape(inc.title)}</title>",
                  f"      <description>{escape(feed_html(page, inc, at))}</description>",
                  f"      <pubDate>{format_datetime(_pacific(page, inc.created_at))}</pubDate>"]
        if k != bad_index:  # the malformed item has neither link nor guid
            lines += [f"      <link>{escape(base)}/incidents/{inc.incident_id}</link>",
                      f"      <guid>{escape(base)}/incidents/{inc.incident_id}</guid>"]
        lines.append("    </item>")
    lines += ["  </channel>", "</rss>"]
    return "\n".join(lines) + "\n"
