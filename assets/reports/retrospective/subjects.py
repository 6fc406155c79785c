"""Which incidents get a retrospective: the largest observed impact inside the analysed window.

Candidates are reconciled incident groups (with their vendor incidents) and vendor incidents no group
holds, recurrences included (each is its own candidate). Observed impact ranks first, so an incident our
evidence never saw cannot outrank one with failed requests: failed requests and cost (marts.downtime_cost,
which prices observed impact), then minutes of impact our evidence saw (marts.incident_reconciliation),
then the vendor's stated impact and duration.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from assets.reports.costs import CostRow, is_incident_cost
from assets.reports.page import slugify
from assets.reports.scope import Scope

TOP_N = 6
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
    """Incident-level base-scenario cost rows by (provider, incident id) and by ("group", group id)."""
    out = {}
    for c in costs:
        if c.scenario == "base" and is_incident_cost(c) and c.total is not None:
            if c.incident_id is not None:
                out[(str(c.provider), str(c.incident_id))] = c
            if c.row.get("group_id") not in (None, "-"):
                out[("group", str(c.row["group_id"]))] = c
    return out


def _incident_key(row: dict) -> tuple[str, str]:
    return str(row["provider"]), str(row["incident_id"])


def _number(value) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


@dataclass
class _Candidate:
    """A possible retrospective: a group (with its vendor incidents) or a lone vendor incident."""

    members: list[dict]
    group: dict | None
    cost: CostRow | None

    @property
    def start(self) -> dt.datetime | None:
        return Subject("", "", self.members, self.group, "").start

    def observed(self) -> tuple[float, float, float]:
        """(failed requests, base cost, minutes of observed impact): 0 where nothing was observed."""
        row = self.cost.row if self.cost else {}
        group = self.group or {}
        minutes = next(
            (
                value
                for value in (
                    row.get("outage_equivalent_minutes"),  # the cost mart's observed-impact minutes
                    group.get("observed_impact_minutes"),
                    group.get("under_reporting_minutes"),
                )
                if value is not None
            ),
            None,
        )
        return (
            _number(row.get("failed_requests")),
            _number(self.cost.total if self.cost else None),
            _number(minutes),
        )

    def rank(self) -> tuple:
        failed, cost, minutes = self.observed()
        seen = failed > 0 or minutes > 0 or bool(self.group and self.group.get("peak_error_ratio"))
        lead = self.members[0] if self.members else {}
        return (
            not seen,
            -failed,
            -cost,
            -minutes,
            -IMPACT_RANK.get(str(lead.get("impact")), 1),
            -_number(lead.get("duration_minutes")),
            str(self.start or ""),
        )

    def reason(self) -> str:
        failed, cost, minutes = self.observed()
        if failed or cost or minutes:
            return "among the largest observed impacts in the analysed window (failed requests, cost, impact minutes)"
        return "no observed impact in our evidence; chosen by the vendor's stated impact and duration"


def _candidates(rows: list[dict], groups: list[dict], costs: Sequence[CostRow]) -> list[_Candidate]:
    by_incident = {_incident_key(r): r for r in rows}
    cost = base_costs(costs)
    grouped: set[tuple[str, str]] = set()
    out = []
    for group in groups:
        keys = [(str(group.get("provider")), i) for i in group_incident_ids(group)]
        members = [by_incident[k] for k in keys if k in by_incident]
        members.sort(key=lambda r: (-IMPACT_RANK.get(str(r.get("impact")), 1), str(r.get("started_at"))))
        grouped |= set(keys)
        costed = [cost[k] for k in [("group", str(group.get("group_id"))), *keys] if k in cost]
        out.append(_Candidate(members, group, max(costed, key=lambda c: c.total, default=None)))
    for key, row in by_incident.items():
        if key not in grouped:
            out.append(_Candidate([row], None, cost.get(key)))
    return out


def select_subjects(
    incidents: pl.DataFrame | None,
    reconciliation: pl.DataFrame | None,
    costs: Sequence[CostRow] = (),
    top_n: int = TOP_N,
    scope: Scope | None = None,
) -> list[Subject]:
    """The retrospectives to write: the `top_n` candidates with the largest observed impact that start
    inside the analysed window (every candidate when no scope is given)."""
    rows = [] if incidents is None else incidents.to_dicts()
    rows = [r for r in rows if r.get("impact") != "maintenance" and r.get("incident_id") is not None]
    groups = [] if reconciliation is None else reconciliation.to_dicts()
    candidates = [c for c in _candidates(rows, groups, costs) if scope is None or scope.contains(c.start)]
    subjects = []
    for c in sorted(candidates, key=_Candidate.rank)[:top_n]:
        provider = str(c.members[0]["provider"] if c.members else (c.group or {}).get("provider"))
        subjects.append(Subject("", provider, c.members, c.group, c.reason()))
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
