"""Each client's first request on each UTC day of the request-log lake: the small table behind "new client ids".

A client's first request over the whole history is the earliest of its first requests per day, so the
migration mart reads these few rows per client and day instead of opening every day's Parquet file. The
staging step rewrites the rows of exactly the days it publishes (and builds the table from every lake day
once, on a warehouse that does not have it yet).
"""

import duckdb
import polars as pl

# staging.request_log_clients: day (UTC, the lake partition), provider, client_id, and first_ts, the
# client's earliest request that day (a timestamp with time zone, as in the lake).
CLIENT_COLUMNS = {"day": pl.Date, "provider": pl.String, "client_id": pl.String, "first_ts": pl.Datetime("us", "UTC")}

_FIRST_REQUESTS_SQL = """
SELECT day, provider, client_id, min(ts) AS first_ts
FROM read_parquet($files, hive_partitioning = true, hive_types = {'day': DATE})
WHERE provider IS NOT NULL AND client_id IS NOT NULL AND ts IS NOT NULL
GROUP BY day, provider, client_id
ORDER BY day, provider, client_id
"""


def first_requests_by_day(files: list[str]) -> pl.DataFrame:
    """Each (day, provider, client_id)'s earliest request in these lake day files (paths .../day=D/part-0.parquet)."""
    if not files:
        return pl.DataFrame(schema=CLIENT_COLUMNS)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        frame = con.sql(_FIRST_REQUESTS_SQL, params={"files": files}).pl()
    return frame.cast(CLIENT_COLUMNS)
