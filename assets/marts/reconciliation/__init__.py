"""marts.incident_reconciliation: what users, our telemetry and the vendor each said about one incident.

Episodes of `marts.outage_episodes` are matched per provider by time: two episodes belong together when
they overlap or the gap between them is at most `tolerance_minutes` (30). Matching is transitive
(connected components of that graph, found with one sort and a running maximum of episode ends), so
a crowd spike in the US, a telemetry episode and two vendor incidents can form one incident group.

Every source keeps its own claim; nothing is silently picked:
- crowd_started_at / telemetry_started_at: our observations; observed_started_at = the earlier one.
- vendor_started_at: the vendor's impact start as marts.incidents states it (a window stated in an
  update body wins there); vendor_stated_start: the incident's own start field / display time as
  published (marts.incidents.vendor_started_at, e.g. a feed's "09:00 PST" converted to UTC);
  clock_difference_minutes = vendor_stated_start - observed_started_at (positive: the vendor says it
  began later than we saw it).
- triangulated_start = earliest credible signal = min(crowd, telemetry, vendor_started_at).

Classification (first rule that applies):
- unreported_impact: crowd and/or telemetry saw impact, no vendor incident overlaps it.
- vendor_only: a vendor incident with no crowd or telemetry episode.
- severity_understated: vendor impact at most `understated_max_impact_rank` (none/minor) while our
  per-minute error ratio peaked above `severe_error_ratio` (0.20) inside the group.
- matched: everything else.

Only groups that overlap the analysed window (`pipelines.core.window.analysis_window`: the run's tags,
else the config) are kept, whole; every row records that window (window_start, window_end).

Open vendor incidents (no resolved_at) count as lasting until the latest episode end in the data, at
most `open_incident_max_hours` (24) after their start, so one stale open incident cannot swallow weeks.

Modules: `schema` (output columns, parameters), `matching` (episode groups), `claims` (the vendor's
claims from marts.incidents), `impact` (impact minutes, peak error ratio), `reconcile` (the pure
`reconcile`: leads, lags, classes), `assets` (the Dagster asset and its checks). `ack_lag` and
`ack_assets` build marts.acknowledgement_lag: per provider, the median and mean delay from the impact
users saw to the vendor's first post, and the impacts never posted (StatusGator's grading mean).
"""
