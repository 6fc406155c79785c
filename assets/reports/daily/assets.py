"""reports/daily/<day>.html: what happened on one UTC day, for the analyst's morning.

Daily-partitioned with a single-run backfill: a range of days is one run that reads the marts once and
writes one page per day. Each page lists the status-page incidents open that day, the outage episodes
every evidence source detected, the SLO alerts that fired, the incidents reconciled that day and one
chart of the day (error ratio per provider, crowd reports per service, incident starts marked).
"""

import datetime as dt

import dagster as dg
import polars as pl

from assets.reports import charts
from assets.reports.marts_data import (
    CROWD_BASELINE,
    DOWNTIME_COST,
    INCIDENTS,
    MINUTE_SLI,
    OUTAGE_EPISODES,
    RECONCILIATION,
    SLO_ALERTS,
    Figures,
    cost_rows,
    display_names,
    fmt_count,
    fmt_minutes,
    fmt_share,
    fmt_ts,
    has,
    read_between,
    read_mart,
)
from assets.reports.page import Page, WrittenPage, format_ts
from assets.reports.retrospective import select_subjects
from pipelines.core.partitions import daily_partitions, single_run
from pipelines.core.resources import Workspace
from pipelines.core.settings import safe_path

DAY = dt.timedelta(days=1)
RATIO_BUCKET_MINUTES = 15  # display resolution of the day's error-ratio chart (worst minute per bucket)
CROWD_BUCKET_MINUTES = 60
INCIDENT_KEY = ("provider", "incident_id")
EPISODE_KEY = ("source", "provider", "service", "country", "started_at")
ALERT_KEY = ("provider", "rule", "started_at")
GROUP_KEY = ("group_id",)
DAILY_DEPS = [
    dg.AssetKey(["marts", name])
    for name in (
        "incidents",
        "outage_episodes",
        "slo_alerts",
        "incident_reconciliation",
        "provider_minute_sli",
        "crowd_baseline",
        "downtime_cost",
    )
]


def _on_day(frame: pl.DataFrame | None, column: str, start: dt.datetime) -> pl.DataFrame | None:
    if not has(frame, column):
        return None
    return frame.filter((pl.col(column) >= start) & (pl.col(column) < start + DAY))


def _open_on_day(incidents: pl.DataFrame | None, start: dt.datetime) -> pl.DataFrame | None:
    """Incidents whose [started_at, resolved_at) overlaps the day. An unresolved incident counts as open
    until the newest snapshot still showing it (last_seen_at), not forever."""
    if not has(incidents, "started_at", "resolved_at"):
        return None
    open_until = pl.col("resolved_at")
    if "last_seen_at" in incidents.columns:
        open_until = pl.coalesce("resolved_at", "last_seen_at")
    return incidents.filter(
        (pl.col("started_at") < start + DAY) & (open_until.is_null() | (open_until >= start))
    ).sort("started_at")


def build_page(day: dt.date, marts: dict, retro: dict[tuple[str, str], str], display: dict[str, str]):
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    figures = Figures()
    name = lambda p: display.get(p, p)
    page = Page(
        f"Daily digest: {day:%A %d %B %Y}",
        subtitle="What happened on this UTC day.",
        nav=[
            ("../index.html", "Index"),
            ("../vendor-review.html", "Vendor review"),
            (f"{day - DAY}.html", "Previous day"),
            (f"{day + DAY}.html", "Next day"),
        ],
    )
    incidents = _open_on_day(marts.get("incidents"), start)
    episodes = _on_day(marts.get("episodes"), "started_at", start)
    alerts = _on_day(marts.get("alerts"), "started_at", start)
    groups = _on_day(marts.get("groups"), "triangulated_start", start)

    summary = []
    if incidents is not None:
        started = incidents.filter(pl.col("started_at") >= start).height
        summary.append(f"{incidents.height} status-page incident(s) were open ({started} started this day).")
    if episodes is not None and episodes.height:
        by_source = episodes.group_by("source").len().sort("source").iter_rows()
        summary.append("Outage episodes detected: " + ", ".join(f"{s} {n}" for s, n in by_source) + ".")
        telemetry = episodes.filter((pl.col("source") == "telemetry") & pl.col("peak_value").is_not_null())
        if telemetry.height:
            worst = telemetry.sort("peak_value", descending=True).to_dicts()[0]
            key = ("episode_id",) if "episode_id" in telemetry.columns else EPISODE_KEY
            summary.append(
                f"Worst error ratio of our requests: {name(worst['provider'])} at "
                f"{figures.quote(OUTAGE_EPISODES, worst, 'peak_value', key, fmt_share)} "
                f"({figures.quote(OUTAGE_EPISODES, worst, 'peak_at', key, fmt_ts)})."
            )
    elif episodes is not None:
        summary.append("No outage episode was detected.")
    if alerts is not None:
        pages = alerts.filter(pl.col("severity") == "page").height if "severity" in alerts.columns else 0
        summary.append(f"{alerts.height} SLO burn-rate alert(s) fired ({pages} paging).")
    page.heading("Summary")
    if summary:
        page.summary(" ".join(summary))
    else:
        page.not_available("Summary", "no marts for this day")

    ratio = crowd = None
    sli = _on_day(marts.get("sli"), "minute", start)
    if has(sli, "provider", "error_ratio"):
        ratio = charts.resample(sli, "minute", ["provider"], RATIO_BUCKET_MINUTES, worst=["error_ratio"])
        ratio = ratio.with_columns(pl.col("provider").replace(display))
    crowd_rows = _on_day(marts.get("crowd"), "bin_start", start)
    if has(crowd_rows, "service", "reports"):
        crowd = charts.resample(crowd_rows, "bin_start", ["service"], CROWD_BUCKET_MINUTES, sums=["reports"])
    markers = pl.DataFrame(schema={"at": pl.Datetime("us", "UTC"), "stage": pl.String, "label": pl.String})
    if incidents is not None and incidents.height:
        markers = incidents.filter(pl.col("started_at") >= start).select(
            pl.col("started_at").alias("at"),
            pl.lit("started").alias("stage"),
            (pl.col("provider") + ": " + pl.col("title").fill_null("")).alias("label"),
        )
    chart = charts.daily_chart(
        ratio, crowd, markers, start, start + DAY, f"worst minute per {RATIO_BUCKET_MINUTES} min"
    )
    if chart is not None:
        page.chart("day", chart)
    else:
        page.not_available("Chart of the day", "no telemetry or crowd reports for this day")

    page.heading("Status-page incidents open this day")
    if incidents is None:
        page.not_available("Incidents", "marts.incidents is missing")
    elif incidents.height == 0:
        page.paragraph("None.")
    else:
        rows = []
        for r in incidents.to_dicts():
            q = figures.quoter(INCIDENTS, r, INCIDENT_KEY)
            slug = retro.get((str(r["provider"]), str(r["incident_id"])))
            rows.append(
                {
                    "provider": name(r["provider"]),
                    "title": r.get("title"),
                    "impact": r.get("impact") or "-",
                    "started": q("started_at", fmt_ts),
                    "acknowledged": q("acknowledged_at", fmt_ts),
                    "resolved": q("resolved_at", fmt_ts),
                    "duration": q("duration_minutes", fmt_minutes),
                    "retro": "yes" if slug else "-",
                }
            )
        page.table(
            rows,
            [
                ("provider", "provider"),
                ("title", "title"),
                ("impact", "impact"),
                ("started", "started"),
                ("acknowledged", "first update"),
                ("resolved", "resolved"),
                ("duration", "duration"),
                ("retro", "retrospective"),
            ],
        )
        links = [
            (
                f"../retrospective/{retro[(str(r['provider']), str(r['incident_id']))]}.html",
                f"Retrospective: {r.get('title')}",
            )
            for r in incidents.to_dicts()
            if (str(r["provider"]), str(r["incident_id"])) in retro
        ]
        if links:
            page.links(links)

    page.heading("Outage episodes that started this day")
    if episodes is None:
        page.not_available("Outage episodes", "marts.outage_episodes is missing")
    elif episodes.height == 0:
        page.paragraph("None.")
    else:
        rows = []
        episode_key = ("episode_id",) if "episode_id" in episodes.columns else EPISODE_KEY
        for r in episodes.sort("started_at").to_dicts():
            peak_fmt = fmt_share if r["source"] == "telemetry" else fmt_count
            q = figures.quoter(OUTAGE_EPISODES, r, episode_key)
            rows.append(
                {
                    "source": r["source"],
                    "provider": name(r.get("provider")),
                    "service": r.get("service") or "-",
                    "country": r.get("country") or "-",
                    "started": q("started_at", fmt_ts),
                    "ended": q("ended_at", fmt_ts),
                    "peak": q("peak_value", peak_fmt),
                    "baseline": q("baseline_value", peak_fmt),
                }
            )
        page.table(
            rows,
            [
                ("source", "source"),
                ("provider", "provider"),
                ("service", "service"),
                ("country", "country"),
                ("started", "started"),
                ("ended", "ended"),
                ("peak", "peak"),
                ("baseline", "baseline"),
            ],
        )

    page.heading("SLO alerts that fired this day")
    if alerts is None:
        page.not_available("SLO alerts", "marts.slo_alerts is missing")
    elif alerts.height == 0:
        page.paragraph("None.")
    else:
        rows = []
        for r in alerts.sort("started_at").to_dicts():
            q = figures.quoter(SLO_ALERTS, r, ALERT_KEY)
            rows.append(
                {
                    "provider": name(r["provider"]),
                    "rule": r.get("rule"),
                    "severity": r.get("severity"),
                    "started": q("started_at", fmt_ts),
                    "minutes": q("minutes", fmt_count),
                    "burn": q("peak_burn_rate", lambda v: f"{v:,.1f}x"),
                }
            )
        page.table(
            rows,
            [
                ("provider", "provider"),
                ("rule", "rule"),
                ("severity", "severity"),
                ("started", "started"),
                ("minutes", "firing minutes"),
                ("burn", "peak burn rate"),
            ],
        )

    page.heading("Incidents reconciled this day")
    if groups is None:
        page.not_available("Reconciliation", "marts.incident_reconciliation is missing")
    elif groups.height == 0:
        page.paragraph("None.")
    else:
        rows = []
        for r in groups.sort("triangulated_start").to_dicts():
            q = figures.quoter(RECONCILIATION, r, GROUP_KEY)
            rows.append(
                {
                    "provider": name(r["provider"]),
                    "class": r.get("classification"),
                    "start": q("triangulated_start", fmt_ts),
                    "crowd": q("crowd_lead_minutes", fmt_minutes),
                    "telemetry": q("telemetry_lead_minutes", fmt_minutes),
                    "ack": q("acknowledgement_lag_minutes", fmt_minutes),
                    "under": q("under_reporting_minutes", fmt_minutes),
                }
            )
        page.table(
            rows,
            [
                ("provider", "provider"),
                ("class", "classification"),
                ("start", "triangulated start"),
                ("crowd", "crowd lead"),
                ("telemetry", "telemetry lead"),
                ("ack", "acknowledgement lag"),
                ("under", "unreported impact"),
            ],
        )
        links = [
            (
                f"../retrospective/{retro[('group', str(r['group_id']))]}.html",
                f"Retrospective: {name(r['provider'])} {r.get('classification')} from {format_ts(r['triangulated_start'])}",
            )
            for r in groups.sort("triangulated_start").to_dicts()
            if ("group", str(r["group_id"])) in retro
        ]
        if links:
            page.links(links)
    return page, figures


@dg.asset(
    key=["reports", "daily_digest"],
    deps=DAILY_DEPS,
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="reports",
    kinds={"html", "altair"},
)
def daily_digest(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """What happened each UTC day, reports/daily/<day>.html: status-page incidents open that day, outage
    episodes per evidence source, SLO alerts, reconciled incidents and a chart of the day's error ratio
    and crowd reports; <day>.figures.json beside each page traces every quoted figure to its mart."""
    days = sorted(dt.date.fromisoformat(key) for key in context.partition_keys)
    first = dt.datetime.combine(days[0], dt.time(), dt.UTC)
    last = dt.datetime.combine(days[-1], dt.time(), dt.UTC) + DAY
    with workspace.warehouse(read_only=True) as con:
        marts = {
            "incidents": read_mart(con, INCIDENTS, required=("provider", "incident_id", "started_at")),
            "episodes": read_between(
                con, OUTAGE_EPISODES, "started_at", first, last, required=("source", "provider", "started_at")
            ),
            "alerts": read_between(
                con, SLO_ALERTS, "started_at", first, last, required=("provider", "started_at")
            ),
            "groups": read_mart(con, RECONCILIATION, required=("group_id", "provider", "triangulated_start")),
            "sli": read_between(
                con, MINUTE_SLI, "minute", first, last, required=("provider", "minute", "error_ratio")
            ),
            "crowd": read_between(
                con, CROWD_BASELINE, "bin_start", first, last, required=("service", "bin_start", "reports")
            ),
        }
        costs = cost_rows(read_mart(con, DOWNTIME_COST))
    if marts["sli"] is not None:
        marts["sli"] = marts["sli"].select("provider", "minute", "error_ratio")
    if marts["crowd"] is not None:
        marts["crowd"] = marts["crowd"].select("service", "bin_start", "reports")
    retro: dict[tuple[str, str], str] = {}
    for subject in select_subjects(marts["incidents"], marts["groups"], costs):
        for incident in subject.incidents:
            retro[(str(incident["provider"]), str(incident["incident_id"]))] = subject.slug
        if subject.group is not None:
            retro[("group", str(subject.group["group_id"]))] = subject.slug
    display = display_names(workspace)
    out_dir = safe_path(workspace.settings.reports_dir, "daily")
    written: list[WrittenPage] = []
    for day in days:
        page, figures = build_page(day, marts, retro, display)
        written.append(page.write(out_dir, day.isoformat(), preview=day == days[-1]))
        figures.write(safe_path(out_dir, f"{day.isoformat()}.figures.json"))
    context.log.info("wrote %d daily digests under %s", len(written), out_dir)
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
