"""The page builder: escaping in HTML (templates) and inside the inline script, offline bundle, chart files."""

import json
import re
from pathlib import Path

import altair as alt
import jinja2
import polars as pl
import pytest

from assets.reports import page as page_module
from assets.reports.page import Page, slugify
from assets.reports.templating import ENV, script_json

SCRIPT_TITLE = "Elevated errors <script>alert(1)</script>"
IMG_TITLE = '"><img src=x onerror=alert(1)>'
SPECS_RE = re.compile(r'<script type="application/json" id="vega-specs">(.*?)</script>', re.DOTALL)


def test_script_json_cannot_end_the_script_and_round_trips():
    value = {"title": "</script><script>alert(1)</script> & <!-- \u2028 \u2029", "n": float("nan")}
    text = script_json(value)
    assert not re.search("[<>&\u2028\u2029]", text)
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text) == {**value, "n": None}  # NaN becomes null: JSON.parse refuses NaN


def test_slugify_keeps_only_safe_characters():
    assert slugify("../../Etc/Passwd <x>") == "etc-passwd-x"
    assert slugify("2026-03-02 Anthropic: inc_A1") == "2026-03-02-anthropic-inc-a1"
    assert slugify("///") == "page"
    assert re.fullmatch(r"[a-z0-9-]+", slugify(IMG_TITLE))


# Every block the report templates use (base layout, headings, paragraphs, macros), fed hostile text.
EVERY_BLOCK = ENV.from_string(
    """{% extends "base.html.j2" %}
{% import "macros.html.j2" as m %}
{% block content %}
<h2>{{ heading }}</h2>
<p>{{ paragraph }}</p>
{{ m.summary(summary) }}
{{ m.bullets(bullets) }}
{{ m.links(links) }}
{{ m.table(rows, [("title", "t"), ("n", "n")]) }}
{{ m.not_available(heading, paragraph) }}
{{ m.chart(chart) }}
{% endblock %}
"""
)
_BASE = {"title": "t", "synthetic": False, "nav": [], "subtitle": None, "window_text": None, "glossary": [], "charts": []}
NO_CHART = ENV.from_string('{% extends "base.html.j2" %}{% block content %}<p>{{ text }}</p>{% endblock %}')


def _malicious_page() -> Page:
    page = Page(EVERY_BLOCK, SCRIPT_TITLE, subtitle=IMG_TITLE, nav=[("index.html", IMG_TITLE)])
    data = pl.DataFrame({"title": [SCRIPT_TITLE, IMG_TITLE], "n": [1, 2]})
    chart = page.chart(
        "bars <b>",
        alt.Chart(data).mark_bar().encode(x="title:N", y="n:Q", tooltip=["title:N"]),
        caption=IMG_TITLE,
    )
    page.content.update(
        heading=SCRIPT_TITLE,
        paragraph=IMG_TITLE,
        summary=f"{SCRIPT_TITLE} then {IMG_TITLE}",
        bullets=[SCRIPT_TITLE],
        links=[("retrospective/x.html", IMG_TITLE)],
        rows=[{"title": SCRIPT_TITLE, "n": 3.5}, {"title": IMG_TITLE, "n": None}],
        chart=chart,
    )
    return page


def without_bundle(html: str) -> str:
    """The page minus the (trusted, minified) library bundle, whose own strings contain markup."""
    head, _, rest = html.partition('<script type="module">')
    return head + rest.partition("</script>")[2]


def test_source_text_is_escaped_in_html_and_inside_the_script():
    html = without_bundle(_malicious_page().render())
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    # Only the JSON specs script is left once the bundle is cut out.
    assert len(re.findall(r"<script\b", html)) == 1
    specs_text = SPECS_RE.search(html).group(1)
    assert "<" not in specs_text and ">" not in specs_text
    specs = json.loads(specs_text)
    titles = [row["title"] for dataset in specs["chart-1"]["datasets"].values() for row in dataset]
    assert titles == [SCRIPT_TITLE, IMG_TITLE]


def test_page_is_self_contained_with_one_bundle_and_no_network():
    html = _malicious_page().render()
    assert html.count('<script type="module">') == 1
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r'<(script|link|img|iframe)[^>]*\s(src|href)="?(https?:)?//', html)
    assert page_module.vega_bundle() is page_module.vega_bundle()  # built once per process


def test_bundle_is_kept_in_the_user_cache_and_reused(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    page_module.vega_bundle.cache_clear()
    built = page_module.vega_bundle()
    cached = page_module.bundle_cache_path()
    assert cached.parent == tmp_path / "incidents" and cached.read_text("utf-8") == built
    cached.write_text("/* the cached copy */", "utf-8")  # a second process reads the file, not vl-convert
    page_module.vega_bundle.cache_clear()
    assert page_module.vega_bundle() == "/* the cached copy */"
    page_module.vega_bundle.cache_clear()


def test_page_without_charts_has_no_script():
    page = Page(NO_CHART, "plain", content={"text": "nothing to draw"})
    assert "<script" not in page.render()


def test_write_puts_png_and_svg_beside_the_page(tmp_path: Path):
    written = _malicious_page().write(tmp_path / "out", "My Page!")
    assert written.path == tmp_path / "out" / "my-page.html"
    assert written.path.read_text("utf-8").startswith("<!DOCTYPE html>")
    png, svg = tmp_path / "out" / "my-page--bars-b.png", tmp_path / "out" / "my-page--bars-b.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.read_text("utf-8").lstrip().startswith("<svg")
    assert "<script" not in svg.read_text("utf-8")  # titles are text nodes in the SVG, escaped
    assert written.preview_markdown().startswith("![preview of my-page.html](data:image/png;base64,")


def test_too_many_rows_are_refused_before_rendering():
    page = Page(NO_CHART, "big")
    data = pl.DataFrame({"x": list(range(6000))})
    with pytest.raises(Exception, match="(?i)max.?rows|5000"):
        page.chart("big", alt.Chart(data).mark_point().encode(x="x:Q"))


def test_compiled_templates_are_kept_in_the_user_cache_and_reused(tmp_path: Path, monkeypatch):
    from assets.reports import templating

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    compiled = []
    compile_ = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile", lambda env, *a, **k: compiled.append(a[1]) or compile_(env, *a, **k))
    first = templating._environment().get_template("base.html.j2")
    assert compiled and list((tmp_path / "incidents" / "templates").iterdir())  # compiled, then kept
    compiled.clear()
    again = templating._environment().get_template("base.html.j2")  # a later run: the kept code, no compile
    assert compiled == [] and again.render(**_BASE) == first.render(**_BASE)


def test_a_cache_that_cannot_be_written_costs_the_compile_only(tmp_path: Path, monkeypatch):
    from assets.reports import templating

    (tmp_path / "incidents").write_text("not a folder")  # nothing can be created under it
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert "<!DOCTYPE html>" in templating._environment().get_template("base.html.j2").render(**_BASE)
