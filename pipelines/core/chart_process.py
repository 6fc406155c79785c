"""Where a page's charts are drawn: in the chart worker process when the command started one, else in place.

`incidents run` and `demo` start the worker early (`pipelines.launch`, standard library only like this
module), so vl-convert's engine start (~0.4 s) and the SVGs happen on another core: a page asks for each SVG
as the chart is added and makes the PNGs of each at `write`, while the worker draws the next. A run started
elsewhere (the Dagster UI, a test, a step process of another executor) draws in its own process.
"""

from __future__ import annotations

from concurrent.futures import Future

from pipelines.core.side_process import Workers, settle

_charts = Workers("pipelines.core.chart_runner", "vl-convert")


def warm_up() -> None:
    """Start the chart worker (no-op while it lives)."""
    _charts.warm_up()


def drawing_elsewhere() -> bool:
    """Whether `svg` hands the drawing to the worker (it was started), rather than drawing here and now."""
    return _charts.started()


def svg(spec: dict) -> Future:
    """The chart's SVG (`chart_runner.svg`): drawn by the worker, after the SVGs asked before it, if it was
    started; else drawn here, now. The future holds the SVG text or the reason it could not be drawn."""
    if drawing_elsewhere():
        return _charts.submit(spec)
    from pipelines.core import chart_runner

    return settle(Future(), lambda: chart_runner.svg(spec))


def stop() -> None:
    """Stop the worker, if any (at exit, and when a run's steps draw in their own processes)."""
    _charts.stop()
