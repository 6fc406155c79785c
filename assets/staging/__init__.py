"""Thin assets that parse the raw archive into staging tables (and quarantine what they refuse)."""
