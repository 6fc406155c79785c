"""The vendor-choice review: reliability, SLO budget, downtime cost and failover value side by side.

Every figure is a mart value (marts.component_reliability, marts.incidents, marts.slo_budget,
marts.downtime_cost, marts.failover_simulation, marts.migration_correlation); the recommendation
paragraph only picks and orders those figures (highest uptime, overspent budgets, best failover policy).

review: what every section shares; reliability: uptime, MTTR, incidents per month; spend: SLO budget,
downtime cost, failover; assets: the Dagster asset, migration findings and the recommendation.
"""
