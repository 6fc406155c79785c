"""The raw archive: files landed by `incidents fetch`, by exports, or by the bundled scenario.

Dagster does not build these: they are external assets, declared so the graph shows where every
table comes from and so the new-file sensor can report what landed. `pipelines.definitions` registers
`RAW_SOURCES` (asset loading from a package picks up asset definitions, not specs).
"""

import dagster as dg

from pipelines.core.partitions import daily_partitions

status_pages = dg.AssetSpec(
    key=["raw", "status_pages"],
    group_name="raw",
    description="Every archived status-page response (the platform's JSON API or its Atom/RSS "
    "feed), kept as fetched: `raw/status_pages/<provider>/<UTC-stamp>.json|.atom|.rss`. Written by "
    "`incidents fetch`; never built by Dagster.",
    kinds={"file"},
)
app_rankings = dg.AssetSpec(
    key=["raw", "app_rankings"],
    group_name="raw",
    description="App Store top-chart responses (Apple RSS v2 or legacy iTunes RSS), one file per country "
    "and chart and UTC day: `raw/app_rankings/<day>/<country>-<chart>.json`. Never built by Dagster.",
    partitions_def=daily_partitions,
    kinds={"file"},
)
crowd_reports = dg.AssetSpec(
    key=["raw", "crowd_reports"],
    group_name="raw",
    description="Downdetector-style crowd-report exports per UTC day: "
    "`raw/crowd_reports/<day>/*.csv|*.jsonl[.gz]`. Never built by Dagster.",
    partitions_def=daily_partitions,
    kinds={"file"},
)
request_logs = dg.AssetSpec(
    key=["raw", "request_logs"],
    group_name="raw",
    description="Our API gateway's request logs per UTC day: "
    "`raw/request_logs/<day>/*.jsonl|*.csv|*.log[.gz]`. Never built by Dagster.",
    partitions_def=daily_partitions,
    kinds={"file"},
)

RAW_SOURCES = [status_pages, app_rankings, crowd_reports, request_logs]
