"""Gateway request logs -> typed rows in Parquet plus the refused lines, one UTC day at a time.

Request logs are the large source (tens of millions of lines a day), so no row passes through Python:

* Fast path (JSONL and CSV, fast_path.py): DuckDB's own parallel readers type the fields, SQL validates
  every row, and accepted rows stream straight into one zstd Parquet file; the result stands only if
  every physical line became exactly one row.
* Exact path (combined logs always; JSONL/CSV files the fast path gave up on, exact_path.py): the file
  is split into numbered lines (lines.py) and handed to DuckDB as Arrow batches; every refused line is
  kept with its 1-based line number, a reason naming the field, and its text (first 2,000 characters).

Both paths use the same typing and validation SQL (sources.py, validation.py), so a row is accepted
with identical values by either; the exact path is what defines the result, the fast path is an
optimisation for clean files. Memory stays bounded (chunked reads, streaming COPY); nothing here opens
the warehouse.

Formats under raw/request_logs/<YYYY-MM-DD>/ (each may also be gzipped, `.gz`):
- `*.jsonl`: one JSON object per line with ts, provider, model, endpoint, status, latency_ms,
  tokens_in, tokens_out, client_id, region and optional error_type; extra keys are ignored.
- `*.csv`: the same fields as columns named in a header line (any order; extra columns ignored).
- `*.log`: Apache/Nginx combined log format, optionally followed by the request time in seconds
  (nginx `$request_time`); the provider comes from the request path prefix or a host in the file name.

`ingest_day()` (day.py) is the entry point (the staging asset and the benchmark both call it).
"""

from assets.ingest.request_logs.day import ingest_day
from assets.ingest.request_logs.fields import LAKE_COLUMNS, SOURCE
from assets.ingest.request_logs.lines import iter_line_batches
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.results import DayResult, FileResult

__all__ = [
    "LAKE_COLUMNS",
    "SOURCE",
    "DayResult",
    "FileResult",
    "ProviderMapping",
    "ingest_day",
    "iter_line_batches",
]
