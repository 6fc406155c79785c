"""Self-contained offline HTML pages with Vega-Lite charts, plus a PNG and an SVG of every chart beside them.

One page = one HTML file rendered from a template in templates/ that opens from disk with the network off:
- the Vega/Vega-Lite/Vega-Embed libraries are inlined ONCE per page as a single ES-module bundle built by
  `vl_convert.javascript_bundle` (building it takes over a second, so it is cached per process and in the
  user's cache dir, keyed by the vl-convert version, the Vega-Lite version and the snippet);
- every chart spec of the page sits in ONE `<script type="application/json">` block that the bundle's
  snippet reads and embeds into the chart containers (`<div class="chart" id="chart-N">`);
- a Content-Security-Policy forbids every network fetch at view time (templates/base.html.j2).

A report hands its template plain data (`Page.content`); the environment escapes every value.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import vl_convert as vlc
from markupsafe import Markup

from assets.reports.charts.palette import ProviderColors, with_provider_scale
from assets.reports.scope import Scope, publish
from assets.reports.templating import ENV, GLOSSARY, cache_dir, json_clean
from pipelines.core import chart_process, chart_runner
from pipelines.core.chart_runner import VL_VERSION
from pipelines.core.files import write_atomic
from pipelines.core.settings import safe_path

PNG_SCALE = 2.0  # slides want 2x pixels

# Runs inside the bundle (vl_convert exposes vegaEmbed/vega/vegaLite to the snippet). It reads the page's
# specs from the JSON block, renders each into its container as SVG and marks the body when done, so a
# browser test can wait for it. A chart that fails shows its error in place and logs it to the console.
BUNDLE_SNIPPET = """
window.vegaEmbed = vegaEmbed;
window.vega = vega;
window.vegaLite = vegaLite;
async function renderIncidentCharts() {
  const node = document.getElementById("vega-specs");
  const specs = node ? JSON.parse(node.textContent) : {};
  for (const [id, spec] of Object.entries(specs)) {
    const target = document.getElementById(id);
    if (!target) { console.error("chart container missing: " + id); continue; }
    try {
      await vegaEmbed(target, spec, {actions: false, renderer: "svg"});
      target.dataset.rendered = "1";
    } catch (err) {
      target.textContent = "This chart could not be drawn: " + err;
      console.error(err);
    }
  }
  document.body.dataset.chartsRendered = "1";
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", renderIncidentCharts);
} else {
  renderIncidentCharts();
}
"""


class PageError(RuntimeError):
    """A page could not be built (bad chart spec, unsafe file name, ...)."""


def bundle_cache_path() -> Path:
    """Where the built bundle is kept between runs (`cache_dir`)."""
    key = hashlib.sha256(f"{vlc.__version__}|{VL_VERSION}|{BUNDLE_SNIPPET}".encode()).hexdigest()[:16]
    return cache_dir() / f"vega-bundle-{key}.js"


@functools.cache
def vega_bundle() -> str:
    """The page script: Vega, Vega-Lite, Vega-Embed and the render snippet as one ES module (cached)."""
    cached = bundle_cache_path()
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    bundle = vlc.javascript_bundle(BUNDLE_SNIPPET, vl_version=VL_VERSION)
    # The minified libraries contain no "</script" or "<!--"; if a future version did, it could only be
    # inside a string or regex literal, where "<\/" means the same thing.
    bundle = re.sub(r"<(/script|!--)", r"<\\\1", bundle, flags=re.IGNORECASE)
    try:
        write_atomic(cached, bundle.encode("utf-8"))
    except OSError:  # a read-only home costs the rebuild next time, nothing else
        pass
    return bundle


def slugify(text: object, max_length: int = 80) -> str:
    """A file-name-safe slug: lower-case [a-z0-9-] only, no leading/trailing/double dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "page"


def chart_spec(chart: Any) -> dict:
    """A Vega-Lite spec dict from an Altair chart (validated, so MaxRowsError surfaces) or a dict."""
    spec = chart if isinstance(chart, Mapping) else chart.to_dict()
    return json_clean(spec)


@dataclass
class ChartBlock:
    """One chart of a page: its container id, file-name part, Vega-Lite spec and caption; `drawing`, its SVG
    being drawn by the chart worker since the chart was added (None without a worker: drawn at `write`)."""

    element_id: str
    name: str
    spec: dict
    caption: str | None = None
    drawing: Future | None = field(default=None, repr=False, compare=False)


@dataclass
class WrittenPage:
    """What `Page.write` produced: the HTML file and a small PNG preview of its first chart."""

    path: Path
    preview_png: bytes | None = None

    def preview_markdown(self) -> str:
        if not self.preview_png:
            return "(no chart on this page)"
        data = base64.b64encode(self.preview_png).decode("ascii")
        return f"![preview of {self.path.name}](data:image/png;base64,{data})"


@dataclass
class Page:
    """A page: its template (a name under templates/), header, charts and the plain data it shows."""

    template: str | jinja2.Template
    title: str
    subtitle: str | None = None
    nav: Sequence[tuple[str, str]] = ()
    content: dict[str, Any] = field(default_factory=dict)
    charts: list[ChartBlock] = field(default_factory=list)
    scope: Scope | None = None
    colors: ProviderColors = field(default_factory=ProviderColors)

    def chart(self, name: str, chart: Any, caption: str | None = None) -> ChartBlock:
        """Add a chart (Altair chart or Vega-Lite dict); `name` becomes part of its PNG/SVG file names.

        Container ids follow the order of these calls, which is the order of the charts on the page. Every
        channel that colours by provider gets the page's explicit provider scale."""
        spec = with_provider_scale(chart_spec(chart), self.colors)
        drawing = chart_process.svg(spec) if chart_process.drawing_elsewhere() else None  # while the page is built
        block = ChartBlock(f"chart-{len(self.charts) + 1}", slugify(name, 40), spec, caption, drawing)
        self.charts.append(block)
        return block

    def render(self) -> str:
        return ENV.get_template(self.template).render(
            title=self.title,
            subtitle=self.subtitle,
            nav=list(self.nav),
            window_text=self.scope.text if self.scope else None,
            synthetic=bool(self.scope and self.scope.synthetic),
            glossary=GLOSSARY,
            charts=self.charts,
            chart_specs={block.element_id: block.spec for block in self.charts},
            vega_bundle=Markup(vega_bundle()) if self.charts else "",
            **self.content,
        )

    def write(
        self, directory: Path, stem: str, preview: bool = True, preview_scale: float = 0.4
    ) -> WrittenPage:
        """Write `<stem>.html` and `<stem>--<chart>.svg/.png` (PNG at 2x) under `directory` (names sanitised,
        files mode 0644)."""
        stem = slugify(stem)
        directory.mkdir(parents=True, exist_ok=True)
        path = safe_path(directory, f"{stem}.html")
        written = WrittenPage(path)
        drawn = [block.drawing or chart_process.svg(block.spec) for block in self.charts]
        html = self.render()
        for block, svg_drawn in zip(self.charts, drawn, strict=True):
            try:
                svg = svg_drawn.result()
            except Exception as exc:  # vl_convert raises ValueError with the Vega error text
                raise PageError(f"{path.name}: chart {block.name!r} could not be rendered: {exc}") from exc
            publish(safe_path(directory, f"{stem}--{block.name}.svg"), svg.encode("utf-8"))
            publish(safe_path(directory, f"{stem}--{block.name}.png"), chart_runner.png(svg, PNG_SCALE))
            if preview and written.preview_png is None:
                written.preview_png = chart_runner.png(svg, preview_scale)
        publish(path, html.encode("utf-8"))
        return written
