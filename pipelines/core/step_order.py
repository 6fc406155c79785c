"""Which steps of a run go first.

The in-process executor runs one step at a time, in dependency order, ties broken by the
`dagster/priority` tag. Ingest steps go first: their seconds pass in DuckDB while Great Expectations
loads in its worker process (gx_process.warm_up); a mart that could run as early would instead wait for that
load at its check.
"""

INGEST_FIRST = {"dagster/priority": "10"}
