"""Every generated page in headless Debian Chromium at 1400x900 with the network off, for the demo-like
marts and for a range with no data.

Each page must draw all its charts from the inlined bundle alone: no request leaves file://, no console
error, no dialog (the injected `alert(1)` titles must stay text), every chart container holds an SVG of
non-zero size. Its first screen (the top 900 px) must answer: headline tiles (index, retrospective),
the recommendation (vendor review) or the calendar strip (daily digest). Every legend titled "provider"
on every page maps a provider to the same colour, and no other legend uses a provider's colour.
Screenshots (first screen) go to the test's tmp dir; with INCIDENTS_SAVE_SCREENSHOTS=1 one page of each
kind is also copied to docs/screenshots/ for the README.
"""

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1400, "height": 900}
DOC_SHOTS = {
    ("built", "index.html"): "index.png",
    ("built", "vendor-review.html"): "vendor-review.png",
    ("built", "2026-03-02-anthropic-inc-a1.html"): "retrospective.png",
    ("built", "2026-03-02.html"): "daily.png",
    ("empty", "vendor-review.html"): "vendor-review-no-data.png",
}
# Per page kind, what must sit inside the first screen, and how many of them at least.
FIRST_SCREEN = {
    "index": (".tile", 15),
    "retrospective": (".tile", 8),
    "vendor": ("#decision", 1),
    "daily": (".calendar [role=listitem]", 2),  # a day with a page is a link, one without a plain cell
}
LEGENDS_JS = """() => [...document.querySelectorAll('g.role-legend')].map(legend => ({
  title: (legend.querySelector('.role-legend-title text') || {}).textContent || '',
  labels: [...legend.querySelectorAll('.role-legend-label text')].map(t => t.textContent),
  colours: [...legend.querySelectorAll('.role-legend-symbol path')].map(
    p => p.getAttribute('fill') !== 'transparent' && p.getAttribute('fill') || p.getAttribute('stroke')),
}))"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]


@dataclass
class Visit:
    """What one build looked like in the browser."""

    pages: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    first_screen: dict[str, int] = field(default_factory=dict)  # page -> elements of its kind in view
    legends: dict[str, list[dict]] = field(default_factory=dict)


def kind_of(path: Path) -> str:
    if path.parent.name in ("retrospective", "daily"):
        return path.parent.name
    return "vendor" if path.name == "vendor-review.html" else "index"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        yield browser
        browser.close()


def _watch(page, name: str, visit: Visit) -> None:
    page.on(
        "console",
        lambda m: visit.problems.append(f"{name}: console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda err: visit.problems.append(f"{name}: page error: {err}"))

    def on_dialog(dialog):
        visit.problems.append(f"{name}: a {dialog.type} dialog fired: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)


def _visit_page(context, path: Path, visit: Visit, shots: Path, build: str) -> None:
    page = context.new_page()
    _watch(page, path.name, visit)
    page.goto(path.as_uri(), wait_until="load")
    containers = page.locator("div.chart")
    if containers.count():
        page.wait_for_function("document.body.dataset.chartsRendered === '1'", timeout=20_000)
    for i in range(containers.count()):
        box = containers.nth(i).locator("svg").first.bounding_box()
        if not box or box["width"] <= 0 or box["height"] <= 0:
            visit.problems.append(f"{path.name}: {containers.nth(i).get_attribute('id')} drew nothing")
    selector, _ = FIRST_SCREEN[kind_of(path)]
    boxes = [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]
    visit.first_screen[path.name] = sum(1 for b in boxes if b and b["y"] + b["height"] <= VIEWPORT["height"])
    visit.legends[path.name] = page.evaluate(LEGENDS_JS)
    shot = shots / f"{build}-{path.parent.name}-{path.stem}.png"
    page.screenshot(path=str(shot))
    if os.environ.get("INCIDENTS_SAVE_SCREENSHOTS") == "1" and (build, path.name) in DOC_SHOTS:
        target = REPO / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target / DOC_SHOTS[(build, path.name)])
        os.chmod(target / DOC_SHOTS[(build, path.name)], 0o644)
    page.close()


def visit_build(browser, reports_dir: Path, shots: Path, build: str) -> Visit:
    visit = Visit(pages=sorted(reports_dir.rglob("*.html")))
    context = browser.new_context(offline=True, viewport=VIEWPORT)

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            visit.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    try:
        for path in visit.pages:
            _visit_page(context, path, visit, shots, build)
    finally:
        context.close()
    return visit


@pytest.fixture(scope="module")
def visits(browser, built_reports, empty_reports, tmp_path_factory) -> dict[str, Visit]:
    shots = tmp_path_factory.mktemp("screenshots")
    return {
        "built": visit_build(browser, built_reports.reports_dir, shots, "built"),
        "empty": visit_build(browser, empty_reports.reports_dir, shots, "empty"),
    }


@pytest.mark.parametrize("build", ["built", "empty"])
def test_every_page_renders_offline_without_errors(visits, build):
    visit = visits[build]
    # without data: the index, the vendor review and one daily page (the range's last day)
    assert len(visit.pages) >= (10 if build == "built" else 3)
    assert not visit.blocked, f"pages tried to reach the network: {visit.blocked}"
    assert not visit.problems, "\n".join(visit.problems)


@pytest.mark.parametrize("build", ["built", "empty"])
def test_first_screen_answers(visits, build):
    visit = visits[build]
    for path in visit.pages:
        _, at_least = FIRST_SCREEN[kind_of(path)]
        assert visit.first_screen[path.name] >= at_least, (
            f"{build}/{path.name}: {visit.first_screen[path.name]}"
        )


def test_one_colour_per_provider_on_every_chart(visits):
    colour_of: dict[str, str] = {}
    provider_legends = 0
    other_colours: set[str] = set()
    for page, legends in visits["built"].legends.items():
        for legend in legends:
            if legend["title"] != "provider":
                other_colours |= set(legend["colours"])
                continue
            provider_legends += 1
            for label, colour in zip(legend["labels"], legend["colours"], strict=True):
                assert colour_of.setdefault(label, colour) == colour, f"{page}: {label} is {colour}"
    assert provider_legends >= 5
    assert len(set(colour_of.values())) == len(colour_of) >= 3  # distinct colours, every provider seen
    assert not other_colours & set(colour_of.values()), "a country/class/stage legend uses a provider colour"
