"""Jobs. `main_job` materialises the whole graph for a range of daily partitions in one run."""

import dagster as dg

# Partitioned assets process the run's partition range; unpartitioned ones (status pages, window-wide
# marts, reports) are rebuilt from everything staged so far in the same run.
main_job = dg.define_asset_job(
    "main_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("raw"),
    description="Ingest, staging, marts and reports for the selected days (the daily materialisation).",
)

all_jobs = [main_job]
