"""A growing status-page archive: fetch every configured page on a schedule, store only what changed.

`incidents.json` only ever returns the 50 newest incidents (Instatus, Rootly and the AWS dashboard only what is
active now), so history exists only if someone keeps fetching. `archive_status_pages_job` runs the fetcher
(assets/ingest/fetch.py) for every provider's status page - not the App Store charts - with dedup on: a body
identical to the provider's newest snapshot of the same document is not stored again, so an hourly run over
a quiet page adds nothing. A page that moved platform is reported in the run's log and metadata.

`archive_status_pages_schedule` runs the job at minute 7 of every hour, UTC. It is STOPPED by default: turn it
on in `dagster dev` (Automation tab) or with `dagster schedule start archive_status_pages_schedule`, and keep
`dagster-daemon` (started by `dagster dev`) running. The next `incidents run` (or the status_pages asset) reads
what it archived.
"""

import dagster as dg

from pipelines.core.resources import Workspace


@dg.op(description="Fetch every configured status page into raw/status_pages/, skipping unchanged bodies.")
def archive_status_pages(context: dg.OpExecutionContext, workspace: Workspace) -> None:
    # the fetcher and its HTTP client load when the archive runs, not with every `incidents run`
    from assets.ingest.fetch import fetch_all

    report = fetch_all(workspace.settings, workspace.providers(), dedup=True, app_store=False)
    for line in report.lines():
        (context.log.error if line.startswith("error:") else context.log.info)(line)
    context.add_output_metadata({
        "written": len(report.written),
        "unchanged": len(report.unchanged),
        "errors": "\n".join(report.errors) or "none",
        "platform_changes": "\n".join(report.hints) or "none",
    })


@dg.job(description="Fetch every configured status page once (unchanged pages are not stored again).")
def archive_status_pages_job() -> None:
    archive_status_pages()


archive_status_pages_schedule = dg.ScheduleDefinition(
    name="archive_status_pages_schedule",
    job=archive_status_pages_job,
    cron_schedule="7 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Hourly status-page archive (off by default; see pipelines/archive.py).",
)
