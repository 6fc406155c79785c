"""Daily UTC partitions shared by every time-series asset."""

import dagster as dg

SCENARIO_START = "2025-12-01"
SCENARIO_END = "2026-03-15"  # inclusive last day of the bundled scenario

daily_partitions = dg.DailyPartitionsDefinition(start_date=SCENARIO_START, timezone="UTC")

# A backfill of any range is one run, so each asset sees the whole range at once.
single_run = dg.BackfillPolicy.single_run()
