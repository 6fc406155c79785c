"""Status pages: Statuspage API v2 / incident.io JSON and Atom/RSS history feeds -> staging.status_* rows.

schema (vocabularies, table schemas, `Invalid`), rows (one file's rows and rejects), fields (JSON field
readers), incident (what both dialects fill in and check), statuspage_json, safe_xml, feed_html,
display_time, feeds (Atom/RSS), snapshots (archive naming and discovery), dedup, archive (all snapshots).
Pure functions: no Dagster, no warehouse.
"""
