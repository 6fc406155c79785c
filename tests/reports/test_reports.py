"""Every report asset built with dg.materialize over hand-made marts (see conftest.py)."""

import json
import math
import re
from pathlib import Path

import dagster as dg
import pytest

from assets.reports.costs import cost_rows
from assets.reports.figures import json_value
from assets.reports.marts_data import read_mart
from assets.reports.retrospective.subjects import select_subjects
from pipelines.core.frames import to_utc
from pipelines.core.warehouse import connect

A1_PAGE = "retrospective/2026-03-02-anthropic-inc-a1.html"
EXPECTED_PAGES = [
    "index.html",
    "vendor-review.html",
    "daily/2026-03-02.html",
    "daily/2026-03-03.html",
    A1_PAGE,
    "retrospective/2026-03-02-openai-inc-o1.html",
    "retrospective/2026-03-03-anthropic-inc-a2.html",
    "retrospective/2026-02-10-google-inc-g1.html",
    "retrospective/2026-01-15-openai-inc-o2.html",
    "retrospective/2026-03-02-google-group-g-x.html",  # unreported impact on 2 March: always included
]


def without_bundle(html: str) -> str:
    head, _, rest = html.partition('<script type="module">')
    return head + rest.partition("</script>")[2]


def pages(reports_dir: Path) -> list[Path]:
    return sorted(reports_dir.rglob("*.html"))


def test_every_page_is_written(built_reports):
    found = {p.relative_to(built_reports.reports_dir).as_posix() for p in pages(built_reports.reports_dir)}
    assert found == set(EXPECTED_PAGES)


def test_png_and_svg_beside_every_chart(built_reports):
    charts = 0
    for page in pages(built_reports.reports_dir):
        html = page.read_text("utf-8")
        names = re.findall(r'<div class="chart" id="chart-\d+" data-chart="([a-z0-9-]+)">', html)
        for name in names:
            png = page.with_name(f"{page.stem}--{name}.png")
            svg = page.with_name(f"{page.stem}--{name}.svg")
            assert png.read_bytes()[:4] == b"\x89PNG", png
            assert "<svg" in svg.read_text("utf-8")[:300], svg
            charts += 1
        assert html.count('<script type="module">') == (1 if names else 0)
        assert page.with_name(f"{page.stem}.figures.json").exists()
    assert charts >= 10


def test_source_text_is_escaped_everywhere(built_reports):
    for page in pages(built_reports.reports_dir):
        html = without_bundle(page.read_text("utf-8"))
        assert "<script>alert" not in html, page
        assert "<img" not in html, page
        assert "<b>" not in html, page
        assert len(re.findall(r"<script\b", html)) <= 1, page  # the JSON specs block only
        specs = re.search(r'<script type="application/json" id="vega-specs">(.*?)</script>', html, re.DOTALL)
        if specs:
            assert not re.search("[<>&]", specs.group(1)), page
    retro = (built_reports.reports_dir / A1_PAGE).read_text("utf-8")
    assert "Elevated errors on claude.ai &lt;script&gt;alert(1)&lt;/script&gt;" in retro
    review = (built_reports.reports_dir / "vendor-review.html").read_text("utf-8")
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in review  # the migration finding
    index = without_bundle((built_reports.reports_dir / "index.html").read_text("utf-8"))
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in index  # link text to the OpenAI retrospective


def _matches(row: dict, key: dict) -> bool:
    return all(json_value(row.get(k)) == v for k, v in key.items())


def test_figures_equal_the_mart_values(built_reports):
    tables: dict[str, list[dict]] = {}
    checked = 0
    with connect(built_reports.warehouse, read_only=True) as con:
        for figures_file in sorted(built_reports.reports_dir.rglob("*.figures.json")):
            for item in json.loads(figures_file.read_text("utf-8")):
                table = item["table"]
                if table not in tables:
                    tables[table] = to_utc(con.sql(f"SELECT * FROM {table}").pl()).to_dicts()
                rows = [r for r in tables[table] if _matches(r, item["key"])]
                assert len(rows) == 1, (
                    f"{figures_file.name}: key {item['key']} matches {len(rows)} rows of {table}"
                )
                expected = json_value(rows[0][item["column"]])
                if isinstance(expected, float):
                    assert math.isclose(item["value"], expected, rel_tol=1e-12), item
                else:
                    assert item["value"] == expected, item
                checked += 1
    assert checked > 100


def test_retrospective_quotes_the_reconciliation_and_cost(built_reports):
    folder = built_reports.reports_dir / "retrospective"
    figures = json.loads((folder / "2026-03-02-anthropic-inc-a1.figures.json").read_text("utf-8"))
    quoted = {(f["table"], f["column"]): f for f in figures}
    assert quoted[("marts.incident_reconciliation", "crowd_lead_minutes")]["value"] == 41.0
    assert quoted[("marts.incident_reconciliation", "telemetry_lead_minutes")]["value"] == 36.0
    assert quoted[("marts.incidents", "duration_minutes")]["value"] == 256.0
    costs = {
        f["key"]["scenario"]: f["value"]
        for f in figures
        if f["table"] == "marts.downtime_cost" and f["column"] == "total_cost"
    }
    assert costs == {"low": 91000.0, "base": 182000.0, "high": 364000.0}
    html = (folder / "2026-03-02-anthropic-inc-a1.html").read_text("utf-8")
    summary = re.search(r'<p class="summary">(.*?)</p>', html, re.DOTALL).group(1)
    for text in (
        "41 min before",
        "36 min before",
        "256 min",
        "$182,000",
        "low $91,000",
        "high $364,000",
        "61.7%",
        "4,712",
    ):
        assert text in summary
    assert "App-store rank context" in html and 'data-chart="app-ranks"' in html


def test_vendor_review_and_index_content(built_reports):
    review = (built_reports.reports_dir / "vendor-review.html").read_text("utf-8")
    for chart in (
        "uptime-policies",
        "mttr-distribution",
        "incidents-per-month",
        "slo-budget",
        "downtime-cost",
    ):
        assert f'data-chart="{chart}"' in review
    recommendation = review.split('id="recommendation"')[1]
    assert "Google had the highest status-page uptime under the default policy (99.930%)" in recommendation
    assert "fail over to openai" in recommendation and "$151,000" in recommendation
    assert "12 min of correlated failure" in recommendation
    index = (built_reports.reports_dir / "index.html").read_text("utf-8")
    for link in EXPECTED_PAGES[1:]:
        assert f'href="{link}"' in index
    assert 'crowd_reports</td><td class="num">2</td>' in index  # quarantined rows per source
    daily = (built_reports.reports_dir / "daily/2026-03-02.html").read_text("utf-8")
    assert "Outage episodes detected: crowd 2, status 1, telemetry 2." in daily
    assert 'href="../retrospective/2026-03-02-anthropic-inc-a1.html"' in daily


def test_materializations_carry_path_and_preview(built_reports):
    events = built_reports.result.get_asset_materialization_events()
    by_key = {}
    for event in events:
        by_key.setdefault(event.asset_key.to_user_string(), event.materialization.metadata)
    assert set(by_key) == {
        "reports/index",
        "reports/retrospectives",
        "reports/vendor_review",
        "reports/daily_digest",
    }
    for key, metadata in by_key.items():
        assert isinstance(metadata["path"], dg.PathMetadataValue), key
        assert Path(metadata["path"].path).exists(), key
        assert metadata["preview"].value.startswith("![preview of"), key
        assert "data:image/png;base64," in metadata["preview"].value


def test_selection_top_by_cost_then_impact_plus_the_2_march_groups(kit):
    subjects = select_subjects(kit.incidents(), kit.reconciliation(), cost_rows(kit.downtime_cost()))
    assert [s.slug for s in subjects] == [
        "2026-03-02-anthropic-inc-a1",  # most expensive (base)
        "2026-03-02-openai-inc-o1",
        "2026-03-03-anthropic-inc-a2",
        "2026-02-10-google-inc-g1",
        "2026-01-15-openai-inc-o2",  # no cost row: minor impact beats no stated impact
        "2026-03-02-google-group-g-x",  # reconciled on 2 March, no vendor incident
    ]
    assert subjects[0].group["group_id"] == "g-a1" and subjects[-1].incidents == []
    without_cost = select_subjects(kit.incidents(), None, [], top_n=2)
    assert [s.slug for s in without_cost] == ["2026-03-02-openai-inc-o1", "2026-03-02-anthropic-inc-a1"]


def test_reports_refuse_to_read_staging(tmp_path: Path):
    with connect(tmp_path / "w.duckdb") as con, pytest.raises(ValueError, match="marts only"):
        read_mart(con, "staging.status_incidents")


def test_missing_optional_marts_say_not_available(tmp_path: Path, kit):
    workspace = kit.make_workspace(tmp_path)
    skipped = (
        "marts.downtime_cost",
        "marts.failover_simulation",
        "marts.migration_signals",
        "marts.migration_correlation",
        "marts.crowd_baseline",
        "marts.slo_budget",
        "marts.incident_reconciliation",
        "marts.provider_minute_sli",
    )
    kit.fill_warehouse(workspace.settings.warehouse_path, skip=skipped)
    result = dg.materialize(
        kit.report_assets(), resources={"workspace": workspace}, partition_key="2026-03-02"
    )
    assert result.success
    reports = workspace.settings.reports_dir
    review = (reports / "vendor-review.html").read_text("utf-8")
    for section in (
        "Downtime cost: not available",
        "Failover simulation: not available",
        "Migration findings: not available",
        "SLO budget: not available",
    ):
        assert section in review
    retro = (reports / A1_PAGE).read_text("utf-8")
    assert "Reconciliation: not available" in retro and "App-store ranks: not available" in retro
    assert "Timeline chart: not available" in retro
    assert (reports / "daily/2026-03-02.html").exists() and (reports / "index.html").exists()


def test_incident_titles_survive_into_chart_data(built_reports, kit):
    html = (built_reports.reports_dir / "index.html").read_text("utf-8")
    specs = json.loads(re.search(r'id="vega-specs">(.*?)</script>', html, re.DOTALL).group(1))
    titles = {row["title"] for data in specs["chart-1"]["datasets"].values() for row in data}
    assert {kit.SCRIPT_TITLE, kit.IMG_TITLE} <= titles
    assert kit.FINDING not in html  # escaped, never raw
