"""Altair chart builders for the reports. Every builder takes mart rows (Polars) and returns a chart.

Charts only display mart values. Where a time series would exceed Altair's 5,000-row limit (and make the
page heavy), `series.resample` coarsens it for display: counts are summed per bucket and ratios show the
WORST minute of the bucket (the chart says so); no figure quoted in the text comes from a resampled series.
Time axes are UTC (`scale type utc`), so the browser's time zone never shifts a chart.

series: Vega-ready frames and display resampling; axes: the UTC time axis; markers: status-page stage
rules; timeline: a retrospective's shared-axis chart; daily: the day at a glance; overview: the incident
strip and the rank context; vendor: the vendor review's bars and box plot.
"""
