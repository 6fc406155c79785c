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

from pipelines.scenario.dates import UTC, day_start
from pipelines.scenario.output import Ledger
from pipelines.scenario.providers import PROVIDER_CODE, PROVIDERS
from pipelines.scenario.rng import S_MALFORMED, S_STATUS, rng_for
from pipelines.scenario.status_feeds import atom, rss
from pipelines.scenario.status_json import StatusPage
from pipelines.scenario.world import World

SOURCE = "status_pages"
BAD_TIMESTAMP = "2026-02-30T25:61:00Z"
_BAD_KINDS = {"statuspage": ("unknown_impact", "invalid_timestamp"), "incident_io": ("missing_id",),
              "atom": ("missing_id",), "rss": ("missing_id",)}

Plan = list[tuple[dt.datetime, str]]  # (moment, what) with what in {incidents, summary, atom, rss}


def _file_stamp(page: StatusPage, moment: dt.datetime) -> str:
    """The snapshot's UTC stamp in the written (shifted) calendar."""
    return page.world.shift.moment(moment).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _snapshot_plan(world: World, page: StatusPage) -> Plan:
    """(moment, what) for every file of this provider: what in {incidents, summary, atom, rss}."""
    kind = page.setup.page_kind
    lo, hi = day_start(world.start), day_start(world.end) + dt.timedelta(days=1)
    plan: Plan = []
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


def _choose_bad(world: World, plans: dict[str, Plan]) -> dict[tuple[str, int], str]:
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


def _write_json_snapshot(ledger: Ledger, page: StatusPage, moment: dt.datetime, what: str,
                         damage: str | None, pick: int) -> None:
    """An `-incidents.json` (maybe with one damaged record) or a `-summary.json` snapshot."""
    name = f"{_file_stamp(page, moment)}-{what}.json"
    if what == "summary":
        doc = page.summary_json(moment)
        records = len(doc["incidents"])
    else:
        listed = page.recent(moment)
        planted_ids = {i.incident_id for i in listed if i.planted}
        docs = [page.incident_json(i, moment, page.setup.page_kind) for i in listed]
        doc = {"page": page.page_json(moment), "incidents": docs}
        records = len(docs)
        if damage and docs:
            # never damage a planted outage: it must parse in every snapshot
            safe = [k for k, d in enumerate(docs) if d["id"] not in planted_ids]
            record_no = _damage_json(docs, damage, safe[pick % len(safe)] if safe else 0)
            ledger.mark_bad(SOURCE, ledger.rel(SOURCE, page.provider, name), record_no, damage)
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    ledger.write(SOURCE, (SOURCE, page.provider, name), text, records)


def _write_feed(ledger: Ledger, page: StatusPage, moment: dt.datetime, what: str, damage: str | None,
                pick: int) -> None:
    """An Atom or RSS history feed; a damaged entry is never a planted outage."""
    listed = page.recent(moment)
    bad_index = None
    if damage and listed:
        safe = [k for k, i in enumerate(listed) if not i.planted] or [0]
        bad_index = safe[pick % len(safe)]
    text = (atom if what == "atom" else rss)(page, listed, moment, bad_index)
    name = f"{_file_stamp(page, moment)}.{what}"
    ledger.write(SOURCE, (SOURCE, page.provider, name), text, len(listed))
    if bad_index is not None:
        ledger.mark_bad(SOURCE, ledger.rel(SOURCE, page.provider, name), bad_index + 1, damage)


def write_status_pages(world: World, ledger: Ledger) -> set[str]:
    """Write every provider's snapshots; return the ids of the incidents listed in at least one of them."""
    pages = {p: StatusPage(world, p) for p in PROVIDERS}
    plans = {p: _snapshot_plan(world, pages[p]) for p in PROVIDERS}
    bad = _choose_bad(world, plans)
    for provider in PROVIDERS:
        for index, (moment, what) in enumerate(plans[provider]):
            damage = bad.get((provider, index))
            pick = int(rng_for(world.seed, S_MALFORMED, 101, PROVIDER_CODE[provider], index).integers(0, 1000))
            write = _write_json_snapshot if what in ("incidents", "summary") else _write_feed
            write(ledger, pages[provider], moment, what, damage, pick)
    return set().union(*(page.listed for page in pages.values()))


def listed_incident_ids(world: World) -> set[str]:
    """Ids of the incidents that the snapshots of this range list (without writing anything)."""
    listed: set[str] = set()
    for provider in PROVIDERS:
        page = StatusPage(world, provider)
        for moment, what in _snapshot_plan(world, page):
            if what != "summary":
                page.recent(moment)
        listed |= page.listed
    return listed
