"""Self-contained offline HTML pages with Vega-Lite charts, plus a PNG and an SVG of every chart beside them.

One page = one HTML file that opens from disk with the network off:
- the Vega/Vega-Lite/Vega-Embed libraries are inlined ONCE per page as a single ES-module bundle built by
  `vl_convert.javascript_bundle` (cached per process: building it takes seconds, every page reuses it);
- every chart spec of the page sits in ONE `<script type="application/json">` block that the bundle's
  snippet reads and embeds into the chart containers (`<div class="chart" id="chart-N">`);
- a Content-Security-Policy forbids every network fetch at view time.

Escaping: all text (incident titles, bodies, app and component names) goes through `html.escape`;
chart specs go into the script as JSON with `<`, `>`, `&`, U+2028 and U+2029 written as `\\u003c` ...,
so a title containing `</script>` or `<!--` cannot end or confuse the script block.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import vl_convert as vlc

from pipelines.core.settings import safe_path

VL_VERSION = "6.4"  # Vega-Lite of Altair 6.3 (schema v6.4.1), shipped by vl-convert 1.9
SPECS_ELEMENT_ID = "vega-specs"

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

CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{background:#1d2330;color:#fff;padding:14px 28px}
header a{color:#9cc3ff;margin-right:16px;text-decoration:none}
header .subtitle{color:#c8d0dc;font-size:14px;margin-top:4px}
main{max-width:1080px;margin:0 auto;padding:8px 28px 48px}
h1{font-size:24px;margin:6px 0}
h2{font-size:19px;margin-top:30px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
table{border-collapse:collapse;margin:10px 0;font-size:13.5px}
th,td{border:1px solid #dde2ea;padding:4px 9px;text-align:left;vertical-align:top}
th{background:#eef1f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{margin:12px 0;min-height:60px}
.caption{color:#5a6373;font-size:13px;margin-top:-4px}
.missing{color:#8a5a00;background:#fff7e6;border:1px solid #f3d9a4;padding:6px 10px;display:inline-block}
.summary{background:#eef5ff;border-left:4px solid #3d7be0;padding:10px 14px}
ul.links li{margin:3px 0}
footer{color:#7a8291;font-size:12px;margin-top:40px}
"""


class PageError(RuntimeError):
    """A page could not be built (bad chart spec, unsafe file name, ...)."""


def esc(value: object) -> str:
    """HTML-escape any value as text (quotes too, so the result is safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _json_clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN/inf -> null (JSON.parse refuses NaN), tuples -> lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_clean(v) for v in value]
    return value


_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(value: Any) -> str:
    """JSON that is safe inside an HTML <script> element.

    `<`, `>`, `&`, U+2028 and U+2029 only ever occur inside JSON strings, where the \\uXXXX escape means
    the same character, so the parsed value is unchanged while `</script>`, `<!--` and `]]>` can no
    longer appear in the page source.
    """
    text = json.dumps(_json_clean(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_UNSAFE[m.group(0)], text)


@functools.cache
def vega_bundle() -> str:
    """The page script: Vega, Vega-Lite, Vega-Embed and the render snippet as one ES module (cached)."""
    bundle = vlc.javascript_bundle(BUNDLE_SNIPPET, vl_version=VL_VERSION)
    # The minified libraries contain no "</script" or "<!--"; if a future version did, it could only be
    # inside a string or regex literal, where "<\/" means the same thing.
    return re.sub(r"<(/script|!--)", r"<\\\1", bundle, flags=re.IGNORECASE)


def slugify(text: object, max_length: int = 80) -> str:
    """A file-name-safe slug: lower-case [a-z0-9-] only, no leading/trailing/double dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "page"


def chart_spec(chart: Any) -> dict:
    """A Vega-Lite spec dict from an Altair chart (validated, so MaxRowsError surfaces) or a dict."""
    spec = chart if isinstance(chart, Mapping) else chart.to_dict()
    return _json_clean(spec)


@dataclass
class ChartBlock:
    element_id: str
    name: str
    spec: dict
    caption: str | None = None


@dataclass
class WrittenPage:
    """What `Page.write` produced: the HTML, the chart images and a small PNG preview of chart 1."""

    path: Path
    images: list[Path] = field(default_factory=list)
    preview_png: bytes | None = None

    def preview_markdown(self) -> str:
        if not self.preview_png:
            return "(no chart on this page)"
        data = base64.b64encode(self.preview_png).decode("ascii")
        return f"![preview of {self.path.name}](data:image/png;base64,{data})"


class Page:
    """An HTML page assembled from escaped blocks. Text arguments are always escaped here; only
    `raw_html` takes markup, and callers build that markup from `esc`-aped parts."""

    def __init__(self, title: str, subtitle: str | None = None, nav: Sequence[tuple[str, str]] = ()):
        self.title = title
        self.subtitle = subtitle
        self.nav = list(nav)
        self.blocks: list[str] = []
        self.charts: list[ChartBlock] = []

    # -- text blocks -------------------------------------------------------------------------------
    def heading(self, text: str, level: int = 2, anchor: str | None = None) -> None:
        ident = f' id="{esc(slugify(anchor))}"' if anchor else ""
        self.blocks.append(f"<h{level}{ident}>{esc(text)}</h{level}>")

    def paragraph(self, text: str, css_class: str | None = None) -> None:
        cls = f' class="{esc(css_class)}"' if css_class else ""
        self.blocks.append(f"<p{cls}>{esc(text)}</p>")

    def summary(self, text: str) -> None:
        self.paragraph(text, "summary")

    def bullets(self, items: Iterable[str]) -> None:
        self.blocks.append("<ul>" + "".join(f"<li>{esc(item)}</li>" for item in items) + "</ul>")

    def links(self, items: Iterable[tuple[str, str]]) -> None:
        """A list of links; hrefs are relative paths built from sanitised slugs (still escaped)."""
        rows = "".join(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' for href, text in items)
        self.blocks.append(f'<ul class="links">{rows}</ul>')

    def not_available(self, what: str, reason: str) -> None:
        self.blocks.append(f'<p class="missing">{esc(what)}: not available ({esc(reason)}).</p>')

    def raw_html(self, markup: str) -> None:
        self.blocks.append(markup)

    def table(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[tuple[str, str]],
        formats: Mapping[str, Callable[[Any], str]] | None = None,
    ) -> None:
        """A table of `rows` (dicts); columns = [(key, header)]; numbers right-aligned; all escaped."""
        formats = formats or {}
        head = "".join(f"<th>{esc(label)}</th>" for _, label in columns)
        body = []
        for row in rows:
            cells = []
            for key, _ in columns:
                value = row.get(key)
                text = formats[key](value) if key in formats else default_format(value)
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
                cells.append(f'<td class="num">{esc(text)}</td>' if numeric else f"<td>{esc(text)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        self.blocks.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

    # -- charts ------------------------------------------------------------------------------------
    def chart(self, name: str, chart: Any, caption: str | None = None) -> ChartBlock:
        """Add a chart (Altair chart or Vega-Lite dict); `name` becomes part of its PNG/SVG file names."""
        block = ChartBlock(f"chart-{len(self.charts) + 1}", slugify(name, 40), chart_spec(chart), caption)
        self.charts.append(block)
        self.blocks.append(
            f'<div class="chart" id="{block.element_id}" data-chart="{esc(block.name)}"></div>'
        )
        if caption:
            self.blocks.append(f'<p class="caption">{esc(caption)}</p>')
        return block

    # -- output ------------------------------------------------------------------------------------
    def render(self) -> str:
        nav = "".join(f'<a href="{esc(href)}">{esc(text)}</a>' for href, text in self.nav)
        subtitle = f'<div class="subtitle">{esc(self.subtitle)}</div>' if self.subtitle else ""
        scripts = ""
        if self.charts:
            specs = {block.element_id: block.spec for block in self.charts}
            scripts = (
                f'<script type="application/json" id="{SPECS_ELEMENT_ID}">{script_json(specs)}</script>\n'
                f'<script type="module">{vega_bundle()}</script>\n'
            )
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(self.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            f"<header><nav>{nav}</nav><h1>{esc(self.title)}</h1>{subtitle}</header>\n"
            "<main>\n" + "\n".join(self.blocks) + "\n<footer>Generated offline from the warehouse marts; "
            "every figure on this page is listed with its mart, column and key in the .figures.json file "
            "beside it.</footer>\n</main>\n" + scripts + "</body>\n</html>\n"
        )

    def write(
        self, directory: Path, stem: str, preview: bool = True, preview_scale: float = 0.4
    ) -> WrittenPage:
        """Write `<stem>.html` and `<stem>--<chart>.svg/.png` under `directory` (names sanitised)."""
        stem = slugify(stem)
        directory.mkdir(parents=True, exist_ok=True)
        path = safe_path(directory, f"{stem}.html")
        written = WrittenPage(path)
        for block in self.charts:
            try:
                svg = vlc.vegalite_to_svg(block.spec, vl_version=VL_VERSION)
                png = vlc.svg_to_png(svg, scale=1.0)
            except Exception as exc:  # vl_convert raises ValueError with the Vega error text
                raise PageError(f"{path.name}: chart {block.name!r} could not be rendered: {exc}") from exc
            svg_path = safe_path(directory, f"{stem}--{block.name}.svg")
            png_path = safe_path(directory, f"{stem}--{block.name}.png")
            _atomic_write(svg_path, svg.encode("utf-8"))
            _atomic_write(png_path, png)
            written.images += [png_path, svg_path]
            if preview and written.preview_png is None:
                written.preview_png = vlc.svg_to_png(svg, scale=preview_scale)
        _atomic_write(path, self.render().encode("utf-8"))
        return written


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def default_format(value: Any) -> str:
    """Plain-text rendering of a mart value for tables."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return format_ts(value)
    if isinstance(value, list | tuple):
        return ", ".join(default_format(v) for v in value)
    return str(value)


def format_ts(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)
