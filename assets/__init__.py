"""The asset graph, one subpackage per layer: raw -> ingest/staging -> marts -> reports."""
