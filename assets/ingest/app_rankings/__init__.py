"""App Store chart snapshots -> one row per (day, country, chart, rank), refused entries quarantined.

Input: raw/app_rankings/<YYYY-MM-DD>/<country>-<chart>.json, as fetched from Apple's RSS v2 generator
(`{"feed": {"title", "country", "updated", "results": [{"id", "name", "artistName", ...}]}}`) or from the
legacy iTunes RSS JSON (`{"feed": {"updated": {"label"}, "entry": [{"im:name": {"label"}, "id": {"label",
"attributes": {"im:id"}}, ...}]}}`, where `entry` is a bare object when the chart holds one app).
Rank is the position in the feed (1-based). A chart holds at most a few hundred entries, so walking the
JSON in Python is the simple and fast way. Any other file is read as a rank history exported from other
tools (`history_csv`: date, country, chart, rank, app id and/or name, recognised from its header); its rows
go to the days in their `date` column, whichever day folder the file sits in.

Modules: `schema` (formats, staging table), `feeds` (JSON -> Feed), `entries` (one entry's fields or
reason), `updated` (the feed's update time in UTC), `history_csv` (rank histories), `days` (the run over
partition days).
"""

from assets.ingest.app_rankings.days import RanksParse, day_files, parse_app_days
from assets.ingest.app_rankings.schema import FEED_FORMATS, SOURCE, STAGING_SCHEMA
from assets.ingest.app_rankings.updated import parse_updated

__all__ = ["FEED_FORMATS", "SOURCE", "STAGING_SCHEMA", "RanksParse", "day_files", "parse_app_days", "parse_updated"]
