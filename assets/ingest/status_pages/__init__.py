"""Status pages of every platform AI providers use -> staging.status_* rows.

schema (vocabularies, table schemas, `Invalid`), rows (one file's rows and rejects), fields (JSON field
readers), incident (what every dialect fills in and checks), statuspage_json (Statuspage API v2 and
incident.io, and the validator every translated platform goes through), translated (the shared shape),
instatus, betterstack, google_cloud, aws_health, rootly, azure_rss (one translator per platform), safe_xml,
feed_html, display_time, feeds (Statuspage Atom/RSS history), detect (platform and time from content),
parsers (kind -> parser), snapshots (archive naming, discovery, timing), dedup, archive (all snapshots).
Pure functions: no Dagster, no warehouse.
"""
