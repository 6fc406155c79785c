"""A range without data: every page says what is missing and for which window; nothing reads as health."""

import re

from assets.reports.vendor_review.decision import NOT_ENOUGH_DATA


def _text(html: str) -> str:
    body = html.split('<script type="module">')[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_vendor_review_says_not_enough_data_instead_of_recommending(empty_reports):
    html = (empty_reports.reports_dir / "vendor-review.html").read_text("utf-8")
    decision = html.split('id="decision"')[1].split('id="side-by-side"')[0]
    assert 'data-state="missing"' in decision
    assert f"{NOT_ENOUGH_DATA} for 2024-06-03 to 2024-06-04 UTC (2 days, set by this run)." in decision
    assert "Anthropic: none of our requests and no status-page data in 2024-06-03 to 2024-06-04" in decision
    assert "Make " not in decision and "primary provider" not in decision
    assert "100.000%" not in _text(html)  # the mart's 100% uptime without any incident seen is not shown


def test_index_tiles_say_no_data_with_the_window(empty_reports):
    html = (empty_reports.reports_dir / "index.html").read_text("utf-8")
    text = _text(html)
    assert "Analysed window: 2024-06-03 to 2024-06-04 UTC (2 days, set by this run)" in text
    values = re.findall(r'<div class="value[ a-z]*">(.*?)</div>', html)
    assert values and set(values) == {"no data"}  # 3 providers x 5 tiles, none of them 0, $0 or 100%
    assert len(values) == 15
    assert "not enough data to judge any provider" in text
    assert "100.000%" not in text and "$0" not in text


def test_daily_digest_does_not_call_an_empty_day_quiet(empty_reports):
    # a range without data gets one page, its last day's, instead of one per empty day
    assert sorted(p.name for p in (empty_reports.reports_dir / "daily").glob("*.html")) == ["2024-06-04.html"]
    html = (empty_reports.reports_dir / "daily/2024-06-04.html").read_text("utf-8")
    text = _text(html)
    assert "not enough data to say it was quiet" in text
    assert "No outage episode was detected" not in text
    assert 'class="nodata today"' in html
    assert not list((empty_reports.reports_dir / "retrospective").glob("*.html"))
