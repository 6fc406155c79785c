"""Crowd-report exports (Downdetector style) -> validated rows in UTC, and every refused record quarantined.

Input: raw/crowd_reports/<YYYY-MM-DD>/*.csv|*.jsonl, optionally gzipped. One record per time bucket,
service and country: `timestamp` (ISO 8601 with an offset in any zone), `service`, `country`, `reports`,
optional `problem_type` and `baseline`. A file may span days and sit in any day folder: each record goes
to the UTC day of its timestamp; one that cannot be placed is quarantined with its folder's day.

Modules: `schema` (the contract and the staging table), `reading` (gunzip, decode, split lines;
`csv_records` / `jsonl_records` turn lines into text records), `timestamps` and `checks` (why a record
is refused), `validate` (typed rows, duplicates), `days` (the run over partition days; which files
to read comes from the file index in assets/ingest/day_sources.py).
"""

from assets.ingest.crowd_reports.days import CrowdParse, configured_services, day_files, parse_crowd_days
from assets.ingest.crowd_reports.schema import SOURCE, STAGING_SCHEMA

__all__ = ["SOURCE", "STAGING_SCHEMA", "CrowdParse", "configured_services", "day_files", "parse_crowd_days"]
