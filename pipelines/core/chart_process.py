"""Where a page's charts are drawn: in the chart worker process when the command started one, else in place.

`incidents run` and `demo` start the worker early (`pipelines.launch`, standard library only like this
module), so vl-convert's engine start (~0.4 s) and the drawing happen on another core; a run started
elsewhere (the Dagster UI, a test, a step process of another executor) draws in its own process.
"""

from __future__ import annotations

from pipelines.core.side_process import Workers

_charts = Workers("pipelines.core.chart_runner", "vl-convert")


def warm_up() -> None:
    """Start the chart worker (no-op while it lives)."""
    _charts.warm_up()


def render(spec: dict, png_scale: float, preview_scale: float | None = None) -> tuple[str, bytes, bytes | None]:
    """`chart_runner.render` in the worker if it was started, else here."""
    if _charts.started():
        return _charts.ask((spec, png_scale, preview_scale))
    from pipelines.core import chart_runner

    return chart_runner.render(spec, png_scale, preview_scale)


def stop() -> None:
    """Stop the worker, if any (at exit, and when a run's steps draw in their own processes)."""
    _charts.stop()
