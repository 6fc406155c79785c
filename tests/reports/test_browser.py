"""Open every generated page in headless Debian Chromium with the network off.

Each page must draw all its charts from the inlined bundle alone: no request leaves file://, no console
error, no dialog (the injected `alert(1)` titles must stay text), every chart container holds an SVG or
canvas of non-zero size. Screenshots go to the test's tmp dir; with INCIDENTS_SAVE_SCREENSHOTS=1 the
index and the 2 March retrospective are also copied to docs/screenshots/ for the README.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
README_SHOTS = {"index.html": "index.png", "2026-03-02-anthropic-inc-a1.html": "retrospective.png"}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def test_every_page_renders_offline(built_reports, browser, tmp_path: Path):
    pages = sorted(built_reports.reports_dir.rglob("*.html"))
    assert len(pages) >= 8
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 900})
    blocked: list[str] = []

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    problems: list[str] = []
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        for path in pages:
            page = context.new_page()
            page.on(
                "console",
                lambda msg, p=path: (
                    problems.append(f"{p.name}: console {msg.type}: {msg.text}")
                    if msg.type == "error"
                    else None
                ),
            )
            page.on("pageerror", lambda err, p=path: problems.append(f"{p.name}: page error: {err}"))

            def on_dialog(dialog, p=path):
                problems.append(f"{p.name}: a {dialog.type} dialog fired: {dialog.message}")
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(path.as_uri(), wait_until="load")
            containers = page.locator("div.chart")
            count = containers.count()
            if count:
                page.wait_for_function("document.body.dataset.chartsRendered === '1'", timeout=20_000)
            for i in range(count):
                box = containers.nth(i).locator("svg, canvas").first.bounding_box()
                chart_id = containers.nth(i).get_attribute("id")
                if not box or box["width"] <= 0 or box["height"] <= 0:
                    problems.append(f"{path.name}: {chart_id} drew nothing")
            shot = shots / f"{path.parent.name}-{path.stem}.png"
            page.screenshot(path=str(shot), full_page=True)
            if os.environ.get("INCIDENTS_SAVE_SCREENSHOTS") == "1" and path.name in README_SHOTS:
                target = REPO / "docs" / "screenshots"
                target.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, target / README_SHOTS[path.name])
            page.close()
    finally:
        context.close()
    assert not blocked, f"pages tried to reach the network: {blocked}"
    assert not problems, "\n".join(problems)
    assert len(list(shots.glob("*.png"))) == len(pages)
