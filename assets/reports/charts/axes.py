"""The UTC time axis every time-series chart shares, and the page width of a chart."""

from __future__ import annotations

import datetime as dt

import altair as alt

WIDTH = 760


def iso_text(value: dt.datetime | str) -> str:
    """A datetime as ISO-8601 UTC ('...Z'); a string (a template placeholder) passes through."""
    return value if isinstance(value, str) else value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_x(
    field: str,
    start: dt.datetime | str | None = None,
    end: dt.datetime | str | None = None,
    title: str | None = "UTC",
):
    domain = None
    if start is not None and end is not None:
        domain = [iso_text(start), iso_text(end)]
    scale = alt.Scale(type="utc", domain=domain) if domain else alt.Scale(type="utc")
    return alt.X(f"{field}:T", scale=scale, axis=alt.Axis(format="%d %b %H:%M", labelAngle=0), title=title)
