"""Dagster code location and plumbing (settings, config, warehouse, quality, CLI) for incident analytics."""
