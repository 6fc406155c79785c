"""The code location: every asset under assets/ (the raw archive as external assets), its checks, jobs,
the daily schedule, the raw sensor and the status-page archive job with its hourly schedule.

This is the one `dg.Definitions`: `dagster dev`, the CLI, step subprocesses and Celery workers all resolve
their jobs from it (`job_named`). The Celery jobs are in it only where Celery is deployed
(`pipelines.jobs.scale_out_enabled`: DAGSTER_CELERY_BROKER_URL set, or INCIDENTS_SCALE_OUT=1).
"""

import os
from collections.abc import Mapping

import dagster as dg

import assets
from assets.staging.raw import RAW_SOURCES
from pipelines.archive import archive_status_pages_job, archive_status_pages_schedule
from pipelines.core.resources import Workspace
from pipelines.instance_storage import relax_instance_sync
from pipelines.jobs import jobs_for
from pipelines.schedules import daily_schedule
from pipelines.sensors import raw_files_sensor

relax_instance_sync()  # every process that loads the code location writes run history without fsync
all_assets = dg.load_assets_from_package_module(assets)


def build_defs(environ: Mapping[str, str] = os.environ) -> dg.Definitions:
    """The code location as deployed where `environ` is the environment."""
    return dg.Definitions(
        assets=[*all_assets, *RAW_SOURCES],
        asset_checks=dg.load_asset_checks_from_package_module(assets),
        jobs=[*jobs_for(environ), archive_status_pages_job],
        schedules=[daily_schedule, archive_status_pages_schedule],
        sensors=[raw_files_sensor],
        resources={"workspace": Workspace()},
    )


defs = build_defs()


def job_named(name: str) -> dg.JobDefinition:
    """Reconstructor for `build_reconstructable_job`: the job of that name in this code location."""
    return defs.resolve_job_def(name)
