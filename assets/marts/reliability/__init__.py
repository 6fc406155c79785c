"""marts.component_reliability: how often each provider's components fail, how fast they recover, uptime.

Definitions (as in published status-page reliability studies):
- MTTR = resolved_at - started_at of each incident (marts.incidents times, stated windows applied);
  mean, median and p90 (linear interpolation) over the resolved incidents that started in the period.
- MTBF = mean gap between consecutive incident starts of the same component within the period (days);
  null with fewer than two incidents. Maintenance (impact 'maintenance') is not an incident here.
- Uptime comes from a per-component status timeline (`status_timeline`): the component's old/new status
  transitions where the source publishes them, else the incident impact over [started_at, resolved_at)
  for each listed component, or for the whole page as component "(all)" (critical -> major_outage,
  major -> partial_outage, minor -> degraded_performance, maintenance -> under_maintenance; an impact
  marts.incidents inferred from a feed's words counts the same; no impact at all: partial_outage).
  An open incident lasts until last_seen_at, the newest snapshot showing it open, not to the window
  end: after that we know nothing. Overlapping intervals are cut at every boundary and each slice
  keeps the WORST status, so two incidents at once never count twice.
  uptime_pct = 100 * (1 - weighted down minutes / counted minutes), maintenance out of the denominator.
- Evidence (`evidence`): counted minutes are the period's minutes inside the provider's status-page
  evidence window (first snapshot or earliest incident start .. latest snapshot). A period with no
  evidence has null uptime, counts and minutes, evidence_state 'no_evidence' and a reason; a period
  with evidence and nothing wrong is a genuine 100% ('no_incidents'). Every row carries the analysed
  window of the run (window_start, window_end).
- The provider row (component "(provider)") uses the union timeline: at each moment the provider's
  status is the worst status of any of its components. We chose this over the mean of component uptimes
  because it answers "was anything on this vendor's status page down", does not depend on how many
  healthy components a vendor lists, and is what `ranking_changes_with_policy` ranks providers by.

Modules: `window` (analysed window and its periods), `evidence` (evidence window, state and reason),
`components` (which components are reported), `intervals` (raw status intervals per incident and
component), `timeline` (worst-status timeline and minutes per status), `stats` (counts, MTTR, MTBF),
`uptime` (weighting policy, ranking sensitivity), `columns`, `mart` (the pure `reliability_mart`),
`inputs` (what both marts read), `assets` (the Dagster asset). `daily` and `daily_assets` build
marts.component_daily_uptime: the same timeline, evidence and weights per UTC day (status-page bars).
"""
