"""The daily digest asset: one page per UTC day under reports/daily/, the marts read once per run."""

import datetime as dt
from collections.abc import Collection, Sequence

import dagster as dg

from assets.reports.calendar import calendar_strip, days_with_rows, marked_days
from assets.reports.charts.palette import ProviderColors
from assets.reports.costs import CostRow, cost_rows
from assets.reports.daily import sections
from assets.reports.daily.day import DAY, chart_of_the_day, day_has_evidence, on_day, open_on_day, summary
from assets.reports.figures import Figures
from assets.reports.formats import format_ts
from assets.reports.marts_data import display_names, read_between, read_mart
from assets.reports.page import Page, WrittenPage
from assets.reports.retrospective.subjects import select_subjects
from assets.reports.scope import Scope, workspace_scope
from pipelines.core import tables
from pipelines.core.partitions import daily_partitions, single_run
from pipelines.core.resources import Workspace
from pipelines.core.settings import safe_path

DAILY_DEPS = [
    tables.INCIDENTS,
    tables.OUTAGE_EPISODES,
    tables.SLO_ALERTS,
    tables.RECONCILIATION,
    tables.MINUTE_SLI,
    tables.CROWD_BASELINE,
    tables.DOWNTIME_COST,
]


def build_page(
    day: dt.date,
    marts: dict,
    retro: sections.Retros,
    display: dict[str, str],
    days: Sequence[dt.date] = (),
    scope: Scope | None = None,
    pages: Collection[dt.date] | None = None,
):
    """The day's page and the figures it quotes (in page order); `days` are the days of this run, drawn
    as the calendar strip; `pages` the days that have a page (default: every day of `days`), the only
    ones linked, so there are no dead links."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    figures = Figures()

    def name(provider):
        return display.get(provider, provider)

    linked = set(pages if pages is not None else days)
    nav = [("../index.html", "Index"), ("../vendor-review.html", "Vendor review")]
    nav += [
        (f"{d}.html", label)
        for d, label in ((day - DAY, "Previous day"), (day + DAY, "Next day"))
        if d in linked
    ]
    page = Page(
        "daily.html.j2",
        f"Daily digest: {day:%A %d %B %Y}",
        subtitle="What happened on this UTC day.",
        nav=nav,
        scope=scope,
        colors=ProviderColors(list(display.values())),
    )
    incidents = open_on_day(marts.get("incidents"), start)
    episodes = on_day(marts.get("episodes"), "started_at", start)
    alerts = on_day(marts.get("alerts"), "started_at", start)
    groups = on_day(marts.get("groups"), "triangulated_start", start)
    evidence = day_has_evidence(marts, start)
    page.content.update(
        calendar=calendar_strip(
            days,
            marts["bad_days"],
            lambda d: f"{d}.html" if d in linked else None,
            current=day,
            with_data=marts["days_with_data"],
            minor=marts["minor_days"],
        ),
        summary=summary(figures, start, incidents, episodes, alerts, name, evidence),
        chart=chart_of_the_day(page, marts, incidents, start, display),
        incidents=sections.incident_rows(figures, incidents, retro, name),
        incident_links=sections.incident_links(incidents, retro),
        episodes=sections.episode_rows(figures, episodes, name),
        alerts=sections.alert_rows(figures, alerts, name),
        groups=sections.group_rows(figures, groups, name),
        group_links=sections.group_links(groups, retro, name),
    )
    return page, figures


def page_days(days: Sequence[dt.date], marts: dict) -> list[dt.date]:
    """The days that get a page: those with any evidence or incident (so a long history without data costs
    nothing per day); when none has, the last day alone, saying the range holds no data."""
    with_data = marts["days_with_data"] | marts["bad_days"] | marts["minor_days"]
    return [d for d in days if d in with_data] or [days[-1]]


def read_marts(con, first: dt.datetime, last: dt.datetime) -> dict:
    """Every mart the digest shows, read once for the whole range of days (large ones for the range only)."""
    marts = {
        "incidents": read_mart(con, tables.INCIDENTS, required=("provider", "incident_id", "started_at")),
        "episodes": read_between(
            con,
            tables.OUTAGE_EPISODES,
            "started_at",
            first,
            last,
            required=("source", "provider", "started_at"),
        ),
        "alerts": read_between(
            con, tables.SLO_ALERTS, "started_at", first, last, required=("provider", "started_at")
        ),
        "groups": read_mart(
            con, tables.RECONCILIATION, required=("group_id", "provider", "triangulated_start")
        ),
        "sli": read_between(
            con, tables.MINUTE_SLI, "minute", first, last, required=("provider", "minute", "error_ratio")
        ),
        "crowd": read_between(
            con, tables.CROWD_BASELINE, "bin_start", first, last, required=("service", "bin_start", "reports")
        ),
    }
    if marts["sli"] is not None and "requests" in marts["sli"].columns:
        marts["sli"] = marts["sli"].select("provider", "minute", "requests", "error_ratio")
    if marts["crowd"] is not None:
        marts["crowd"] = marts["crowd"].select("service", "bin_start", "reports")
    marts["bad_days"], marts["minor_days"] = marked_days(marts["incidents"], marts["episodes"])
    marts["days_with_data"] = days_with_rows(
        [(marts["sli"], "minute"), (marts["crowd"], "bin_start")]
    ) | days_with_rows([(marts["incidents"], "started_at")])
    return marts


def retrospective_slugs(marts: dict, costs: Sequence[CostRow]) -> sections.Retros:
    """Which incident (and which reconciled group) has a retrospective, by its slug."""
    retro: sections.Retros = {}
    for subject in select_subjects(marts["incidents"], marts["groups"], costs):
        for incident in subject.incidents:
            retro[(str(incident["provider"]), str(incident["incident_id"]))] = subject.slug
        if subject.group is not None:
            retro[("group", str(subject.group["group_id"]))] = subject.slug
    return retro


@dg.asset(
    key=["reports", "daily_digest"],
    deps=DAILY_DEPS,
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="reports",
    kinds={"html", "altair"},
)
def daily_digest(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """What happened each UTC day, `reports/daily/<day>.html`: status-page incidents open that day, outage
    episodes per evidence source, SLO alerts, reconciled incidents and a chart of the day's error ratio
    and crowd reports; `<day>.figures.json` beside each page traces every quoted figure to its mart."""
    days = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
    first = dt.datetime.combine(days[0], dt.time(), dt.UTC)
    last = dt.datetime.combine(days[-1], dt.time(), dt.UTC) + DAY
    with workspace.warehouse(read_only=True) as con:
        marts = read_marts(con, first, last)
        costs = cost_rows(read_mart(con, tables.DOWNTIME_COST))
    retro = retrospective_slugs(marts, costs)
    display = display_names(workspace)
    out_dir = safe_path(workspace.settings.reports_dir, "daily")
    written: list[WrittenPage] = []
    scope = workspace_scope(context, workspace)
    pages = page_days(days, marts)
    for day in pages:
        page, figures = build_page(day, marts, retro, display, days, scope, pages)
        written.append(page.write(out_dir, day.isoformat(), preview=day == pages[-1]))
        figures.write(safe_path(out_dir, f"{day.isoformat()}.figures.json"))
    context.log.info("wrote %d daily digests under %s for %d days", len(written), out_dir, len(days))
    preview = next((w for w in reversed(written) if w.preview_png), None)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(written[-1].path)),
            "directory": dg.MetadataValue.path(str(out_dir)),
            "days": len(days),
            "first_day": format_ts(first),
            "preview": dg.MetadataValue.md(preview.preview_markdown() if preview else "(no chart)"),
        }
    )
