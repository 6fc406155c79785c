"""The vendor-choice review: reliability, SLO budget, downtime cost and failover value side by side.

Every figure is a mart value (marts.component_reliability, marts.component_daily_uptime, marts.incidents,
marts.slo_budget, marts.acknowledgement_lag, marts.downtime_cost, marts.failover_simulation,
marts.migration_correlation); the recommendation paragraph only picks and orders those figures (highest
uptime, overspent budgets, best failover policy), and the acknowledgement grade only turns a mart's delay
into StatusGator's letter.

review: what every section shares; compare: the side-by-side table; status_bars: 90-day uptime bars;
reliability: uptime, MTTR, incidents per month; spend: SLO budget, downtime cost, failover; assets: the
Dagster asset, migration findings and the recommendation.
"""
