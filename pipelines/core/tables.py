"""Every warehouse table named once, as the Dagster asset key that writes it.

Assets declare `key=tables.INCIDENTS`; readers pass the same key to warehouse functions, which turn it
into the SQL name (`marts.incidents`). A table that is not an asset (the quarantine) is the only string.
"""

from __future__ import annotations

import dagster as dg

# staging: one table per source (request logs: a view over the Parquet lake)
STATUS_INCIDENTS = dg.AssetKey(["staging", "status_incidents"])
STATUS_UPDATES = dg.AssetKey(["staging", "status_incident_updates"])
STATUS_AFFECTED = dg.AssetKey(["staging", "status_affected_components"])
STATUS_COMPONENTS = dg.AssetKey(["staging", "status_components"])
STATUS_SNAPSHOTS = dg.AssetKey(["staging", "status_snapshots"])
APP_RANKS = dg.AssetKey(["staging", "app_ranks"])
CROWD_REPORTS = dg.AssetKey(["staging", "crowd_reports"])
REQUEST_LOGS = dg.AssetKey(["staging", "request_logs"])
# each client's first request per UTC day of the lake, kept by the request_logs step (not an asset of its own)
REQUEST_LOG_CLIENTS = dg.AssetKey(["staging", "request_log_clients"])

# marts
INCIDENTS = dg.AssetKey(["marts", "incidents"])
COMPONENT_RELIABILITY = dg.AssetKey(["marts", "component_reliability"])
COMPONENT_DAILY_UPTIME = dg.AssetKey(["marts", "component_daily_uptime"])
MINUTE_SLI = dg.AssetKey(["marts", "provider_minute_sli"])
SLO_BURN = dg.AssetKey(["marts", "slo_burn"])
SLO_ALERTS = dg.AssetKey(["marts", "slo_alerts"])
SLO_BUDGET = dg.AssetKey(["marts", "slo_budget"])
TELEMETRY_EPISODES = dg.AssetKey(["marts", "telemetry_episodes"])
CROWD_BASELINE = dg.AssetKey(["marts", "crowd_baseline"])
OUTAGE_EPISODES = dg.AssetKey(["marts", "outage_episodes"])
RECONCILIATION = dg.AssetKey(["marts", "incident_reconciliation"])
ACKNOWLEDGEMENT_LAG = dg.AssetKey(["marts", "acknowledgement_lag"])
MIGRATION_SIGNALS = dg.AssetKey(["marts", "migration_signals"])
MIGRATION_CORRELATION = dg.AssetKey(["marts", "migration_correlation"])
LOAD_ERROR_CURVE = dg.AssetKey(["marts", "load_error_curve"])
DOWNTIME_COST = dg.AssetKey(["marts", "downtime_cost"])
FAILOVER = dg.AssetKey(["marts", "failover_simulation"])

# not an asset: every source's refused rows
REJECTED_ROWS = "quarantine.rejected_rows"

# A table's unique key, where its blocking check enforces one: readers sort by it, an order as total as
# ORDER BY ALL at a fraction of the sort (the minute SLI at 365 days, read whole by five marts: 58 -> 30 ms).
UNIQUE_KEYS: dict[dg.AssetKey, tuple[str, ...]] = {MINUTE_SLI: ("minute", "provider")}


def sql_name(table: dg.AssetKey | str) -> str:
    """`marts.incidents` for the key ["marts", "incidents"]; a string passes through unchanged."""
    return ".".join(table.path) if isinstance(table, dg.AssetKey) else table
