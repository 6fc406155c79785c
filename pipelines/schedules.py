"""The analysts' daily materialisation: at 02:00 UTC, yesterday's partition, over the config's window."""

import datetime as dt

import dagster as dg

from pipelines.core.config import load_providers
from pipelines.core.settings import get_settings
from pipelines.core.window import analysis_window
from pipelines.jobs import main_job

HOW_TO_START = (
    "Off by default, so a laptop running `dagster dev` never starts ingesting on its own: turn it on in "
    "the UI (Automation) or with `dagster {kind} start -m pipelines.definitions {name}`; a deployment "
    "also needs `dagster-daemon run` (deploy/README.md)."
)


@dg.schedule(
    job=main_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    name="daily_materialisation",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every day at 02:00 UTC, materialise yesterday's partition with `main_job` (ingest, "
    "staging, marts, reports) over the config's analysed window, named in the run's tags so the "
    "time-series marts recompute from the window's start, not from the first day of history. "
    + HOW_TO_START.format(kind="schedule", name="daily_materialisation"),
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Yesterday (UTC, relative to the tick) as the partition; the window the config gives on that day."""
    today = context.scheduled_execution_time.astimezone(dt.UTC).date()
    day = today - dt.timedelta(days=1)
    window = analysis_window(load_providers(get_settings().config_path), today_utc=today)
    return dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat(), tags=window.tags())
