"""Outage episodes: when each evidence source saw a provider down, and all of them in one shape.

- `crowd` (+ `crowd_params`, `crowd_bins`, `crowd_scoring`): Downdetector-style detection on crowd
  reports, the `marts.crowd_baseline` table and its episodes.
- `telemetry` (+ `telemetry_evidence`): error-ratio episodes of our own requests, decided on evidence
  (pooled windows, binomial tests against the provider's baseline; `marts.telemetry_episodes`).
- `outage`: the union with vendor incidents (`marts.outage_episodes`), with stable episode ids.
- `assets`: the three marts.
"""
