"""What a request log holds: the lake columns, the fields a line must carry, and the size limits."""

from __future__ import annotations

SOURCE = "request_logs"
CHUNK_BYTES = 16 << 20  # bytes read per step of the exact path
MAX_LINE_BYTES = 1 << 20  # a longer line is quarantined (by its first characters), never parsed
# zstd at its fastest level: about half snappy's size for these logs, at close to snappy's speed.
LAKE_PARQUET_OPTIONS = "COMPRESSION zstd, COMPRESSION_LEVEL 1"

# Columns of the accepted rows, in Parquet order (`day` is the hive partition, not stored in the file).
LAKE_COLUMNS: dict[str, str] = {
    "ts": "TIMESTAMPTZ",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "endpoint": "VARCHAR",
    "status": "INTEGER",
    "latency_ms": "DOUBLE",
    "tokens_in": "BIGINT",
    "tokens_out": "BIGINT",
    "client_id": "VARCHAR",
    "region": "VARCHAR",
    "error_type": "VARCHAR",
    "file": "VARCHAR",
}
TEXT_FIELDS = ("ts", "provider", "model", "endpoint", "client_id", "region", "error_type")
NUMBER_FIELDS = ("status", "latency_ms", "tokens_in", "tokens_out")
JSONL_CSV_REQUIRED = (
    "ts",
    "provider",
    "model",
    "endpoint",
    "status",
    "latency_ms",
    "tokens_in",
    "tokens_out",
    "client_id",
    "region",
)
OPTIONAL_TEXT = ("error_type",)
LOG_REQUIRED = ("ts", "status")  # the rest of a combined-log row is derived or legitimately empty
# A gateway export's converter names the provider and refuses a record without time or status; the
# other fields are legitimately empty where the gateway does not record them (e.g. region, model).
GATEWAY_REQUIRED = ("ts", "provider", "status")
