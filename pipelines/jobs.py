"""Jobs. `main_job` materialises the whole graph for a range of daily partitions in one run.

Scale-out variants (deploy/README.md): `backfill_job` holds the per-day assets that run independently per
partition, so a parallel backfill launches one run per day; the `celery_*` jobs run every step as a Celery
task on the workers, and are registered only where Celery is deployed (`jobs_for`).
"""

import os
from collections.abc import Mapping

import dagster as dg

from pipelines.celery_executor import BROKER_ENV, celery_env_executor
from pipelines.core import tables

SCALE_OUT_ENV = "INCIDENTS_SCALE_OUT"

# Partitioned assets process the run's partition range; unpartitioned ones (status pages, window-wide
# marts, reports) are rebuilt from everything staged so far in the same run.
main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("raw"),
    description="Ingest, staging, marts and reports for the selected days (the daily materialisation).",
)

# The per-day staging tables and the minute SLI mart (which reads only its own day of staging.request_logs).
BACKFILL_SELECTION = dg.AssetSelection.assets(
    tables.CROWD_REPORTS, tables.APP_RANKS, tables.REQUEST_LOGS, tables.MINUTE_SLI
)

backfill_job = dg.define_asset_job(
    "backfill_job",
    selection=BACKFILL_SELECTION,
    description="Per-day staging tables and the minute SLI mart; launch one run per partition to backfill in parallel.",
)

celery_backfill_job = dg.define_asset_job(
    "celery_backfill_job",
    selection=BACKFILL_SELECTION,
    executor_def=celery_env_executor,
    description="backfill_job with every step run as a Celery task on the workers (broker/backend from env).",
)

celery_main_job = dg.define_asset_job(
    "celery_main_job",
    selection=main_job.selection,
    executor_def=celery_env_executor,
    description="main_job with every step run as a Celery task on the workers (broker/backend from env).",
)

LOCAL_JOBS = [main_job, backfill_job]
CELERY_JOBS = [celery_backfill_job, celery_main_job]


def scale_out_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Celery is deployed here: a broker URL is configured, or INCIDENTS_SCALE_OUT=1 says so."""
    return bool(environ.get(BROKER_ENV)) or environ.get(SCALE_OUT_ENV) == "1"


def jobs_for(environ: Mapping[str, str] = os.environ) -> list:
    """The jobs of this code location: the Celery ones only where Celery is deployed, so a laptop's
    `dagster dev` does not offer jobs whose runs would wait forever for a worker."""
    return LOCAL_JOBS + (CELERY_JOBS if scale_out_enabled(environ) else [])
