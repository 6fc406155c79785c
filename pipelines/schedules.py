"""The analysts' daily materialisation: at 02:00 UTC, yesterday's partition."""

import dagster as dg

from pipelines.jobs import main_job

HOW_TO_START = (
    "Off by default, so a laptop running `dagster dev` never starts ingesting on its own: turn it on in "
    "the UI (Automation) or with `dagster {kind} start -m pipelines.definitions {name}`; a deployment "
    "also needs `dagster-daemon run` (deploy/README.md)."
)

daily_schedule = dg.build_schedule_from_partitioned_job(
    main_job,
    hour_of_day=2,
    minute_of_hour=0,
    name="daily_materialisation",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every day at 02:00 UTC, materialise yesterday's partition with `main_job` (ingest, "
    "staging, marts, reports). " + HOW_TO_START.format(kind="schedule", name="daily_materialisation"),
)
