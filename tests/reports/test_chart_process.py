"""Charts drawn in the chart worker process (what `incidents run` starts) are the charts drawn in place, and a
chart that cannot be drawn is the page's clear error either way."""

import pytest

from assets.reports.page import Page, PageError
from assets.reports.templating import ENV
from pipelines.core import chart_process, chart_runner

SPEC = {
    "data": {"values": [{"provider": "anthropic", "errors": 529}, {"provider": "openai", "errors": 500}]},
    "mark": "bar",
    "encoding": {"x": {"field": "provider", "type": "nominal"}, "y": {"field": "errors", "type": "quantitative"}},
}
TEMPLATE = ENV.from_string('{% extends "base.html.j2" %}{% block content %}{% endblock %}')
BAD = {"data": {"values": [{"x": 1}]}, "mark": "no-such-mark", "encoding": {"x": {"field": "x"}}}


@pytest.fixture
def worker():
    chart_process.warm_up()
    yield chart_process._charts.live[0]
    chart_process.stop()


def test_the_worker_draws_what_this_process_draws(worker):
    drawn = chart_process.svg(SPEC).result()
    assert chart_process._charts.live == [worker]  # drawn there, not here
    assert drawn == chart_runner.svg(SPEC)
    assert drawn.lstrip().startswith("<svg") and "anthropic" in drawn
    png, preview = chart_runner.png(drawn, 2.0), chart_runner.png(drawn, 0.4)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(preview) < len(png)  # the preview is the smaller image


def test_without_a_worker_the_chart_is_drawn_in_place():
    chart_process.stop()
    assert chart_process.svg(SPEC).result() == chart_runner.svg(SPEC)
    assert chart_process._charts.live == []  # drawing never starts a worker: only the command does


def _page_files(directory):
    page = Page(TEMPLATE, "two charts")
    page.chart("bars", SPEC)
    page.chart("points", {**SPEC, "mark": "point"})
    written = page.write(directory, "two")
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}, written.preview_png


def test_a_page_drawn_by_the_worker_writes_the_files_a_page_drawn_in_place_writes(tmp_path, worker):
    in_worker, preview = _page_files(tmp_path / "worker")
    chart_process.stop()
    in_place, preview_in_place = _page_files(tmp_path / "here")
    assert sorted(in_worker) == ["two--bars.png", "two--bars.svg", "two--points.png", "two--points.svg", "two.html"]
    assert in_worker == in_place and preview == preview_in_place
    assert preview == chart_runner.png(in_place["two--bars.svg"].decode(), 0.4)  # the first chart's preview
    assert in_worker["two--points.png"] == chart_runner.png(in_place["two--points.svg"].decode(), 2.0)


@pytest.mark.parametrize("in_worker", [True, False])
def test_a_chart_that_cannot_be_drawn_names_the_page_the_chart_and_vega_s_reason(tmp_path, in_worker):
    if in_worker:
        chart_process.warm_up()
    page = Page(TEMPLATE, "bad")
    page.chart("broken bars", BAD)
    try:
        reason = r"bad\.html: chart 'broken-bars' could not be rendered: (.|\n)*Vega-Lite to SVG conversion failed"
        with pytest.raises(PageError, match=reason):
            page.write(tmp_path, "bad")
        assert chart_process._charts.started() is in_worker
        assert chart_process.svg(SPEC).result().lstrip().startswith("<svg")  # the worker lives on
    finally:
        chart_process.stop()
    assert not (tmp_path / "bad.html").exists()
