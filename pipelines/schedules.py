"""The analysts' daily materialisation: at 02:00 UTC, yesterday's partition."""

import dagster as dg

from pipelines.jobs import main_job

daily_schedule = dg.build_schedule_from_partitioned_job(
    main_job, hour_of_day=2, minute_of_hour=0, name="daily_materialisation"
)
