"""Charts people trust: pooled, request-weighted error ratios; one explicit provider scale; honest files."""

import datetime as dt
import json
import re
import stat

import polars as pl
import pytest

from assets.reports.charts.series import MIN_REQUESTS, pooled_error_ratio
from assets.reports.page import Page
from assets.reports.scope import report_scope
from assets.reports.templating import ENV
from pipelines.core.config import load_providers

DAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
NO_CHART = ENV.from_string('{% extends "base.html.j2" %}{% block content %}<p>{{ text }}</p>{% endblock %}')


def _sli(requests_every: int, failing_minutes: range, provider: str = "p") -> pl.DataFrame:
    minutes = pl.datetime_range(DAY, DAY + dt.timedelta(minutes=1439), "1m", eager=True, time_zone="UTC")
    n = len(minutes)
    requests = [1 if i % requests_every == 0 else 0 for i in range(n)]
    ratio = [1.0 if (i in failing_minutes and requests[i]) else 0.0 for i in range(n)]
    return pl.DataFrame({"minute": minutes, "provider": provider, "requests": requests, "error_ratio": ratio})


def test_one_failed_request_is_not_a_100_percent_spike():
    # one request every 10 minutes, the one at 10:00 failed: per minute that is a 100% "outage"
    ratio, bucket = pooled_error_ratio(_sli(10, range(600, 601)), 1440)
    assert ratio["error_ratio"].drop_nulls().max() < 0.05
    assert ratio.filter(pl.col("error_ratio").is_not_null())["requests"].min() >= MIN_REQUESTS
    assert bucket == 1440  # 144 requests a day: pooled to one day, the finest bucket with 20 requests


def test_a_real_outage_still_shows_at_low_volume():
    # one request a minute, two hours all failing: 60-minute buckets, 100% where it failed, 0% elsewhere
    ratio, bucket = pooled_error_ratio(_sli(1, range(600, 720)), 1440)
    assert bucket == 60
    by_hour = dict(zip(ratio["minute"].dt.hour().to_list(), ratio["error_ratio"].to_list(), strict=True))
    assert by_hour[10] == 1.0 and by_hour[11] == 1.0 and by_hour[9] == 0.0 and by_hour[12] == 0.0


def test_request_weighted_not_the_worst_minute():
    # 60 requests a minute; in one 5-minute bucket a single minute had 10% failures
    frame = _sli(1, range(0)).with_columns(requests=pl.lit(60))
    frame = frame.with_columns(
        error_ratio=pl.when(pl.col("minute") == DAY + dt.timedelta(minutes=3)).then(0.1).otherwise(0.0)
    )
    ratio, bucket = pooled_error_ratio(frame, 1440)
    assert bucket == 1
    ratio, bucket = pooled_error_ratio(frame, 1440, max_rows=300)
    assert bucket == 5
    assert ratio["error_ratio"].max() == pytest.approx(6 / 300)  # not 10%: the worst minute


def _provider_channels(spec: dict) -> list[dict]:
    """Every colour/fill/stroke encoding over the provider field in a Vega-Lite spec (iterative walk)."""
    found, stack = [], [spec]
    while stack:
        node = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
        stack.extend(children)
        encoding = node.get("encoding") if isinstance(node, dict) else None
        found += [
            enc
            for name, enc in (encoding or {}).items()
            if name in ("color", "fill", "stroke")
            and isinstance(enc, dict)
            and enc.get("field") == "provider"
        ]
    return found


def test_every_provider_chart_carries_the_explicit_provider_scale(built_reports):
    scales, channels = set(), 0
    for page in built_reports.reports_dir.rglob("*.html"):
        found = re.search(r'id="vega-specs">(.*?)</script>', page.read_text("utf-8"), re.DOTALL)
        for enc in _provider_channels(json.loads(found.group(1)) if found else {}):
            assert "scale" in enc, page.name
            scales.add(json.dumps(enc["scale"], sort_keys=True))
            channels += 1
    assert channels >= 8
    assert len(scales) == 1, scales  # the same domain and range on every chart of every page
    scale = json.loads(next(iter(scales)))
    assert scale["domain"][:3] == ["Anthropic", "OpenAI", "Google"]  # config order
    assert len(set(scale["range"])) == len(scale["range"])


def test_files_are_world_readable_and_png_at_2x(built_reports):
    png = built_reports.reports_dir / "vendor-review--downtime-cost.png"
    svg = png.with_suffix(".svg")
    width_svg = float(re.search(r'<svg[^>]*width="([\d.]+)"', svg.read_text("utf-8")).group(1))
    width_png = int.from_bytes(png.read_bytes()[16:20], "big")
    assert width_png == pytest.approx(2 * width_svg, abs=2)
    for path in built_reports.reports_dir.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_synthetic_banner_only_for_the_bundled_scenario(built_reports, tmp_path):
    assert "Synthetic data" not in (built_reports.reports_dir / "index.html").read_text("utf-8")
    config = load_providers(built_reports.workspace.settings.config_path)
    (tmp_path / "scenario").mkdir()
    assert not report_scope(config, {}, tmp_path).synthetic
    (tmp_path / "scenario" / "truth.json").write_text("{}")
    scope = report_scope(config, {}, tmp_path)
    assert scope.synthetic
    html = Page(NO_CHART, "plain", content={"text": "x"}, scope=scope).render()
    assert 'id="synthetic-banner"' in html and "Analysed window: 2025-12-01 to 2026-03-15 UTC" in html
