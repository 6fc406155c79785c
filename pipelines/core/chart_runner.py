"""A chart's images from its Vega-Lite spec with vl-convert, and the process that draws them for a run
(`python -m pipelines.core.chart_runner`, started and asked by `chart_process`).

Drawing has two parts of equal cost: the SVG (`svg`), which needs vl-convert's JavaScript engine, and the PNGs
made from the SVG (`png`), which need only its SVG renderer. The engine starts on the first chart of a
process (~0.4 s, holding the GIL); the worker does that while the run ingests and then draws the SVGs, while
the page that asked makes the PNGs of the charts already drawn. A request is a spec.
"""

from __future__ import annotations

import vl_convert as vlc

VL_VERSION = "6.4"  # Vega-Lite of Altair 6.3 (schema v6.4.1), shipped by vl-convert 1.9
_FIRST_CHART = {"data": {"values": [{"x": 0}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}


def svg(spec: dict) -> str:
    """The chart as SVG text; vl-convert's ValueError if the spec cannot be drawn."""
    return vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)


def png(svg_text: str, scale: float) -> bytes:
    """A PNG of the drawn chart at `scale`."""
    return vlc.svg_to_png(svg_text, scale=scale)


def _start_engine() -> None:
    png(svg(_FIRST_CHART), 1.0)


if __name__ == "__main__":
    from pipelines.core.side_process import serve

    serve(svg, load=_start_engine)
