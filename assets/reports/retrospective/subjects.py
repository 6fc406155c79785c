"""Which incidents get a retrospective: top by cost (then impact, duration), plus the focus day's groups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from assets.reports.costs import CostRow, is_incident_cost
from assets.reports.page import slugify

TOP_N = 5
FOCUS_DAY = dt.date(2026, 3, 2)  # the 2 March 2026 Claude outage: always gets a retrospective
IMPACT_RANK = {"critical": 4, "major": 3, "minor": 2, "none": 1, "maintenance": 0}


@dataclass
class Subject:
    """One retrospective: the incidents it covers (primary first) and their reconciliation group."""

    slug: str
    provider: str
    incidents: list[dict]
    group: dict | None
    reason: str

    @property
    def title(self) -> str:
        if self.incidents:
            return str(self.incidents[0].get("title") or self.incidents[0].get("incident_id"))
        sources = (self.group or {}).get("sources")
        seen_by = (
            ", ".join(str(s) for s in sources) if isinstance(sources, list) and sources else "our evidence"
        )
        return f"Impact seen by {seen_by} with no vendor incident"

    @property
    def start(self) -> dt.datetime | None:
        candidates = [i.get("started_at") for i in self.incidents]
        if self.group:
            candidates += [self.group.get("triangulated_start"), self.group.get("started_at")]
        candidates = [c for c in candidates if c is not None]
        return min(candidates) if candidates else None

    @property
    def end(self) -> dt.datetime | None:
        candidates = [i.get("resolved_at") for i in self.incidents]
        if self.group:
            candidates.append(self.group.get("ended_at"))
        candidates = [c for c in candidates if c is not None]
        return max(candidates) if candidates else None


def group_incident_ids(group: dict) -> list[str]:
    ids = group.get("vendor_incident_ids")
    if ids is None:
        ids = group.get("incident_ids")
    if isinstance(ids, str):  # a mart that stored the list as text
        ids = [part.strip() for part in ids.split(",") if part.strip()]
    return [str(i) for i in (ids or [])]


def base_costs(costs: Sequence[CostRow]) -> dict[tuple[str, str], CostRow]:
    return {
        (str(c.provider), str(c.incident_id)): c
        for c in costs
        if c.scenario == "base" and is_incident_cost(c) and c.total is not None
    }


def _incident_key(row: dict) -> tuple[str, str]:
    return str(row["provider"]), str(row["incident_id"])


class _Candidates:
    """The incidents (maintenance left out), their reconciliation groups and base costs, to rank from."""

    def __init__(self, rows: list[dict], groups: list[dict], costs: Sequence[CostRow]):
        self.by_incident = {_incident_key(r): r for r in rows}
        self.group_of: dict[tuple[str, str], dict] = {}
        for group in groups:
            for incident_id in group_incident_ids(group):
                self.group_of.setdefault((str(group.get("provider")), incident_id), group)
        self.cost = base_costs(costs)

    def rank(self, row: dict) -> tuple:
        key = _incident_key(row)
        total = self.cost[key].total if key in self.cost else None
        duration = row.get("duration_minutes")
        return (
            total is None,
            -(total or 0.0),
            -IMPACT_RANK.get(str(row.get("impact")), 1),
            -(duration or 0.0),
            str(row.get("started_at") or ""),
            key,
        )

    def members(self, group: dict) -> list[dict]:
        found = [self.by_incident.get((str(group.get("provider")), i)) for i in group_incident_ids(group)]
        return [m for m in found if m is not None]

    def subject(self, primary: dict | None, group: dict | None, reason: str) -> Subject:
        members = [primary] if primary else []
        if group is not None:
            others = [o for o in self.members(group) if o is not primary]
            members += sorted(
                others, key=lambda r: (-IMPACT_RANK.get(str(r.get("impact")), 1), str(r.get("started_at")))
            )
        provider = str(primary["provider"] if primary else (group or {}).get("provider"))
        return Subject("", provider, members, group, reason)


def select_subjects(
    incidents: pl.DataFrame | None,
    reconciliation: pl.DataFrame | None,
    costs: Sequence[CostRow] = (),
    top_n: int = TOP_N,
    focus_day: dt.date = FOCUS_DAY,
) -> list[Subject]:
    """The retrospectives to write: top `top_n` by base cost (then impact, duration), grouped by
    reconciliation group, plus every group that starts on `focus_day`."""
    rows = [] if incidents is None else incidents.to_dicts()
    rows = [r for r in rows if r.get("impact") != "maintenance" and r.get("incident_id") is not None]
    groups = [] if reconciliation is None else reconciliation.to_dicts()
    candidates = _Candidates(rows, groups, costs)
    subjects: list[Subject] = []
    covered_groups: set[str] = set()

    for row in sorted(rows, key=candidates.rank):
        if len(subjects) >= top_n:
            break
        key = _incident_key(row)
        group = candidates.group_of.get(key)
        if group is not None:
            if group.get("group_id") in covered_groups:
                continue
            covered_groups.add(group.get("group_id"))
        reason = (
            "top by downtime cost (base scenario)"
            if key in candidates.cost
            else "top by vendor impact and duration"
        )
        subjects.append(candidates.subject(row, group, reason))

    for group in sorted(groups, key=lambda g: str(g.get("triangulated_start") or g.get("started_at"))):
        start = group.get("triangulated_start") or group.get("started_at")
        if start is None or start.astimezone(dt.UTC).date() != focus_day:
            continue
        if group.get("group_id") in covered_groups:
            continue
        covered_groups.add(group.get("group_id"))
        members = sorted(candidates.members(group), key=candidates.rank)
        subjects.append(
            candidates.subject(members[0] if members else None, group, f"reconciled group on {focus_day}")
        )
    _assign_slugs(subjects)
    return subjects


def _assign_slugs(subjects: list[Subject]) -> None:
    """`<start day>-<provider>-<incident or group id>`, unique within the run."""
    used: set[str] = set()
    for subject in subjects:
        start = subject.start
        ident = (
            subject.incidents[0]["incident_id"] if subject.incidents else f"group-{subject.group['group_id']}"
        )
        base = slugify(
            f"{start:%Y-%m-%d}-{subject.provider}-{ident}" if start else f"{subject.provider}-{ident}"
        )
        slug, n = base, 2
        while slug in used:
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        subject.slug = slug
