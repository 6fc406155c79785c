"""One provider's status page as of any moment, and its JSON documents (Statuspage v2 and incident.io's
Statuspage-compatible shape): which incidents it lists, in what state, with which timestamps."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from pipelines.scenario.dates import UTC
from pipelines.scenario.ids import stable_id
from pipelines.scenario.incidents import Incident, Update
from pipelines.scenario.world import World

SNAPSHOT_LIMIT = 50
COMPONENTS_CREATED_AT = dt.datetime(2023, 7, 11, 16, 0, tzinfo=UTC)  # when the page's components were set up
_INDICATOR = {"none": "All Systems Operational", "minor": "Minor Service Outage",
              "major": "Partial System Outage", "critical": "Major Service Outage"}
_IMPACT_RANK = ("none", "minor", "major", "critical")


@lru_cache(maxsize=200_000)
def stable_ms(seed: int, key: str) -> int:
    """A deterministic 0-999 from the seed and a key (milliseconds of page timestamps, null rolls)."""
    return int(stable_id(seed, "ms", key, length=3, alphabet="0123456789")) % 1000


def _component_states(incidents: list[Incident], at: dt.datetime) -> dict[str, tuple[str, dt.datetime]]:
    """Component -> (status shown on the page, time of that change) after all updates up to `at`."""
    changes = sorted((u.at, c, new) for inc in incidents for u in inc.updates if u.at <= at
                     for c, _, new in u.affected)
    state: dict[str, tuple[str, dt.datetime]] = {}
    for moment, comp, new in changes:
        state[comp] = (new, moment)
    return state


class StatusPage:
    """One provider's page as of any moment: which incidents it lists and in what state."""

    def __init__(self, world: World, provider: str):
        self.world = world
        self.shift = world.shift
        self.seed = world.seed
        self.setup = world.setup.providers[provider]
        self.provider = provider
        self.incidents = sorted(world.incidents[provider], key=lambda i: (i.created_at, i.incident_id))
        self.page_id = stable_id(world.seed, provider, "page")
        self.comp_ids = {name: stable_id(world.seed, provider, "component", name) for name, _ in
                         self.setup.components}
        self.listed: set[str] = set()  # ids of every incident recent() returned

    def recent(self, at: dt.datetime) -> list[Incident]:
        """The SNAPSHOT_LIMIT newest incidents posted by `at`, newest first (remembered in `listed`)."""
        seen = [i for i in self.incidents if i.created_at <= at]
        out = list(reversed(seen[-SNAPSHOT_LIMIT:]))
        self.listed.update(i.incident_id for i in out)
        return out

    def open_at(self, at: dt.datetime) -> list[Incident]:
        return [i for i in self.incidents if i.created_at <= at and not (i.page_resolved_at and i.page_resolved_at <= at)]

    def ts(self, moment: dt.datetime | None, key: str) -> str | None:
        """The page's timestamp text: the shifted moment in UTC with deterministic milliseconds, or None.

        `key` names the value on the canonical calendar, so a shifted page keeps the same milliseconds.
        """
        if moment is None:
            return None
        return f"{self.shift.moment(moment).astimezone(UTC):%Y-%m-%dT%H:%M:%S}.{stable_ms(self.seed, key):03d}Z"

    def page_json(self, at: dt.datetime) -> dict:
        return {"id": self.page_id, "name": self.setup.display_name, "url": self.setup.page_url,
                "time_zone": "Etc/UTC", "updated_at": self.ts(at, f"page{at}")}

    def component_json(self, name: str, position: int, status: str, updated: dt.datetime | None) -> dict:
        created = COMPONENTS_CREATED_AT
        return {"id": self.comp_ids[name], "name": name, "status": status,
                "created_at": self.ts(created, name), "updated_at": self.ts(updated or created, f"{name}{updated}"),
                "position": position, "description": None, "showcase": True,
                "start_date": self.shift.day_iso(created.date()),
                "group_id": None, "page_id": self.page_id, "group": False, "only_show_if_degraded": False}

    def incident_json(self, inc: Incident, at: dt.datetime, variant: str) -> dict:
        """The incident as the page shows it at `at`; variant "statuspage" or anything else for incident.io."""
        ups = [u for u in inc.updates if u.at <= at]
        states = _component_states([inc], at)
        positions = {name: k + 1 for k, (name, _) in enumerate(self.setup.components)}
        components = [self.component_json(c, positions.get(c, 0), states.get(c, ("operational", None))[0],
                                          states.get(c, (None, None))[1]) for c in inc.components]
        if variant == "statuspage":
            return self._statuspage_incident(inc, ups, components)
        return self._incident_io_incident(inc, ups, components)

    def _first_ts(self, ups: list[Update], status: str) -> str | None:
        """monitoring_at / resolved_at = that update's own time."""
        update = next((u for u in ups if u.status == status), None)
        return None if update is None else self.ts(update.at, update.update_id)

    def _statuspage_incident(self, inc: Incident, ups: list[Update], components: list[dict]) -> dict:
        key = inc.incident_id
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
                "monitoring_at": self._first_ts(ups, "monitoring"), "resolved_at": self._first_ts(ups, "resolved"),
                "impact": inc.impact, "shortlink": f"https://stspg.io/{stable_id(self.seed, key, 'short', length=9)}",
                "started_at": self.ts(inc.page_started_at, key + "s"), "page_id": self.page_id,
                "incident_updates": updates, "components": components}

    def _incident_io_incident(self, inc: Incident, ups: list[Update], components: list[dict]) -> dict:
        # incident.io's Statuspage-compatible API: no started_at, shortlink or affected_components; some nulls
        updates = []
        for u in reversed(ups):
            roll = stable_ms(self.seed, u.update_id + "null") % 10
            updates.append({"id": u.update_id, "incident_id": inc.incident_id, "status": u.status, "body": u.body,
                            "created_at": self.ts(u.at, u.update_id),
                            "updated_at": None if roll == 0 else self.ts(u.at, u.update_id),
                            "display_at": None if roll == 1 else self.ts(u.at, u.update_id)})
        return {"id": inc.incident_id, "name": inc.title, "status": ups[-1].status, "impact": inc.impact,
                "created_at": self.ts(inc.created_at, ups[0].update_id),
                "updated_at": self.ts(ups[-1].at, ups[-1].update_id),
                "monitoring_at": self._first_ts(ups, "monitoring"), "resolved_at": self._first_ts(ups, "resolved"),
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
