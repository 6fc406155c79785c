"""The App Store chart contract: formats we read (two feeds, one rank-history CSV) and the staging table."""

from __future__ import annotations

import polars as pl

SOURCE = "app_rankings"
HISTORY_FORMAT = "rank_history_csv"  # rank histories exported from other tools (history_csv.py)
FEED_FORMATS = ("apple_rss_v2", "itunes_legacy", HISTORY_FORMAT)

# staging.app_ranks (contract columns first; record_no = the entry's 1-based position in `file`)
STAGING_SCHEMA = {
    "partition_day": pl.Date,
    "day": pl.Date,
    "country": pl.String,
    "chart": pl.String,
    "rank": pl.Int32,
    "app_id": pl.String,
    "app_name": pl.String,
    "provider": pl.String,
    "feed_format": pl.String,
    "file": pl.String,
    "artist_name": pl.String,
    "feed_updated": pl.Datetime("us", "UTC"),
    "feed_updated_text": pl.String,
    "record_no": pl.Int64,
}
