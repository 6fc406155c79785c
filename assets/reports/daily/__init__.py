"""reports/daily/<day>.html: what happened on one UTC day, for the analyst's morning.

Daily-partitioned with a single-run backfill: a range of days is one run that reads the marts once and
writes one page per day. Each page lists the status-page incidents open that day, the outage episodes
every evidence source detected, the SLO alerts that fired, the incidents reconciled that day and one
chart of the day (error ratio per provider, crowd reports per service, incident starts marked).

day: the day's rows, summary and chart; sections: the page's tables; assets: the Dagster asset.
"""
