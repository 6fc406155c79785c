"""Altair chart builders for the reports. Every builder takes mart rows (Polars) and returns a chart.

Charts only display mart values. Where a time series would exceed Altair's 5,000-row limit (and make the
page heavy), `series.resample` sums counts per bucket for display; error ratios are request-weighted over
a bucket (failed / all requests) and left blank under a minimum of requests (`series.pooled_error_ratio`,
the chart title says how); no figure quoted in the text comes from a resampled series. Time axes are UTC
(`scale type utc`), so the browser's time zone never shifts a chart. Every channel that colours by
provider gets one explicit provider scale (`palette`, applied by `Page.chart`); countries, error classes
and status-page stages have palettes of their own.

series: Vega-ready frames and display resampling; axes: the UTC time axis; palette: the colours;
markers: status-page stage rules; timeline: a retrospective's shared-axis chart; daily: the day at a
glance; overview: the incident strip and the rank context; vendor: the vendor review's bars and box plot.
"""
