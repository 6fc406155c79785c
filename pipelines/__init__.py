"""Dagster code location and plumbing (settings, config, warehouse, quality, CLI) for incident analytics."""

import warnings

# `backfill_policy` is flagged beta in Dagster 1.13 but is the documented way to make a range one run.
warnings.filterwarnings("ignore", message=".*backfill_policy.*is currently in beta")
