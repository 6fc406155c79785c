"""Which steps of a run go first.

The in-process executor runs one step at a time, in dependency order, ties broken by the
`dagster/priority` tag. Ingest steps go first: they spend their seconds in DuckDB, outside the GIL,
while Great Expectations loads on a background thread (quality.warm_up); a mart that could run as early
would instead wait for that load.
"""

INGEST_FIRST = {"dagster/priority": "10"}
