"""Property tests the parser modules did not have yet (the others live beside each parser in tests/ingest).

Already covered there, for every raw source: arbitrary bytes never crash and every record ends accepted
or quarantined (crowd_reports, app_rankings, statuspage JSON, status feeds, request logs), and valid
records survive a write-then-parse round trip (crowd CSV/JSONL, app feeds, statuspage JSON, Atom/RSS,
request-log JSONL/CSV). Added here: the combined-log round trip, and the small parsers and guards that
sit on the hostile edge (HTTP bodies and headers, timestamps, display times, paths).
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.ingest.app_rankings import parse_updated
from assets.ingest.fetch_checks import validate_body
from assets.ingest.http_retry import FetchError, FetchOptions, retry_delay
from assets.ingest.status_pages.display_time import parse_display_time
from assets.ingest.status_pages.fields import parse_timestamp
from assets.ingest.status_pages.schema import Invalid
from pipelines.core.config import load_providers
from pipelines.core.settings import UnsafePathError, safe_path

REPO = Path(__file__).resolve().parents[2]
DAY = "2026-03-02"
FAST = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEXTISH = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["2026-03-02T11:49:42Z", "2026-03-02T03:49:00-08:00", "Mar 2, 09:00 PST", "Feb 30, 25:61 PDT",
                     "Dec 31, 23:30 PST", "Jan 1, 00:40 PST", "Nov 1, 01:30 PST", "Mar 8, 02:30 PDT", "Feb 29, 10:00 PST",
                     "Jun 5, 2025, 9:15 PM PDT",
                     "Mon, 02 Mar 2026 12:00:30 GMT", "0", "-1", "1e309", "nan", "9" * 40, "\x00", ""]),
)


# --- fetch: response bodies and Retry-After headers ------------------------------------------------
@FAST
@given(body=st.one_of(st.binary(max_size=300), st.sampled_from([b"{}", b"[]", b'{"incidents": []}', b"<feed/>",
                                                                b"<rss><channel/></rss>", b"\xef\xbb\xbf{}"])),
       expect=st.sampled_from(["incidents", "summary", "app_feed", "history_feed"]),
       content_type=st.sampled_from(["application/json", "text/html", "", "application/atom+xml"]))
def test_validate_body_only_ever_accepts_or_raises_fetch_error(body, expect, content_type):
    try:
        validate_body(body, expect, content_type)
    except FetchError as exc:
        assert str(exc)  # a reason to show, never an empty message


@FAST
@given(header=st.one_of(st.none(), TEXTISH), attempt=st.integers(1, 50))
def test_retry_delay_is_always_a_bounded_non_negative_number(header, attempt):
    options = FetchOptions()
    now = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
    delay = retry_delay(attempt, header, options, now)
    assert 0.0 <= delay <= max(options.retry_after_cap_s, options.backoff_cap_s)


# --- timestamps --------------------------------------------------------------------------------------
@FAST
@given(value=st.one_of(TEXTISH, st.integers(), st.floats(), st.none(), st.lists(st.integers(), max_size=2)))
def test_statuspage_timestamps_are_utc_or_invalid(value):
    try:
        parsed = parse_timestamp(value, "created_at")
    except Invalid as exc:
        assert str(exc).startswith("created_at: ")
        return
    assert parsed is None or parsed.utcoffset() == dt.timedelta(0)


@FAST
@given(text=TEXTISH, reference=st.one_of(st.none(), st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1),
                                                                  timezones=st.just(dt.UTC))))
def test_feed_display_times_are_utc_near_the_reference_or_invalid(text, reference):
    try:
        parsed = parse_display_time(text, reference)
    except Invalid as exc:
        assert "display time" in str(exc)
        return
    assert parsed.utcoffset() == dt.timedelta(0)
    # no year in the text: the year that puts it nearest the reference (Feb 29 may have to skip years)
    if reference is not None and not re.search(r",\s*\d{4}", text) and not re.match(r"Feb\s+29\b", text):
        assert abs(parsed - reference) <= dt.timedelta(days=190)


@FAST
@given(text=st.one_of(st.none(), TEXTISH))
def test_app_feed_updated_is_utc_or_none(text):
    parsed = parse_updated(text)
    assert parsed is None or parsed.utcoffset() == dt.timedelta(0)


@FAST
@given(moment=st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2090, 1, 1), timezones=st.just(dt.UTC)),
       offset_minutes=st.integers(-14 * 60, 14 * 60), sep=st.sampled_from(["T", " "]))
def test_statuspage_timestamps_round_trip_through_any_offset(moment, offset_minutes, sep):
    local = moment.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    assert parse_timestamp(local.isoformat(sep=sep), "t") == moment


# --- paths -------------------------------------------------------------------------------------------
PATH_PART = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["..", ".", "/", "../x", "a/../..", "/etc/passwd", "x\x00", "~", "C:\\x", "a/b", "..."]),
)


@FAST
@given(parts=st.lists(PATH_PART, min_size=1, max_size=4))
def test_safe_path_result_is_always_inside_the_base(parts):
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "data"
        base.mkdir()
        try:
            target = safe_path(base, *parts)
        except UnsafePathError:
            return
        assert target == base.resolve() or base.resolve() in target.parents


# --- request logs: combined log format round trip -----------------------------------------------------
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TOKEN_CHARS = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_."), min_size=1, max_size=10)


@st.composite
def access_line(draw) -> tuple[str, tuple]:
    moment = dt.datetime(2026, 3, 2, tzinfo=dt.UTC) + dt.timedelta(seconds=draw(st.integers(0, 86_399)))
    offset = dt.timedelta(minutes=draw(st.sampled_from([0, 330, -480, -420, 60, 345])))
    local = moment.astimezone(dt.timezone(offset))
    sign = "+" if offset >= dt.timedelta(0) else "-"
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    stamp = f"{local.day:02d}/{MONTHS[local.month - 1]}/{local.year}:{local:%H:%M:%S} {sign}{hours:02d}{minutes:02d}"
    prefix, provider = draw(st.sampled_from([("/anthropic/", "anthropic"), ("/openai/", "openai"),
                                             ("/google/", "google")]))
    path = "/".join(draw(st.lists(TOKEN_CHARS, min_size=1, max_size=3)))
    query = draw(st.sampled_from(["", "?beta=true", "?a=1&b=2"]))
    status = draw(st.integers(100, 599))
    user = draw(st.one_of(st.just("-"), TOKEN_CHARS))
    ip = f"10.{draw(st.integers(0, 255))}.{draw(st.integers(0, 255))}.{draw(st.integers(1, 254))}"
    request_ms = draw(st.one_of(st.none(), st.integers(0, 600_000)))
    tail = "" if request_ms is None else f" {request_ms / 1000:.3f}"
    line = (f'{ip} - {user} [{stamp}] "POST {prefix}{path}{query} HTTP/1.1" {status} {draw(st.integers(0, 10**6))} '
            f'"-" "client/1.0"{tail}')
    expected = (moment, provider, f"/{path}", status, None if request_ms is None else float(request_ms),
                ip if user == "-" else user)
    return line, expected


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(access_line(), min_size=1, max_size=8))
def test_valid_combined_log_lines_round_trip(lines):
    from assets.ingest.request_logs import ProviderMapping, ingest_day

    mapping = ProviderMapping.from_config(load_providers(REPO / "data/config/providers.yaml"))
    with tempfile.TemporaryDirectory() as tmp:
        day = Path(tmp) / "data/raw/request_logs" / DAY
        day.mkdir(parents=True)
        (day / "edge-access.log").write_text("".join(line + "\n" for line, _ in lines))
        out = Path(tmp) / "out" / "part-0.parquet"
        result = ingest_day(day, DAY, out, mapping, now=dt.datetime(2026, 3, 10, tzinfo=dt.UTC))
        assert result.rows_quarantined == 0, result.rejects.to_dicts()
        rows = duckdb.sql(f"SELECT ts, provider, endpoint, status, latency_ms, client_id, model, tokens_in "
                          f"FROM read_parquet('{out.as_posix()}')").fetchall()
    # latency_ms = seconds * 1000 in floating point (64.299 s -> 64299.00000000001 ms): compare to the microsecond
    got = sorted(((ts.astimezone(dt.UTC), p, e, s, None if ms is None else round(ms, 3), c)
                  for ts, p, e, s, ms, c, *_ in rows), key=repr)  # repr: None and floats do not compare
    assert got == sorted((expected for _, expected in lines), key=repr)
    assert all(r[6] is None and r[7] is None for r in rows)  # an access log has no model or token counts
