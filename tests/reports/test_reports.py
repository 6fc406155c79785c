"""Every report asset built with dg.materialize over hand-made marts (see conftest.py)."""

import datetime as dt
import json
import math
import re
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.marts.reliability.daily import daily_uptime_mart
from assets.reports.costs import cost_rows
from assets.reports.facts import ProviderFacts
from assets.reports.figures import json_value
from assets.reports.marts_data import read_between, read_mart
from assets.reports.retrospective.subjects import select_subjects
from assets.reports.scope import Scope
from assets.reports.vendor_review.assets import build_page
from assets.reports.vendor_review.compare import grade_letter
from assets.reports.vendor_review.decision import statistically_tied
from pipelines.core.frames import to_utc
from pipelines.core.warehouse import connect, replace_table
from pipelines.core.window import Window

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
        if f["table"] == "marts.downtime_cost" and f["column"] == "total_cost_usd"
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
    tiles = dict(re.findall(r'<div class="label">(.*?)</div><div class="value[ a-z]*">(.*?)</div>', html))
    assert tiles["What broke"] == "Claude Code, claude.ai"
    assert tiles["For whom"] == "US, GB"
    assert tiles["Failed requests"] == "15,000"  # the group's cost row
    assert tiles["Cost (base)"] == "$182,000" and "low $91,000 to high $364,000" in html
    assert tiles["Who recovered first"] == "our requests"  # the vendor declared resolution 5 min later
    assert tiles["Vendor lateness"] == "41 min"
    assert tiles["Failover would have saved"] == "$151,000"
    assert "priced on our failed requests" in html
    assert "Assumptions (base scenario):</strong> 15,000 failed requests at the base value" in html
    label_only = (folder / "2026-02-10-google-inc-g1.html").read_text("utf-8")
    assert '<div class="tile missing"><div class="label">Cost (base)</div>' in label_only
    assert "no observed impact, so the vendor&#39;s label alone" in label_only


def _tiles(html: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'<div class="tile ([a-z]*)"><div class="label">(.*?)</div><div class="value[ a-z]*">(.*?)</div>',
        html,
    )


def test_vendor_review_recommends_on_our_traffic_first(built_reports):
    review = (built_reports.reports_dir / "vendor-review.html").read_text("utf-8")
    for chart in (
        "uptime-policies",
        "mttr-distribution",
        "incidents-per-month",
        "slo-budget",
        "downtime-cost",
    ):
        assert f'data-chart="{chart}"' in review
    decision = review.split('id="decision"')[1].split('id="side-by-side"')[0]
    # Google failed the fewest of our requests (99.825% vs OpenAI 99.600%, Anthropic 98.800%)
    assert "Make Google the primary provider and keep OpenAI as the failover target." in decision
    assert "Google served 99.825% without failure (172,800 requests)" in decision
    # its uncertainty is its own cost range (incident g1 200,000 + group g-x 1,500 in the base scenario)
    assert "$201,500 (base), between $100,750 and $403,000" in decision
    # no failover advice for a provider it does not recommend as primary
    assert "fail over to openai" not in decision
    assert review.index('id="decision"') < review.index('id="uptime"')  # the answer comes first
    failover = review.split('id="failover"')[1]
    for label in ("downtime cost avoided (USD, low)", "extra cost (USD)", "extra latency (ms)", "$302,000"):
        assert label in failover  # every column of the mart, no [:6]
    assert "saved requests (negative: the policy lost requests)" in failover and "-961" in failover


def test_index_tiles_per_provider(built_reports):
    index = (built_reports.reports_dir / "index.html").read_text("utf-8")
    for link in EXPECTED_PAGES[1:]:
        assert f'href="{link}"' in index
    assert 'crowd_reports</td><td class="num">2</td>' in index  # quarantined rows per source
    anthropic = index.split('data-provider="Anthropic"')[1].split('data-provider="OpenAI"')[0]
    tiles = {label: (state, value) for state, label, value in _tiles(anthropic)}
    assert tiles["Downtime (status page)"] == ("ok", "438 min")
    assert tiles["Failed requests"] == ("bad", "2,074")  # 172,800 x 0.5% x 240%
    assert tiles["Downtime cost (base)"] == ("ok", "$191,000")
    assert tiles["Acknowledgement lag"] == ("bad", "41 min")
    assert tiles["SLO (our requests)"] == ("bad", "98.800%")
    assert "target 99.50%: missed, 240% of the error budget used" in anthropic
    assert "Analysed window: 2025-12-01 to 2026-03-15 UTC (105 days" in index
    daily = (built_reports.reports_dir / "daily/2026-03-02.html").read_text("utf-8")
    assert "Outage episodes detected: crowd 2, status 1, telemetry 2." in daily
    assert 'href="../retrospective/2026-03-02-anthropic-inc-a1.html"' in daily
    assert '<a href="2026-03-03.html">Next day</a>' in daily and "Previous day" not in daily  # range end
    assert 'class="bad today"' in daily  # the calendar strip marks the day and its outage


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


def test_selection_ranks_observed_impact_first(kit):
    subjects = select_subjects(kit.incidents(), kit.reconciliation(), cost_rows(kit.downtime_cost()))
    assert [s.slug for s in subjects] == [
        "2026-03-02-anthropic-inc-a1",  # 15,000 failed requests
        "2026-03-02-openai-inc-o1",  # 4,000
        "2026-03-03-anthropic-inc-a2",  # the recurrence: 300
        "2026-03-02-google-group-g-x",  # no request failed, 45 min of impact our evidence saw
        "2026-02-10-google-inc-g1",  # $200,000 on its vendor label alone: after every observed impact
        "2026-01-15-openai-inc-o2",
    ]
    assert subjects[0].group["group_id"] == "g-a1" and subjects[3].incidents == []
    without_cost = select_subjects(kit.incidents(), None, [], top_n=2)
    assert [s.slug for s in without_cost] == ["2026-03-02-openai-inc-o1", "2026-03-02-anthropic-inc-a1"]


def test_selection_keeps_to_the_analysed_window(kit):
    scope = Scope(Window(dt.date(2026, 3, 1), dt.date(2026, 3, 3), "run"), synthetic=False)
    subjects = select_subjects(
        kit.incidents(), kit.reconciliation(), cost_rows(kit.downtime_cost()), scope=scope
    )
    assert [s.slug for s in subjects] == [
        "2026-03-02-anthropic-inc-a1",
        "2026-03-02-openai-inc-o1",
        "2026-03-03-anthropic-inc-a2",
        "2026-03-02-google-group-g-x",
        "2026-03-03-google-inc-g2",  # open, no impact stated: the last candidate inside the window
    ]


def test_reports_refuse_to_read_staging(tmp_path: Path):
    with connect(tmp_path / "w.duckdb") as con, pytest.raises(ValueError, match="marts only"):
        read_mart(con, "staging.status_incidents")


def test_reading_a_time_range_of_a_mart_or_none(tmp_path: Path):
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    minutes = pl.DataFrame({"minute": [start + dt.timedelta(minutes=m) for m in range(-1, 3)], "v": [0, 1, 2, 3]})
    with connect(tmp_path / "w.duckdb") as con:
        assert read_between(con, "marts.minutes", "minute", start, start + dt.timedelta(minutes=2)) is None
        replace_table(con, "marts.minutes", minutes)
        rows = read_between(con, "marts.minutes", "minute", start, start + dt.timedelta(minutes=2))
        assert sorted(rows["v"].to_list()) == [1, 2]  # start <= minute < end
        assert read_between(con, "marts.minutes", "bin_start", start, start) is None  # no such column
        assert read_between(con, "marts.minutes", "minute", start, start, required=["w"]) is None
        with pytest.raises(ValueError, match="not a column name"):
            read_between(con, "marts.minutes", "minute; DROP TABLE x", start, start)


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


def _facts(provider: str, availability: float, requests: int) -> ProviderFacts:
    return ProviderFacts(provider, budget={"availability": availability, "requests": requests})


def test_a_ranking_inside_the_noise_is_called_a_tie():
    # a generated world at 0.1x: 99.480% of 2,691 vs 99.467% of 6,196 requests is noise ...
    assert statistically_tied(_facts("g", 0.99480, 2_691), _facts("o", 0.99467, 6_196))
    # ... while 98.8% vs 99.6% of 172,800 requests each is not (z ~ 27)
    assert not statistically_tied(_facts("a", 0.988, 172_800), _facts("o", 0.996, 172_800))
    # at the threshold: the same gap needs enough requests to count
    assert statistically_tied(_facts("a", 0.99, 500), _facts("b", 0.995, 500))
    assert not statistically_tied(_facts("a", 0.99, 5_000), _facts("b", 0.995, 5_000))


# -- vendor review: acknowledgement grade from marts.acknowledgement_lag, status-page uptime bars -------

WINDOW = Window(dt.date(2025, 12, 1), dt.date(2026, 3, 15), "config")
DISPLAY = {"anthropic": "Anthropic", "openai": "OpenAI", "google": "Google"}


def vendor_page(kit):
    daily = daily_uptime_mart(kit.incidents(), None, WINDOW.start_ts, WINDOW.end_ts)
    return build_page(
        kit.component_reliability(),
        kit.incidents(),
        kit.slo_budget(),
        cost_rows(kit.downtime_cost()),
        kit.failover_simulation(),
        kit.migration_correlation(),
        DISPLAY,
        Scope(WINDOW, synthetic=False),
        kit.acknowledgement_lag(),
        daily,
    )


@pytest.mark.parametrize(
    ("minutes", "letter"),
    [
        (0.0, "A"),
        (14.9, "A"),
        (15.0, "B"),
        (29.9, "B"),
        (30.0, "C"),
        (119.9, "C"),
        (120.0, "D"),
        (239.9, "D"),
        (240.0, "F"),
        (600.0, "F"),
    ],
)
def test_statusgator_grade_thresholds_on_both_sides(minutes, letter):
    assert grade_letter(minutes) == letter


def test_vendor_review_grades_acknowledgement_from_the_mart(kit):
    page, figures = vendor_page(kit)
    grades = {row["provider"]: row["grade"] for row in page.content["compare"]}
    assert grades["Anthropic"] == "C (41 min over 1; median 41 min)"
    assert grades["OpenAI"] == "A (0.0 min over 1; median 0.0 min)"  # posted before users saw it
    assert grades["Google"] == "F (240 min over 1; 1 never posted)"  # never posted g-x
    quoted = {
        (f["key"]["provider"], f["column"]): f["value"]
        for f in figures.items
        if f["table"] == "marts.acknowledgement_lag"
    }
    assert quoted[("google", "ack_lag_graded_mean_minutes")] == 240.0
    assert quoted[("anthropic", "ack_lag_median_minutes")] == 41.0


def test_vendor_review_uptime_bars_on_the_fixture(kit):
    page, figures = vendor_page(kit)
    (block,) = [c for c in page.charts if c.name == "status-uptime-bars"]
    (rows,) = block.spec["datasets"].values()
    bars = {(r["row"].split(":")[0], r["day"]): r["status"] for r in rows}
    days = sorted({r["day"] for r in rows})
    assert (days[0], days[-1], len(days)) == ("2025-12-16", "2026-03-15", 90)  # the last 90 of 105 days
    assert len(rows) == 3 * 90  # one bar per provider and day
    assert bars[("Anthropic", "2026-03-02")] == "partial outage"  # inc-a1, impact major
    assert bars[("Anthropic", "2026-03-03")] == "degraded performance"  # inc-a2, impact minor
    assert bars[("Anthropic", "2026-02-20")] == "maintenance"
    assert bars[("Anthropic", "2026-02-21")] == "operational"
    # before its first incident and after its last, Anthropic's page told us nothing: grey, not green
    assert bars[("Anthropic", "2026-02-19")] == bars[("Anthropic", "2026-03-04")] == "no data"
    assert bars[("OpenAI", "2026-03-02")] == "major outage"  # inc-o1, critical
    assert bars[("OpenAI", "2026-01-14")] == "no data" and bars[("OpenAI", "2026-01-16")] == "operational"
    partial = next(r for r in rows if r["row"].startswith("Anthropic") and r["day"] == "2026-03-02")
    # 11:49-16:05 partial on claude.ai at weight 0.3 over the whole day: 256 x 0.3 = 76.8 of 1440 minutes
    assert partial["uptime_pct"] == pytest.approx(100 * (1 - 76.8 / 1440))
    # the window's uptime beside each row is the component_reliability cell, quoted
    labels = {r["row"] for r in rows}
    assert labels == {"Anthropic: 99.710%", "OpenAI: 99.860%", "Google: 99.930%"}
    assert block.spec["encoding"]["y"]["sort"] == ["Anthropic: 99.710%", "OpenAI: 99.860%", "Google: 99.930%"]
    assert any(
        f["table"] == "marts.component_reliability" and f["column"] == "uptime_pct" for f in figures.items
    )
