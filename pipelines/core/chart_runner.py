"""A chart's images from its Vega-Lite spec with vl-convert (SVG, PNG, a small PNG preview), and the process
that draws them for a run (`python -m pipelines.core.chart_runner`, started and asked by `chart_process`).

vl-convert starts its JavaScript engine on the first chart of a process (~0.4 s, holding the GIL); the
worker does that while the run ingests, so the reports find it ready. A request is `render`'s arguments.
"""

from __future__ import annotations

import vl_convert as vlc

VL_VERSION = "6.4"  # Vega-Lite of Altair 6.3 (schema v6.4.1), shipped by vl-convert 1.9
_FIRST_CHART = {"data": {"values": [{"x": 0}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}


def render(spec: dict, png_scale: float, preview_scale: float | None = None) -> tuple[str, bytes, bytes | None]:
    """(SVG text, PNG at png_scale, PNG preview at preview_scale or None); vl-convert's ValueError if the
    spec cannot be drawn."""
    svg = vlc.vegalite_to_svg(spec, vl_version=VL_VERSION)
    png = vlc.svg_to_png(svg, scale=png_scale)
    return svg, png, vlc.svg_to_png(svg, scale=preview_scale) if preview_scale else None


def _start_engine() -> None:
    render(_FIRST_CHART, 1.0)


if __name__ == "__main__":
    from pipelines.core.side_process import serve

    serve(lambda request: render(*request), load=_start_engine)
