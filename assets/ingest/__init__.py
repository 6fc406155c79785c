"""Parsers of the real source formats: pure functions from raw files to Polars frames plus rejects."""
