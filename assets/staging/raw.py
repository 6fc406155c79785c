"""The raw archive: files landed by `incidents fetch`, by exports, or by the bundled scenario.

Dagster does not build these; they are declared so the graph shows where every table comes from and
so the new-file sensor can report what landed.
"""

import dagster as dg

from pipelines.core.partitions import daily_partitions

status_pages = dg.AssetSpec(
    key=["raw", "status_pages"],
    group_name="raw",
    description="Every archived status-page response: raw/status_pages/<provider>/<UTC-stamp>.json|.atom|.rss",
    kinds={"file"},
)
app_rankings = dg.AssetSpec(
    key=["raw", "app_rankings"],
    group_name="raw",
    description="Apple RSS v2 / legacy iTunes RSS chart responses: raw/app_rankings/<day>/<country>-<chart>.json",
    partitions_def=daily_partitions,
    kinds={"file"},
)
crowd_reports = dg.AssetSpec(
    key=["raw", "crowd_reports"],
    group_name="raw",
    description="Downdetector-style exports: raw/crowd_reports/<day>/*.csv|*.jsonl[.gz]",
    partitions_def=daily_partitions,
    kinds={"file"},
)
request_logs = dg.AssetSpec(
    key=["raw", "request_logs"],
    group_name="raw",
    description="Gateway request logs: raw/request_logs/<day>/*.jsonl|*.csv|*.log[.gz]",
    partitions_def=daily_partitions,
    kinds={"file"},
)
