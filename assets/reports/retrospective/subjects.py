"""Incident retrospectives for leadership: one page per top incident, every number straight from a mart.

Which incidents: the top 5 by base-scenario downtime cost (marts.downtime_cost), falling back to vendor
impact then duration when there is no cost; incidents reconciled into one group share one page; any
reconciled group starting on 2026-03-02 (the Claude outage this product was built to explain) is always
included. Each page shows, on one UTC time axis, crowd reports vs their expected baseline, our error
ratio per provider, the incident provider's errors by class (5xx / 529 / 429 / timeouts) and the status
page's stage times as labelled markers, then app-store rank context, the detection lead, acknowledgement
and resolution lags, the cost breakdown and a written summary assembled from those figures.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl

from assets.reports import charts
from assets.reports.marts_data import (
    CROWD_BASELINE,
    DOWNTIME_COST,
    IMPACT_RANK,
    INCIDENTS,
    MIGRATION_SIGNALS,
    MINUTE_SLI,
    RECONCILIATION,
    CostRow,
    Figures,
    breakdown_columns,
    cost_rows,
    display_names,
    fmt_count,
    fmt_minutes,
    fmt_money,
    fmt_share,
    fmt_ts,
    has,
    is_incident_cost,
    read_between,
    read_mart,
)
from assets.reports.page import Page, WrittenPage, esc, slugify
from pipelines.core.resources import Workspace
from pipelines.core.settings import safe_path

TOP_N = 5
FOCUS_DAY = dt.date(2026, 3, 2)  # the 2 March 2026 Claude outage: always gets a retrospective
PADDING = dt.timedelta(hours=2)
MAX_SPAN = dt.timedelta(hours=48)
OPEN_SPAN = dt.timedelta(hours=12)
STAGES = ("started_at", "acknowledged_at", "identified_at", "monitoring_at", "resolved_at", "postmortem_at")
INCIDENT_KEY = ("provider", "incident_id")
GROUP_KEY = ("group_id",)
RETRO_DEPS = [
    dg.AssetKey(["marts", name])
    for name in (
        "incidents",
        "incident_reconciliation",
        "downtime_cost",
        "crowd_baseline",
        "provider_minute_sli",
        "migration_signals",
    )
]


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
    by_incident = {(str(r["provider"]), str(r["incident_id"])): r for r in rows}
    group_of: dict[tuple[str, str], dict] = {}
    for group in groups:
        for incident_id in group_incident_ids(group):
            group_of.setdefault((str(group.get("provider")), incident_id), group)
    cost = base_costs(costs)

    def rank(row: dict) -> tuple:
        key = (str(row["provider"]), str(row["incident_id"]))
        total = cost[key].total if key in cost else None
        duration = row.get("duration_minutes")
        return (
            total is None,
            -(total or 0.0),
            -IMPACT_RANK.get(str(row.get("impact")), 1),
            -(duration or 0.0),
            str(row.get("started_at") or ""),
            key,
        )

    subjects: list[Subject] = []
    covered_groups: set[str] = set()

    def subject_for(primary: dict | None, group: dict | None, reason: str) -> Subject:
        members = [primary] if primary else []
        if group is not None:
            provider = str(group.get("provider"))
            others = [by_incident.get((provider, i)) for i in group_incident_ids(group)]
            others = [o for o in others if o is not None and o is not primary]
            members += sorted(
                others, key=lambda r: (-IMPACT_RANK.get(str(r.get("impact")), 1), str(r.get("started_at")))
            )
        provider = str(primary["provider"] if primary else (group or {}).get("provider"))
        return Subject("", provider, members, group, reason)

    for row in sorted(rows, key=rank):
        if len(subjects) >= top_n:
            break
        key = (str(row["provider"]), str(row["incident_id"]))
        group = group_of.get(key)
        if group is not None:
            if group.get("group_id") in covered_groups:
                continue
            covered_groups.add(group.get("group_id"))
        reason = (
            "top by downtime cost (base scenario)" if key in cost else "top by vendor impact and duration"
        )
        subjects.append(subject_for(row, group, reason))

    for group in sorted(groups, key=lambda g: str(g.get("triangulated_start") or g.get("started_at"))):
        start = group.get("triangulated_start") or group.get("started_at")
        if start is None or start.astimezone(dt.UTC).date() != focus_day:
            continue
        if group.get("group_id") in covered_groups:
            continue
        covered_groups.add(group.get("group_id"))
        members = [by_incident.get((str(group.get("provider")), i)) for i in group_incident_ids(group)]
        members = sorted((m for m in members if m is not None), key=rank)
        subjects.append(
            subject_for(members[0] if members else None, group, f"reconciled group on {focus_day}")
        )

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
    return subjects


@dataclass
class Evidence:
    """The mart rows one retrospective's charts need, read for its time window."""

    start: dt.datetime
    end: dt.datetime
    crowd: pl.DataFrame | None = None
    sli: pl.DataFrame | None = None
    ranks: pl.DataFrame | None = None
    notes: dict[str, str] = field(default_factory=dict)


def window_of(subject: Subject) -> tuple[dt.datetime, dt.datetime]:
    start = subject.start or dt.datetime.combine(FOCUS_DAY, dt.time(), dt.UTC)
    end = subject.end or start + OPEN_SPAN
    start = (start - PADDING).replace(minute=0, second=0, microsecond=0)
    end = min(end + PADDING, start + MAX_SPAN)
    return start, max(end, start + dt.timedelta(hours=1))


def read_evidence(con, subject: Subject) -> Evidence:
    start, end = window_of(subject)
    evidence = Evidence(start, end)
    evidence.crowd = read_between(
        con,
        CROWD_BASELINE,
        "bin_start",
        start,
        end,
        required=("bin_start", "service", "country", "reports", "expected"),
    )
    evidence.sli = read_between(
        con, MINUTE_SLI, "minute", start, end, required=("provider", "minute", "requests", "error_ratio")
    )
    day = (subject.start or start).astimezone(dt.UTC)
    evidence.ranks = read_between(
        con,
        MIGRATION_SIGNALS,
        "period_start",
        day - dt.timedelta(days=7),
        day + dt.timedelta(days=8),
        required=("provider", "period_start", "best_rank"),
    )
    return evidence


def _markers(subject: Subject, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    rows = []
    for incident in subject.incidents:
        for column in STAGES:
            at = incident.get(column)
            if at is not None and start <= at <= end:
                stage = column.removesuffix("_at")
                rows.append(
                    {
                        "at": at,
                        "stage": stage,
                        "label": f"{stage} {at.astimezone(dt.UTC):%H:%M} UTC ({incident.get('incident_id')})",
                    }
                )
    return pl.DataFrame(rows, schema={"at": pl.Datetime("us", "UTC"), "stage": pl.String, "label": pl.String})


def timeline_chart(subject: Subject, evidence: Evidence, display: dict[str, str]):
    """The shared-time-axis chart (None when no evidence falls in the window); providers by display name."""
    start, end = evidence.start, evidence.end
    span = (end - start).total_seconds() / 60
    crowd = None
    if has(evidence.crowd, "provider"):
        crowd = evidence.crowd.filter(pl.col("provider") == subject.provider)
    elif evidence.crowd is not None:
        crowd = evidence.crowd
    if crowd is not None and crowd.height:
        bin_minutes = int(crowd["bin_minutes"].max() or 5) if "bin_minutes" in crowd.columns else 5
        series = max(1, crowd.select("service", "country").n_unique())
        bucket = charts.bucket_minutes(series / bin_minutes, span)
        crowd = charts.resample(
            crowd,
            "bin_start",
            ["service", "country"],
            bucket if bucket > bin_minutes else 1,
            sums=["reports", "expected"],
        )
    ratio = classes = None
    ratio_note = "per minute"
    if has(evidence.sli, "error_ratio"):
        sli = evidence.sli
        providers = max(1, sli["provider"].n_unique())
        bucket = charts.bucket_minutes(providers, span)
        ratio_note = "per minute" if bucket == 1 else f"worst minute per {bucket} min"
        ratio = charts.resample(sli, "minute", ["provider"], bucket, worst=["error_ratio"])
        class_columns = [c for c in (*charts.ERROR_CLASSES, "timeouts") if c in sli.columns]
        mine = sli.filter(pl.col("provider") == subject.provider)
        if class_columns and mine.height:
            long = (
                mine.select("minute", "provider", *class_columns)
                .unpivot(index=["minute", "provider"], variable_name="class", value_name="errors")
                .with_columns(pl.col("class").replace({**charts.ERROR_CLASSES, "timeouts": "timeouts"}))
            )
            bucket = charts.bucket_minutes(len(class_columns), span)
            classes = charts.resample(long, "minute", ["provider", "class"], bucket, sums=["errors"])
    named = [
        None if f is None else f.with_columns(pl.col("provider").replace(display)) for f in (ratio, classes)
    ]
    return charts.incident_timeline(crowd, *named, _markers(subject, start, end), start, end, ratio_note)


def _lead(value) -> str:
    if value is None:
        return "n/a"
    return f"{fmt_minutes(abs(value))} {'before' if value >= 0 else 'after'}"


def _lag(value) -> str:
    if value is None:
        return "n/a"
    return f"{fmt_minutes(abs(value))} {'after' if value >= 0 else 'before'}"


def build_page(subject: Subject, evidence: Evidence, costs: Sequence[CostRow], display: dict[str, str]):
    """The retrospective page and the figures it quotes."""
    figures = Figures()
    provider_name = display.get(subject.provider, subject.provider)
    page = Page(
        f"Retrospective: {provider_name}: {subject.title}",
        subtitle=f"Why this incident: {subject.reason}. All times UTC.",
        nav=[("../index.html", "Index"), ("../vendor-review.html", "Vendor review")],
    )
    primary = subject.incidents[0] if subject.incidents else None
    group = subject.group
    sentences: list[str] = []
    q_inc = lambda row, col, fmt=None: figures.quote(INCIDENTS, row, col, INCIDENT_KEY, fmt)
    q_grp = lambda col, fmt=None: figures.quote(RECONCILIATION, group, col, GROUP_KEY, fmt)

    if primary is not None:
        impact = primary.get("impact") or "not stated"
        text = (
            f"{provider_name}'s incident \u201c{primary.get('title')}\u201d (vendor impact: {impact}) "
            f"started at {q_inc(primary, 'started_at', fmt_ts)}"
        )
        if primary.get("resolved_at") is not None:
            text += (
                f" and was resolved at {q_inc(primary, 'resolved_at', fmt_ts)}, "
                f"{q_inc(primary, 'duration_minutes', fmt_minutes)} later by the status page's account."
            )
        else:
            text += "; the data holds no resolution for it."
        sentences.append(text)
    if group is not None:
        parts = []
        if group.get("triangulated_start") is not None:
            parts.append(f"Our evidence puts the start at {q_grp('triangulated_start', fmt_ts)}.")
        leads = []
        if group.get("crowd_lead_minutes") is not None:
            leads.append(f"crowd reports rose {q_grp('crowd_lead_minutes', _lead)} the vendor's first post")
        if group.get("telemetry_lead_minutes") is not None:
            leads.append(f"our own telemetry saw it {q_grp('telemetry_lead_minutes', _lead)} that post")
        if leads:
            text = " and ".join(leads)
            parts.append(text[0].upper() + text[1:] + ".")
        if group.get("acknowledgement_lag_minutes") is not None:
            parts.append(
                f"The vendor acknowledged {q_grp('acknowledgement_lag_minutes', fmt_minutes)} "
                "after the triangulated start."
            )
        if group.get("resolution_lag_minutes") is not None:
            parts.append(
                f"It declared resolution {q_grp('resolution_lag_minutes', _lag)} our telemetry recovered."
            )
        if group.get("under_reporting_minutes"):
            parts.append(
                f"{q_grp('under_reporting_minutes', fmt_minutes)} of the impact we observed were "
                "covered by no vendor incident."
            )
        if group.get("peak_error_ratio") is not None:
            parts.append(f"Our requests peaked at an error ratio of {q_grp('peak_error_ratio', fmt_share)}.")
        if group.get("peak_crowd_reports") is not None:
            parts.append(f"Crowd reports peaked at {q_grp('peak_crowd_reports', fmt_count)} in one bin.")
        if group.get("classification"):
            parts.append(f"Reconciliation class: {q_grp('classification', str)}.")
        sentences.append(" ".join(parts))
    mine = [
        c
        for c in costs
        if is_incident_cost(c)
        and (str(c.provider), str(c.incident_id))
        in {(subject.provider, str(i.get("incident_id"))) for i in subject.incidents}
    ]
    by_scenario = {
        c.scenario: c
        for c in mine
        if primary is not None and str(c.incident_id) == str(primary["incident_id"])
    }
    if "base" in by_scenario:
        q_cost = lambda c: figures.quote(DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money)
        text = f"Estimated downtime cost: {q_cost(by_scenario['base'])} in the base scenario"
        if "low" in by_scenario and "high" in by_scenario:
            text += f" (low {q_cost(by_scenario['low'])}, high {q_cost(by_scenario['high'])})"
        sentences.append(text + ".")
    page.heading("Summary")
    if sentences:
        page.summary(" ".join(sentences))
    else:
        page.not_available("Summary", "no incident or reconciliation row for this subject")

    page.heading("Timeline")
    chart = timeline_chart(subject, evidence, display)
    if chart is None:
        page.not_available("Timeline chart", "no crowd reports or request telemetry in this window")
    else:
        page.chart(
            "timeline",
            chart,
            caption=f"{fmt_ts(evidence.start)} to {fmt_ts(evidence.end)}. "
            "Dashed rules: status-page stages (acknowledged = first public update).",
        )

    page.heading("What the status page said")
    if subject.incidents:
        rows = []
        for incident in subject.incidents:
            row = {
                "incident": incident.get("incident_id"),
                "title": incident.get("title"),
                "impact": incident.get("impact") or "-",
                "components": ", ".join(incident.get("components") or []) or "-",
            }
            for column in STAGES:
                row[column] = q_inc(incident, column, fmt_ts) if incident.get(column) is not None else "-"
            row["duration"] = (
                q_inc(incident, "duration_minutes", fmt_minutes)
                if incident.get("duration_minutes") is not None
                else "-"
            )
            rows.append(row)
        page.table(
            rows,
            [
                ("incident", "incident"),
                ("title", "title"),
                ("impact", "impact"),
                ("components", "components"),
                *[(c, c.removesuffix("_at")) for c in STAGES],
                ("duration", "duration"),
            ],
        )
    else:
        page.not_available("Status-page incident", "the vendor published no incident for this impact")

    page.heading("Detection and response")
    if group is None:
        page.not_available("Reconciliation", "this incident is not in marts.incident_reconciliation")
    else:
        labels = [
            ("classification", "classification", str),
            ("triangulated_start", "triangulated start (earliest credible signal)", fmt_ts),
            ("crowd_lead_minutes", "crowd lead over the vendor's first post", _lead),
            ("telemetry_lead_minutes", "telemetry lead over the vendor's first post", _lead),
            ("acknowledgement_lag_minutes", "acknowledgement lag after triangulated start", fmt_minutes),
            ("resolution_lag_minutes", "vendor resolution vs our telemetry recovery", _lag),
            ("under_reporting_minutes", "impact minutes no vendor incident covered", fmt_minutes),
            ("peak_error_ratio", "peak error ratio of our requests", fmt_share),
            ("peak_crowd_reports", "peak crowd reports in one bin", fmt_count),
        ]
        rows = [
            {"measure": label, "value": q_grp(column, fmt)}
            for column, label, fmt in labels
            if group.get(column) is not None
        ]
        page.table(rows, [("measure", "measure"), ("value", "value")])

    page.heading("App-store rank context")
    ranks = evidence.ranks
    if has(ranks, "best_rank", "provider", "period_start"):
        ranks = ranks.filter(pl.col("best_rank").is_not_null())
        if "grain" in ranks.columns:
            ranks = ranks.filter(pl.col("grain") == "day")
        if "country" in ranks.columns and "us" in ranks["country"].to_list():
            ranks = ranks.filter(pl.col("country") == "us")
        if "chart" in ranks.columns and ranks.height:
            ranks = ranks.filter(pl.col("chart") == min(ranks["chart"].drop_nulls().unique().to_list()))
    if has(ranks, "best_rank") and "country" in ranks.columns:
        ranked = ranks.sort("period_start").with_columns(pl.col("provider").replace(display))
        page.chart(
            "app-ranks",
            charts.rank_chart(ranked, subject.start),
            caption="Best App Store rank per provider and day (lower is better); red rule: incident start.",
        )
        day = (subject.start or evidence.start).astimezone(dt.UTC).date()
        keys = ("grain", "provider", "period_start", "country", "chart")
        today = [r for r in ranks.to_dicts() if r["period_start"].astimezone(dt.UTC).date() == day]
        if today:
            rows = [
                {
                    "provider": r["provider"],
                    "country": r.get("country"),
                    "rank": figures.quote(
                        MIGRATION_SIGNALS, r, "best_rank", [k for k in keys if k in r], fmt_count
                    ),
                    "change_1d": (
                        figures.quote(
                            MIGRATION_SIGNALS, r, "rank_change_1d", [k for k in keys if k in r], fmt_count
                        )
                        if r.get("rank_change_1d") is not None
                        else "-"
                    ),
                }
                for r in today
            ]
            page.table(
                rows,
                [
                    ("provider", "provider"),
                    ("country", "country"),
                    ("rank", f"best rank on {day}"),
                    ("change_1d", "places gained since the day before"),
                ],
            )
    else:
        page.not_available("App-store ranks", "marts.migration_signals has no rank rows around this date")

    page.heading("Cost breakdown")
    if mine:
        rows = []
        for c in sorted(mine, key=lambda c: (str(c.incident_id), ("low", "base", "high").index(c.scenario))):
            row = {
                "incident": c.incident_id,
                "scenario": c.scenario,
                "total": figures.quote(DOWNTIME_COST, c.row, c.total_column, c.key_columns, fmt_money),
            }
            parts = [
                f"{col}: {figures.quote(DOWNTIME_COST, c.row, col, c.key_columns, fmt_money)}"
                for col in breakdown_columns(c)
            ]
            row["components"] = "; ".join(parts) or "-"
            rows.append(row)
        page.table(
            rows,
            [
                ("incident", "incident"),
                ("scenario", "scenario"),
                ("total", "total cost"),
                ("components", "components of the cost"),
            ],
        )
    else:
        page.not_available("Downtime cost", "marts.downtime_cost has no row for this incident")
    return page, figures


@dg.asset(
    key=["reports", "retrospectives"],
    deps=RETRO_DEPS,
    group_name="reports",
    kinds={"html", "altair"},
)
def retrospectives(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Incident retrospectives for leadership: reports/retrospective/<incident-slug>.html for the top 5
    incidents by base-scenario downtime cost (fallback: vendor impact, duration) plus any reconciled
    incident group starting on 2026-03-02; PNG/SVG of every chart and `<slug>.figures.json` (each quoted
    number with its mart, column and key) beside each page."""
    display = display_names(workspace)
    out_dir = safe_path(workspace.settings.reports_dir, "retrospective")
    with workspace.warehouse(read_only=True) as con:
        incidents = read_mart(con, INCIDENTS, required=("provider", "incident_id", "started_at"))
        reconciliation = read_mart(con, RECONCILIATION, required=("group_id", "provider"))
        costs = cost_rows(read_mart(con, DOWNTIME_COST))
        subjects = select_subjects(incidents, reconciliation, costs)
        evidence = [read_evidence(con, s) for s in subjects]
    written: list[WrittenPage] = []
    for subject, ev in zip(subjects, evidence, strict=True):
        page, figures = build_page(subject, ev, costs, display)
        result = page.write(out_dir, subject.slug)
        figures.write(safe_path(out_dir, f"{subject.slug}.figures.json"))
        written.append(result)
    remove_stale(out_dir, {s.slug for s in subjects})
    context.log.info("wrote %d retrospectives under %s", len(written), out_dir)
    preview = next((w for w in written if w.preview_png), None)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(written[0].path if written else out_dir)),
            "directory": dg.MetadataValue.path(str(out_dir)),
            "pages": dg.MetadataValue.json([w.path.name for w in written]),
            "subjects": dg.MetadataValue.md(
                "\n".join(f"- {esc(s.slug)}: {esc(s.reason)}" for s in subjects)
                or "(no incidents in the marts)"
            ),
            "preview": dg.MetadataValue.md(preview.preview_markdown() if preview else "(no chart)"),
        }
    )


def remove_stale(directory: Path, keep: set[str]) -> None:
    """Delete pages (and their images and figures) of incidents no longer selected."""
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        stem = path.name.split("--")[0].split(".")[0]
        if path.is_file() and path.suffix in {".html", ".png", ".svg", ".json"} and stem not in keep:
            path.unlink()
