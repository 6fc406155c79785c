"""Gateway request logs -> typed rows in Parquet, one folder per UTC day of the rows, plus the refused lines.

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

Files are not cut at UTC midnight: a file may hold several days and sit in any day folder; each accepted
row goes to the UTC day of its own `ts` (batch.py), and rows before the first partition day or in the
future are refused.

Formats under raw/request_logs/<YYYY-MM-DD>/ (each may also be gzipped, `.gz`):
- `*.jsonl`: one JSON object per line with ts, provider, model, endpoint, status, latency_ms,
  tokens_in, tokens_out, client_id, region and optional error_type; extra keys are ignored.
- `*.csv`: the same fields as columns named in a header line (any order; extra columns ignored).
- `*.log`: Apache/Nginx combined log format, optionally followed by the request time in seconds
  (nginx `$request_time`); the provider comes from the request path prefix or a host in the file name.

`ingest_files()` (batch.py) is the entry point; `lake_days.write_days()` keeps the lake's day partitions
and the index of which days each raw file holds (the staging asset and the benchmark call it).
"""

from assets.ingest.request_logs.batch import ingest_day, ingest_files, list_folder
from assets.ingest.request_logs.fields import LAKE_COLUMNS, SOURCE
from assets.ingest.request_logs.lines import iter_line_batches
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.results import BatchResult, FileResult

__all__ = [
    "LAKE_COLUMNS",
    "SOURCE",
    "BatchResult",
    "FileResult",
    "ProviderMapping",
    "ingest_day",
    "ingest_files",
    "iter_line_batches",
    "list_folder",
]
