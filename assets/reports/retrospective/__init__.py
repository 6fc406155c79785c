"""Incident retrospectives for leadership: one page per incident with the largest observed impact inside
the analysed window, every number straight from a mart.

Which incidents: reconciled incident groups and lone vendor incidents ranked by what our evidence
observed (failed requests, cost, impact minutes), then by the vendor's stated impact and duration;
recurrences are candidates of their own. Each page opens with tiles (what broke, for whom, how long,
failed requests, cost with its range, who recovered first, how late the vendor was, what failover would
have saved), then a summary, then on one UTC time axis crowd reports vs their usual level, our
request-weighted error ratio per provider, the incident provider's errors by class and the status page's
stage times, then app-store rank context, detection and response measures and the cost breakdown.

subjects: which incidents get a page; headline: the first-screen tiles; evidence: the mart rows and the
timeline chart of one page; summary: the written summary; sections: the page's tables; assets: the
Dagster asset.
"""
