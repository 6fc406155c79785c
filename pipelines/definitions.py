"""The code location: every asset under assets/, its checks, jobs, the daily schedule and the raw sensor.

This is the one `dg.Definitions`: `dagster dev`, the CLI, step subprocesses and Celery workers all resolve
their jobs from it (`job_named`).
"""

import dagster as dg

import assets
from pipelines.core.resources import Workspace
from pipelines.jobs import all_jobs
from pipelines.schedules import daily_schedule
from pipelines.sensors import raw_files_sensor

all_assets = dg.load_assets_from_package_module(assets)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=all_jobs,
    schedules=[daily_schedule],
    sensors=[raw_files_sensor],
    resources={"workspace": Workspace()},
)


def job_named(name: str) -> dg.JobDefinition:
    """Reconstructor for `build_reconstructable_job`: the job of that name in this code location."""
    return defs.resolve_job_def(name)
