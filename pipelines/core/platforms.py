"""Every status-page platform the pipeline reads, by the `kind` a provider's config names.

The parsers live in assets/ingest/status_pages/ (one module per platform); this list is the vocabulary the
config is validated against and the staging tables' `page_kind` takes.
"""

from typing import Literal, get_args

StatusPageKind = Literal[
    "statuspage",  # Atlassian Statuspage API v2 (incidents.json, summary.json)
    "incident_io",  # incident.io's Statuspage-compatible API (fields may be missing)
    "atom",  # Statuspage-style history feeds (history.atom)
    "rss",  # history.rss
    "instatus",  # Instatus public JSON
    "betterstack",  # Better Stack (Better Uptime) status page JSON
    "google_cloud",  # status.cloud.google.com/incidents.json
    "aws_health",  # AWS Health Dashboard public events JSON
    "azure_rss",  # Azure status RSS
    "rootly",  # Rootly status pages
    "onlineornot",  # OnlineOrNot status pages
    "flashduty",  # Flashduty status pages
]
PAGE_KINDS: tuple[str, ...] = get_args(StatusPageKind)
