"""The code location: every asset under assets/, its checks, jobs, the daily schedule and the raw sensor."""

import dagster as dg

import assets
from pipelines.core.resources import Workspace
from pipelines.executors import scale_out_jobs
from pipelines.jobs import all_jobs
from pipelines.schedules import daily_schedule
from pipelines.sensors import raw_files_sensor

defs = dg.Definitions(
    assets=dg.load_assets_from_package_module(assets),
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=all_jobs + scale_out_jobs,
    schedules=[daily_schedule],
    sensors=[raw_files_sensor],
    resources={"workspace": Workspace()},
)
