"""Incident retrospectives for leadership: one page per top incident, every number straight from a mart.

Which incidents: the top 5 by base-scenario downtime cost (marts.downtime_cost), falling back to vendor
impact then duration when there is no cost; incidents reconciled into one group share one page; any
reconciled group starting on 2026-03-02 (the Claude outage this product was built to explain) is always
included. Each page shows, on one UTC time axis, crowd reports vs their expected baseline, our error
ratio per provider, the incident provider's errors by class (5xx / 529 / 429 / timeouts) and the status
page's stage times as labelled markers, then app-store rank context, the detection lead, acknowledgement
and resolution lags, the cost breakdown and a written summary assembled from those figures.

subjects: which incidents get a page; evidence: the mart rows and the timeline chart of one page;
summary: the written summary; sections: the page's tables; assets: the Dagster asset.
"""
