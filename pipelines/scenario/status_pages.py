"""Status-page snapshots as a poller would have archived them: raw/status_pages/<provider>/<UTC-stamp>...

* kind `statuspage` (Anthropic): `<stamp>-incidents.json` once a day (23:50 UTC) with the 50 most recent
  incidents as of that moment, extra snapshots every 45 minutes while a planted outage is open, and
  `<stamp>-summary.json` on Mondays and with every outage snapshot.
* kind `incident_io` (OpenAI): the same daily `-incidents.json`, in incident.io's Statuspage-compatible shape:
  no started_at, no shortlink, no affected_components, and some null update times.
* kind `atom` / `rss` (Google): a weekly history feed (Sundays 23:55 UTC, plus the last day of the range)
  with Pacific display times (PST, PDT from 8 March 2026).
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from email.utils import format_datetime
from functools import lru_cache
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from pipelines.scenario.output import Ledger
from pipelines.scenario.timeline import (
    PROVIDER_CODE,
    PROVIDERS,
    S_MALFORMED,
    S_STATUS,
    UTC,
    Incident,
    World,
    day_start,
    rng_for,
    stable_id,
)

SOURCE = "status_pages"
SNAPSHOT_LIMIT = 50
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")
_LABEL = {"investigating": "Investigating", "identified": "Identified", "monitoring": "Monitoring",
          "resolved": "Resolved", "postmortem": "Postmortem"}
_INDICATOR = {"none": "All Systems Operational", "minor": "Minor Service Outage",
              "major": "Partial System Outage", "critical": "Major Service Outage"}
_IMPACT_RANK = ("none", "minor", "major", "critical")
BAD_TIMESTAMP = "2026-02-30T25:61:00Z"


@lru_cache(maxsize=200_000)
def _ms(seed: int, key: str) -> int:
    return int(stable_id(seed, "ms", key, length=3, alphabet="0123456789")) % 1000


def _stamp_ms(seed: int, moment: dt.datetime, key: str) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}.{_ms(seed, key):03d}Z"


def _file_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _component_states(incidents: list[Incident], at: dt.datetime) -> dict[str, tuple[str, dt.datetime]]:
    """Component -> (status shown on the page, time of that change) after all updates up to `at`."""
    changes = sorted((u.at, c, new) for inc in incidents for u in inc.updates if u.at <= at
                     for c, _, new in u.affected)
    state: dict[str, tuple[str, dt.datetime]] = {}
    for moment, comp, new in changes:
        state[comp] = (new, moment)
    return state


class _Page:
    """One provider's page as of any moment: which incidents it lists and in what state."""

    def __init__(self, world: World, provider: str):
        self.world = world
        self.seed = world.seed
        self.setup = world.setup.providers[provider]
        self.provider = provider
        self.incidents = sorted(world.incidents[provider], key=lambda i: (i.created_at, i.incident_id))
        self.page_id = stable_id(world.seed, provider, "page")
        self.comp_ids = {name: stable_id(world.seed, provider, "component", name) for name, _ in
                         self.setup.components}
        self.listed: set[str] = set()

    def recent(self, at: dt.datetime) -> list[Incident]:
        seen = [i for i in self.incidents if i.created_at <= at]
        out = list(reversed(seen[-SNAPSHOT_LIMIT:]))
        self.listed.update(i.incident_id for i in out)
        return out

    def open_at(self, at: dt.datetime) -> list[Incident]:
        return [i for i in self.incidents if i.created_at <= at and not (i.page_resolved_at and i.page_resolved_at <= at)]

    def ts(self, moment: dt.datetime | None, key: str) -> str | None:
        return None if moment is None else _stamp_ms(self.seed, moment, key)

    def page_json(self, at: dt.datetime) -> dict:
        return {"id": self.page_id, "name": self.setup.display_name, "url": self.setup.page_url,
                "time_zone": "Etc/UTC", "updated_at": self.ts(at, f"page{at}")}

    def component_json(self, name: str, position: int, status: str, updated: dt.datetime | None) -> dict:
        created = dt.datetime(2023, 7, 11, 16, 0, tzinfo=UTC)
        return {"id": self.comp_ids[name], "name": name, "status": status,
                "created_at": self.ts(created, name), "updated_at": self.ts(updated or created, f"{name}{updated}"),
                "position": position, "description": None, "showcase": True, "start_date": "2023-07-11",
                "group_id": None, "page_id": self.page_id, "group": False, "only_show_if_degraded": False}

    def incident_json(self, inc: Incident, at: dt.datetime, variant: str) -> dict:
        ups = [u for u in inc.updates if u.at <= at]

        def first(status: str) -> str | None:  # monitoring_at / resolved_at = that update's own time
            update = next((u for u in ups if u.status == status), None)
            return None if update is None else self.ts(update.at, update.update_id)

        states = _component_states([inc], at)
        positions = {name: k + 1 for k, (name, _) in enumerate(self.setup.components)}
        components = [self.component_json(c, positions.get(c, 0), states.get(c, ("operational", None))[0],
                                          states.get(c, (None, None))[1]) for c in inc.components]
        key = inc.incident_id
        if variant == "statuspage":
            updates = [{"id": u.update_id, "status": u.status, "body": u.body, "incident_id": inc.incident_id,
                        "created_at": self.ts(u.at, u.update_id), "updated_at": self.ts(u.at, u.update_id),
                        "display_at": self.ts(u.at, u.update_id),
                        "affected_components": [{"code": self.comp_ids.get(c, c), "name": c, "old_status": old,
                                                 "new_status": new} for c, old, new in u.affected] or None,
                        "deliver_notifications": True, "custom_tweet": None, "tweet_id": None}
                       for u in reversed(ups)]
            return {"id": inc.incident_id, "name": inc.title, "status": ups[-1].status,
                    "created_at": self.ts(inc.created_at, ups[0].update_id),
                    "updated_at": self.ts(ups[-1].at, ups[-1].update_id),
                    "monitoring_at": first("monitoring"), "resolved_at": first("resolved"),
                    "impact": inc.impact, "shortlink": f"https://stspg.io/{stable_id(self.seed, key, 'short', length=9)}",
                    "started_at": self.ts(inc.page_started_at, key + "s"), "page_id": self.page_id,
                    "incident_updates": updates, "components": components}
        # incident.io's Statuspage-compatible API: no started_at, shortlink or affected_components; some nulls
        updates = []
        for u in reversed(ups):
            roll = _ms(self.seed, u.update_id + "null") % 10
            updates.append({"id": u.update_id, "incident_id": inc.incident_id, "status": u.status, "body": u.body,
                            "created_at": self.ts(u.at, u.update_id),
                            "updated_at": None if roll == 0 else self.ts(u.at, u.update_id),
                            "display_at": None if roll == 1 else self.ts(u.at, u.update_id)})
        return {"id": inc.incident_id, "name": inc.title, "status": ups[-1].status, "impact": inc.impact,
                "created_at": self.ts(inc.created_at, ups[0].update_id),
                "updated_at": self.ts(ups[-1].at, ups[-1].update_id),
                "monitoring_at": first("monitoring"), "resolved_at": first("resolved"),
                "page_id": self.page_id, "incident_updates": updates,
                "components": [{"id": c["id"], "name": c["name"], "status": c["status"]} for c in components]}

    def summary_json(self, at: dt.datetime) -> dict:
        open_now = self.open_at(at)
        states = _component_states(open_now, at)
        components = [self.component_json(name, k + 1, *states.get(name, ("operational", None)))
                      for k, (name, _) in enumerate(self.setup.components)]
        impact = max((i.impact for i in open_now if i.impact in _IMPACT_RANK), key=_IMPACT_RANK.index,
                     default="none")
        return {"page": self.page_json(at), "components": components,
                "incidents": [self.incident_json(i, at, "statuspage") for i in reversed(open_now)],
                "scheduled_maintenances": [], "status": {"indicator": impact, "description": _INDICATOR[impact]}}

    # -- history feeds ---------------------------------------------------------------------------------
    def base_url(self) -> str:
        parts = urlsplit(self.setup.page_url)
        return f"{parts.scheme}://{parts.netloc}"

    def feed_html(self, inc: Incident, at: dt.datetime) -> str:
        blocks = []
        for u in reversed([u for u in inc.updates if u.at <= at]):
            local = u.at.astimezone(PACIFIC)
            blocks.append(
                f"<p><small>{local:%b} <var data-var='date'>{local.day}</var>, <var data-var='time'>"
                f"{local:%H:%M}</var> {local.tzname()}</small><br><strong>{_LABEL[u.status]}</strong> - "
                f"{escape(u.body)}</p>")
        names = inc.components
        if names:
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            blocks.append(f"<p>This incident affected: {escape(listed)}.</p>")
        return "".join(blocks)


def _snapshot_plan(world: World, page: _Page) -> list[tuple[dt.datetime, str]]:
    """(moment, what) for every file of this provider: what in {incidents, summary, atom, rss}."""
    kind = page.setup.page_kind
    lo, hi = day_start(world.start), day_start(world.end) + dt.timedelta(days=1)
    plan: list[tuple[dt.datetime, str]] = []
    for day in world.days:
        r = rng_for(world.seed, S_STATUS, PROVIDER_CODE[page.provider], day.toordinal())
        jitter = dt.timedelta(seconds=int(r.integers(0, 540)))
        if kind in ("statuspage", "incident_io"):
            plan.append((day_start(day) + dt.timedelta(hours=23, minutes=50) + jitter, "incidents"))
            if kind == "statuspage" and day.weekday() == 0:
                plan.append((day_start(day) + dt.timedelta(hours=12) + jitter, "summary"))
        elif day.weekday() == 6 or day == world.end:
            plan.append((day_start(day) + dt.timedelta(hours=23, minutes=55) + jitter, kind))
    if kind in ("statuspage", "incident_io"):
        for inc in page.incidents:  # poll more often while a planted outage is open
            if not inc.planted or inc.page_resolved_at is None:
                continue
            moment = inc.created_at + dt.timedelta(minutes=4)
            while moment <= inc.page_resolved_at + dt.timedelta(minutes=20):
                plan.append((moment, "incidents"))
                if kind == "statuspage":
                    plan.append((moment + dt.timedelta(seconds=2), "summary"))
                moment += dt.timedelta(minutes=45)
    return sorted((m, w) for m, w in plan if lo <= m < hi)


_BAD_KINDS = {"statuspage": ("unknown_impact", "invalid_timestamp"), "incident_io": ("missing_id",),
              "atom": ("missing_id",), "rss": ("missing_id",)}


def _choose_bad(world: World, plans: dict[str, list[tuple[dt.datetime, str]]]) -> dict[tuple[str, int], str]:
    """(provider, plan index) -> malformation; about one a week, the first ones one per provider."""
    r = rng_for(world.seed, S_MALFORMED, 100, world.start.toordinal(), world.end.toordinal())
    wanted = max(3, round(len(world.days) / 7))
    chosen: dict[tuple[str, int], str] = {}
    turn = 0
    while len(chosen) < wanted and turn < wanted * 4:
        provider = PROVIDERS[turn % len(PROVIDERS)]
        kind = world.setup.providers[provider].page_kind
        candidates = [k for k, (_, what) in enumerate(plans[provider]) if what != "summary"]
        if candidates:
            index = candidates[int(r.integers(0, len(candidates)))]
            kinds = _BAD_KINDS[kind]
            chosen.setdefault((provider, index), kinds[(turn // len(PROVIDERS)) % len(kinds)])
        turn += 1
    return chosen


def _damage_json(incidents: list[dict], kind: str, pick: int) -> int:
    """Break one incident record (not a planted one) of a snapshot; return its 1-based record number."""
    target = pick % len(incidents)
    if kind == "unknown_impact":
        incidents[target]["impact"] = "catastrophic"
    elif kind == "invalid_timestamp":
        incidents[target]["created_at"] = BAD_TIMESTAMP
    elif kind == "missing_id":
        del incidents[target]["id"]
    return target + 1


def write_status_pages(world: World, ledger: Ledger) -> set[str]:
    """Write every provider's snapshots; return the ids of the incidents listed in at least one of them."""
    pages = {p: _Page(world, p) for p in PROVIDERS}
    plans = {p: _snapshot_plan(world, pages[p]) for p in PROVIDERS}
    bad = _choose_bad(world, plans)
    for provider in PROVIDERS:
        page = pages[provider]
        kind = page.setup.page_kind
        for index, (moment, what) in enumerate(plans[provider]):
            stamp = _file_stamp(moment)
            damage = bad.get((provider, index))
            pick = int(rng_for(world.seed, S_MALFORMED, 101, PROVIDER_CODE[provider], index).integers(0, 1000))
            if what in ("incidents", "summary"):
                if what == "summary":
                    doc = page.summary_json(moment)
                    records = len(doc["incidents"])
                else:
                    listed = page.recent(moment)
                    planted_ids = {i.incident_id for i in listed if i.planted}
                    docs = [page.incident_json(i, moment, kind) for i in listed]
                    doc = {"page": page.page_json(moment), "incidents": docs}
                    records = len(docs)
                    if damage and docs:
                        # never damage a planted outage: it must parse in every snapshot
                        safe = [k for k, d in enumerate(docs) if d["id"] not in planted_ids]
                        record_no = _damage_json(docs, damage, safe[pick % len(safe)] if safe else 0)
                        ledger.mark_bad(SOURCE, ledger.rel(SOURCE, provider, f"{stamp}-{what}.json"), record_no,
                                        damage)
                text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
                ledger.write(SOURCE, (SOURCE, provider, f"{stamp}-{what}.json"), text, records)
            else:
                listed = page.recent(moment)
                bad_index = None
                if damage and listed:
                    safe = [k for k, i in enumerate(listed) if not i.planted] or [0]
                    bad_index = safe[pick % len(safe)]
                text = (_atom if what == "atom" else _rss)(page, listed, moment, bad_index)
                name = f"{stamp}.{what}"
                ledger.write(SOURCE, (SOURCE, provider, name), text, len(listed))
                if bad_index is not None:
                    ledger.mark_bad(SOURCE, ledger.rel(SOURCE, provider, name), bad_index + 1, damage)
    return set().union(*(page.listed for page in pages.values()))


def _pacific_iso(moment: dt.datetime) -> str:
    return moment.astimezone(PACIFIC).isoformat(timespec="seconds")


def _atom(page: _Page, listed: list[Incident], at: dt.datetime, bad_index: int | None) -> str:
    base = page.base_url()
    host = urlsplit(base).netloc
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">',
             f"  <id>tag:{host},2005:/history</id>",
             f'  <link rel="alternate" type="text/html" href="{escape(base)}"/>',
             f'  <link rel="self" type="application/atom+xml" href="{escape(page.setup.page_url)}"/>',
             f"  <title>{escape(page.setup.display_name)} Status - Incident History</title>",
             f"  <updated>{_pacific_iso(at)}</updated>",
             f"  <author><name>{escape(page.setup.display_name)}</name></author>"]
    for k, inc in enumerate(listed):
        last = max(u.at for u in inc.updates if u.at <= at)
        lines.append("  <entry>")
        if k != bad_index:  # the malformed entry has neither id nor link: nothing to key it by
            lines.append(f"    <id>tag:{host},2005:Incident/{inc.incident_id}</id>")
        lines += [f"    <published>{_pacific_iso(inc.created_at)}</published>",
                  f"    <updated>{_pacific_iso(last)}</updated>"]
        if k != bad_index:
            lines.append(f'    <link rel="alternate" type="text/html" href="{escape(base)}/incidents/{inc.incident_id}"/>')
        lines += [f"    <title>{escape(inc.title)}</title>",
                  f'    <content type="html">{escape(page.feed_html(inc, at))}</content>',
                  "  </entry>"]
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


def _rss(page: _Page, listed: list[Incident], at: dt.datetime, bad_index: int | None) -> str:
    base = page.base_url()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<rss version="2.0">', "  <channel>",
             f"    <title>{escape(page.setup.display_name)} Status - Incident History</title>",
             f"    <link>{escape(base)}</link>",
             "    <description>Statuspage</description>",
             f"    <pubDate>{format_datetime(at.astimezone(PACIFIC))}</pubDate>"]
    for k, inc in enumerate(listed):
        lines += ["    <item>", f"      <title>{escape(inc.title)}</title>",
                  f"      <description>{escape(page.feed_html(inc, at))}</description>",
                  f"      <pubDate>{format_datetime(inc.created_at.astimezone(PACIFIC))}</pubDate>"]
        if k != bad_index:  # the malformed item has neither link nor guid
            lines += [f"      <link>{escape(base)}/incidents/{inc.incident_id}</link>",
                      f"      <guid>{escape(base)}/incidents/{inc.incident_id}</guid>"]
        lines.append("    </item>")
    lines += ["  </channel>", "</rss>"]
    return "\n".join(lines) + "\n"


def listed_incident_ids(world: World) -> set[str]:
    """Ids of the incidents that the snapshots of this range list (without writing anything)."""
    listed: set[str] = set()
    for provider in PROVIDERS:
        page = _Page(world, provider)
        for moment, what in _snapshot_plan(world, page):
            if what != "summary":
                page.recent(moment)
        listed |= page.listed
    return listed
