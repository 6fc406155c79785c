"""Availability SLOs per provider: error budgets, multi-window burn rates and SRE-workbook alerts, all
computed from `marts.provider_minute_sli` (read through the warehouse).

Good and bad requests follow the SLI's provider error ratio: bad = errors_5xx + errors_529 + timeouts
(the provider's failures); good = requests - bad. 429 and other 4xx are our own errors, so they count
as good for the provider (they are valid requests the provider answered as designed).

Everything runs on a dense one-minute grid per provider (first to last minute with traffic; minutes
without requests are rows with requests = 0), so a time window of N minutes is exactly N rows and
"consecutive minutes" means consecutive rows. Windows are request-weighted: the burn rate over a window
is sum(bad) / sum(requests) over the window's minutes, divided by the error budget; null when the
window saw no requests. Windows end at (and include) the row's minute; near the start of the data they
cover only the minutes available.

Modules: `burn` (rolling budget and burn rates), `alerts` (multiwindow burn-rate alert episodes),
`budget` (per month and window), `assets` (the three marts).
"""
