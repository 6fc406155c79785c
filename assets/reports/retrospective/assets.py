"""The retrospectives asset: one page per selected incident under reports/retrospective/."""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import polars as pl

from assets.reports.charts.palette import ProviderColors
from assets.reports.costs import CostRow, cost_rows, is_incident_cost
from assets.reports.figures import Figures
from assets.reports.formats import fmt_ts
from assets.reports.marts_data import display_names, read_mart
from assets.reports.page import Page, WrittenPage
from assets.reports.retrospective.evidence import Evidence, read_evidence, timeline_chart
from assets.reports.retrospective.headline import primary_costs, retrospective_tiles
from assets.reports.retrospective.sections import cost_table, detection_rows, rank_section, status_rows
from assets.reports.retrospective.subjects import Subject, select_subjects
from assets.reports.retrospective.summary import cost_sentence, group_sentences, incident_sentence
from assets.reports.scope import Scope, workspace_scope
from pipelines.core import tables
from pipelines.core.resources import Workspace
from pipelines.core.settings import safe_path

RETRO_DEPS = [
    tables.INCIDENTS,
    tables.RECONCILIATION,
    tables.DOWNTIME_COST,
    tables.CROWD_BASELINE,
    tables.MINUTE_SLI,
    tables.MIGRATION_SIGNALS,
    tables.FAILOVER,
]


def _subject_costs(subject: Subject, costs: Sequence[CostRow]) -> list[CostRow]:
    """Incident-level cost rows of the subject's incidents (every scenario)."""
    ids = {(subject.provider, str(i.get("incident_id"))) for i in subject.incidents}
    group_id = str((subject.group or {}).get("group_id"))
    return [
        c
        for c in costs
        if is_incident_cost(c)
        and ((str(c.provider), str(c.incident_id)) in ids or str(c.row.get("group_id")) == group_id)
    ]


def _summary(
    figures: Figures, subject: Subject, by_scenario: dict[str, CostRow], provider_name: str
) -> str | None:
    primary = subject.incidents[0] if subject.incidents else None
    sentences = []
    if primary is not None:
        sentences.append(incident_sentence(figures, primary, provider_name))
    if subject.group is not None:
        sentences.append(group_sentences(figures, subject.group))
    cost = cost_sentence(figures, by_scenario)
    if cost is not None:
        sentences.append(cost)
    return " ".join(sentences) if sentences else None


def build_page(
    subject: Subject,
    evidence: Evidence,
    costs: Sequence[CostRow],
    display: dict[str, str],
    failover: pl.DataFrame | None = None,
    scope: Scope | None = None,
):
    """The retrospective page and the figures it quotes (in page order)."""
    figures = Figures()

    def name(provider):
        return display.get(provider, provider)

    provider_name = name(subject.provider)
    page = Page(
        "retrospective.html.j2",
        f"Retrospective: {provider_name}: {subject.title}",
        subtitle=f"Why this incident: {subject.reason}. All times UTC.",
        nav=[("../index.html", "Index"), ("../vendor-review.html", "Vendor review")],
        scope=scope,
        colors=ProviderColors(list(display.values())),
    )
    mine = _subject_costs(subject, costs)
    by_scenario = primary_costs(subject, mine)
    page.content["tiles"] = retrospective_tiles(figures, subject, by_scenario, failover, name)
    page.content["summary"] = _summary(figures, subject, by_scenario, provider_name)
    chart = timeline_chart(subject, evidence, display)
    page.content["timeline"] = None
    if chart is not None:
        page.content["timeline"] = page.chart(
            "timeline",
            chart,
            caption=f"{fmt_ts(evidence.start)} to {fmt_ts(evidence.end)}. "
            "Dashed rules: status-page stages (acknowledged = first public update).",
        )
    page.content["status_rows"] = status_rows(figures, subject.incidents)
    page.content["detection_rows"] = None if subject.group is None else detection_rows(figures, subject.group)
    page.content["ranks"] = rank_section(page, figures, subject, evidence, display)
    page.content["cost_rows"] = cost_table(figures, mine)
    base = by_scenario.get("base")
    page.content["assumptions"] = base.row.get("assumptions") if base is not None else None
    return page, figures


@dg.asset(
    key=["reports", "retrospectives"],
    deps=RETRO_DEPS,
    group_name="reports",
    kinds={"html", "altair"},
)
def retrospectives(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Incident retrospectives for leadership: `reports/retrospective/<incident-slug>.html` for the
    incidents with the largest observed impact (failed requests, cost, impact minutes; then vendor impact
    and duration) that start inside the analysed window, recurrences included; PNG/SVG of every chart
    and `<slug>.figures.json` (each quoted number with its mart, column and key) beside each page."""
    display = display_names(workspace)
    scope = workspace_scope(context, workspace)
    out_dir = safe_path(workspace.settings.reports_dir, "retrospective")
    with workspace.warehouse(read_only=True) as con:
        incidents = read_mart(con, tables.INCIDENTS, required=("provider", "incident_id", "started_at"))
        reconciliation = read_mart(con, tables.RECONCILIATION, required=("group_id", "provider"))
        costs = cost_rows(read_mart(con, tables.DOWNTIME_COST))
        failover = read_mart(con, tables.FAILOVER, required=("provider",))
        subjects = select_subjects(incidents, reconciliation, costs, scope=scope)
        evidence = [read_evidence(con, s, scope.window.start_ts) for s in subjects]
    written: list[WrittenPage] = []
    for subject, ev in zip(subjects, evidence, strict=True):
        page, figures = build_page(subject, ev, costs, display, failover, scope)
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
            # slugs are [a-z0-9-] and reasons are fixed texts: nothing in them is markdown
            "subjects": dg.MetadataValue.md(
                "\n".join(f"- {s.slug}: {s.reason}" for s in subjects) or "(no incidents in the marts)"
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
