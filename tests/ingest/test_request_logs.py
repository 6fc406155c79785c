"""Request-log parsing: every format, every way a line can be refused, and the fast/exact paths agreeing."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.ingest.request_logs import (
    LAKE_COLUMNS,
    ProviderMapping,
    ingest_day,
    ingest_files,
    iter_line_batches,
    list_folder,
)
from pipelines.core.config import load_providers

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests/fixtures/request_logs"
DAY = "2026-03-02"
LATE_NOW = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
NOON_NOW = dt.datetime(2026, 3, 2, 12, tzinfo=dt.UTC)
# One valid JSONL request at the time `ts` (fill with _LINE.format(ts=...)).
_LINE = ('{{"ts": "{ts}", "provider": "anthropic", "model": "m", "endpoint": "/v1/messages", "status": 200, '
         '"latency_ms": 1, "tokens_in": 1, "tokens_out": 1, "client_id": "c", "region": "r"}}\n')


@pytest.fixture(scope="module")
def mapping() -> ProviderMapping:
    return ProviderMapping.from_config(load_providers(REPO / "data/config/providers.yaml"))


def _day_dir(tmp_path: Path, *fixture_sets: str) -> Path:
    day = tmp_path / "data/raw/request_logs" / DAY
    day.mkdir(parents=True, exist_ok=True)
    for name in fixture_sets:
        for f in (FIXTURES / name / DAY).iterdir():
            shutil.copy(f, day / f.name)
    return day


def _ingest(day_dir: Path, mapping, now=LATE_NOW, fast_path=True):
    out = day_dir.parents[3] / "out" / "part-0.parquet"
    result = ingest_day(day_dir, DAY, out, mapping, now=now, fast_path=fast_path)
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{out}')").pl()
    return result, rows


def _reasons(result) -> dict[tuple[str, int], str]:
    return {
        (Path(f).name, n): reason
        for f, n, reason in result.rejects.select("file", "record_no", "reason").rows()
    }


def _assert_counts_add_up(result, rows: pl.DataFrame) -> None:
    for f in result.files:
        assert f.rows_in == f.rows_accepted + f.rows_quarantined, f
    assert result.rows_in == result.rows_accepted + result.rows_quarantined
    assert sum(f.rows_by_day.get(DAY, 0) for f in result.files) == rows.height  # other days: not in `rows`
    assert result.rows_quarantined == result.rejects.height


# ---------------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "exact"])
def test_every_format_parses_to_utc_rows(tmp_path, mapping, fast_path):
    day = _day_dir(tmp_path, "good")
    result, rows = _ingest(day, mapping, fast_path=fast_path)
    _assert_counts_add_up(result, rows)
    assert result.rows_quarantined == 0 and rows.height == 8
    assert set(rows.columns) == set(LAKE_COLUMNS)
    by_client = {(r["file"].rsplit("/", 1)[1], r["client_id"]): r for r in rows.iter_rows(named=True)}

    jsonl = by_client[("gateway.jsonl", "team-b")]  # +05:30 offset, provider spelled OpenAI, no error_type
    assert jsonl["ts"] == dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    assert (jsonl["provider"], jsonl["status"], jsonl["latency_ms"]) == ("openai", 200, 845.0)
    assert (jsonl["tokens_in"], jsonl["tokens_out"], jsonl["error_type"]) == (300, 512, None)
    gemini = rows.filter(pl.col("model") == "gemini-2.5-pro").row(0, named=True)
    assert gemini["provider"] == "google"  # request_logs.names maps "gemini" to google
    assert gemini["ts"] == dt.datetime(2026, 3, 2, 17, 15, 0, 250000, tzinfo=dt.UTC)  # -08:00

    csv_row = by_client[("export.csv", "team-c, eu")]  # quoted comma, header in another order
    assert (csv_row["provider"], csv_row["error_type"]) == ("anthropic", "api_error")
    assert csv_row["ts"] == dt.datetime(2026, 3, 2, 23, 59, 59, 999000, tzinfo=dt.UTC)
    assert by_client[("export.csv", "team-d")]["ts"] == dt.datetime(2026, 3, 2, 5, tzinfo=dt.UTC)  # +0100
    assert by_client[("export.csv", "team-d")]["error_type"] is None  # empty optional field

    access = "api.anthropic.com-access.log"
    alice = by_client[(access, "alice")]  # path prefix, query string dropped, request time 0.312 s
    assert (alice["provider"], alice["endpoint"], alice["status"]) == ("anthropic", "/v1/messages", 529)
    assert alice["latency_ms"] == pytest.approx(312.0)
    assert alice["model"] is None and alice["tokens_in"] is None and alice["region"] is None
    by_ip = by_client[(access, "203.0.113.8")]  # no user: client is the IP; no prefix: host in file name
    assert (by_ip["provider"], by_ip["endpoint"], by_ip["latency_ms"]) == ("anthropic", "/v1/messages", None)
    assert by_ip["ts"] == dt.datetime(2026, 3, 2, 11, tzinfo=dt.UTC)  # +0100 in the log
    bob = by_client[(access, "bob")]  # the /openai/ prefix wins over the host in the file name
    assert (bob["provider"], bob["endpoint"], bob["latency_ms"]) == ("openai", "/v1/models", 1500.0)

    parsers = {Path(f.file).name: f.parser for f in result.files}
    expected = "native" if fast_path else "lines"
    assert parsers == {"gateway.jsonl": expected, "export.csv": expected, access: "lines"}


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "exact"])
def test_rows_go_to_their_own_utc_day_whatever_the_folder(tmp_path, mapping, fast_path):
    day = _day_dir(tmp_path)
    stamps = ["2026-03-01T23:59:59.999Z", "2026-03-02T00:30:00+01:00", "2026-03-02T00:00:00Z",
              "2026-03-02T23:59:59Z", "2026-03-02T19:00:00-05:00", "2026-03-03T00:00:00Z"]
    (day / "spans.jsonl").write_text("".join(_LINE.format(ts=ts) for ts in stamps))
    (day / "zz-old.jsonl").write_text(_LINE.format(ts="2019-12-31T23:59:59Z"))  # before any partition
    out = tmp_path / "out"
    result = ingest_files(list_folder(day, day.parents[2])[0], out, mapping, now=LATE_NOW, fast_path=fast_path,
                          one_day=DAY)
    spans, old = result.files
    assert old.rows_by_day == {} and old.rows_quarantined == 1
    assert spans.rows_by_day == {"2026-03-01": 2, DAY: 2, "2026-03-03": 2}  # 00:30+01:00 is 23:30 the day before
    assert spans.parser == ("native" if fast_path else "lines")
    assert _reasons(result) == {("zz-old.jsonl", 1): "ts: 2019-12-31T23:59:59Z is before 2020-01-01, "
                                                    "the first day the pipeline keeps"}
    per_day = {d: duckdb.sql(f"SELECT count(*) FROM read_parquet('{out}/day={d}/*.parquet')").fetchall()[0][0]
               for d in spans.rows_by_day}
    assert per_day == spans.rows_by_day


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "exact"])
def test_a_quoted_csv_field_after_an_empty_first_field(tmp_path, mapping, fast_path):
    """Found by the round-trip property: the exact path lost the field after an empty first one."""
    day = _day_dir(tmp_path)
    (day / "quoted.csv").write_text(
        "error_type,ts,provider,model,endpoint,status,latency_ms,tokens_in,tokens_out,client_id,region\n"
        ',2026-03-02T10:00:00Z,anthropic,m,/v1/messages,200,1.5,1,2,c,","\n'
        'overloaded,2026-03-02T10:00:01Z,anthropic,m,/v1/messages,529,2,1,2,c,"eu,""west"""\n'
    )
    result, rows = _ingest(day, mapping, fast_path=fast_path)
    assert result.rows_quarantined == 0, result.rejects.to_dicts()
    assert rows.sort("ts").select("error_type", "status", "region").rows() == [
        (None, 200, ","), ("overloaded", 529, 'eu,"west"')]


def test_a_one_day_write_streams_under_its_own_memory_budget_and_a_split_keeps_the_connections(
    tmp_path, mapping, monkeypatch
):
    """The one-day COPY runs under ONE_DAY_MEMORY_LIMIT; the split by day after a row of another day runs
    under the connection's own limit, which is restored afterwards."""
    from assets.ingest.request_logs import fast_path
    from assets.ingest.request_logs.connection import connect
    from assets.ingest.request_logs.raw_files import RawFile

    path = tmp_path / "data/raw/request_logs" / DAY / "a.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(_LINE.format(ts="2026-03-02T10:00:00Z") + _LINE.format(ts="2026-03-03T01:00:00Z"))
    limits = []
    copy = fast_path.copy_to_parquet

    def spy(con, *args):
        limits.append(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        return copy(con, *args)

    monkeypatch.setattr(fast_path, "copy_to_parquet", spy)
    con = connect(tmp_path / "work", "2GB", None)  # the ingest's connection, macros included
    own = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # as DuckDB reports 2GB
    with duckdb.connect() as other:  # the budget as DuckDB reports it
        other.execute("SET memory_limit = ?", [fast_path.ONE_DAY_MEMORY_LIMIT])
        budget = other.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    rows = fast_path.try_fast(con, [RawFile(path, f"raw/request_logs/{DAY}/a.jsonl", "jsonl")], mapping,
                              (dt.date(2010, 1, 1), LATE_NOW), tmp_path / "out", one_day=DAY,
                              memory_limit="2GB")
    assert rows == {f"raw/request_logs/{DAY}/a.jsonl": {DAY: 1, "2026-03-03": 1}}
    assert limits == [budget, own]  # the one-day attempt met the other day's row; the split followed
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == own


def test_gzip_files_read_like_plain_ones(tmp_path, mapping):
    plain_day = _day_dir(tmp_path / "plain", "good")
    gz_day = tmp_path / "gz/data/raw/request_logs" / DAY
    gz_day.mkdir(parents=True)
    for f in plain_day.iterdir():
        (gz_day / (f.name + ".gz")).write_bytes(gzip.compress(f.read_bytes()))
    _, plain = _ingest(plain_day, mapping)
    result, gz = _ingest(gz_day, mapping)
    assert {f.format for f in result.files} == {"jsonl.gz", "csv.gz", "log.gz"}
    strip = pl.col("file").str.replace(r"\.gz$", "")
    key = ["file", "ts", "client_id"]
    assert gz.with_columns(strip).sort(key).equals(plain.sort(key))
    assert all(f.parser == ("lines" if f.format == "log.gz" else "native") for f in result.files)


def test_gzip_is_inflated_once_and_reported_under_its_own_name_and_size(tmp_path, mapping, monkeypatch):
    from assets.ingest.request_logs import fast_path

    day = _day_dir(tmp_path, "good")
    for f in list(day.iterdir()):
        if f.suffix in (".jsonl", ".csv"):
            f.with_name(f.name + ".gz").write_bytes(gzip.compress(f.read_bytes()))
            f.unlink()
    counted = []
    count = fast_path.count_lines
    monkeypatch.setattr(fast_path, "count_lines", lambda path, stop=None: counted.append(path) or count(path, stop))
    result, rows = _ingest(day, mapping)
    _assert_counts_add_up(result, rows)
    packed = {Path(f.file).name: f for f in result.files if f.format in ("jsonl.gz", "csv.gz")}
    assert packed and all(f.parser == "native" for f in packed.values())
    assert {name: f.bytes for name, f in packed.items()} == {name: (day / name).stat().st_size for name in packed}
    assert counted == []  # the lines were counted while the files were inflated, not read a second time
    assert set(rows["file"].map_elements(lambda f: Path(f).name, return_dtype=pl.String)) >= set(packed)


def test_refused_lines_of_a_gzip_file_keep_its_name_and_line_numbers(tmp_path, mapping):
    day = _day_dir(tmp_path, "bad")
    source = day / "gateway.jsonl"
    (day / "gateway.jsonl.gz").write_bytes(gzip.compress(source.read_bytes()))
    source.unlink()
    result, rows = _ingest(day, mapping, now=NOON_NOW)
    _assert_counts_add_up(result, rows)
    reasons = _reasons(result)
    expected = {(n.replace("gateway.jsonl", "gateway.jsonl.gz"), line): r for (n, line), r in EXPECTED_REJECTS.items()}
    assert set(reasons) == set(expected)
    for key, reason in expected.items():
        assert reasons[key].startswith(reason), (key, reasons[key])
    assert {f.file for f in result.files if f.format == "jsonl.gz"} == {f"raw/request_logs/{DAY}/gateway.jsonl.gz"}


def test_a_gzip_file_that_cannot_be_inflated_stays_compressed(tmp_path):
    from assets.ingest.request_logs.inflated_files import inflate_files
    from assets.ingest.request_logs.raw_files import RawFile

    good, cut = tmp_path / "good.jsonl.gz", tmp_path / "cut.jsonl.gz"
    good.write_bytes(gzip.compress(_LINE.format(ts="2026-03-02T10:00:00Z").encode() * 3))
    cut.write_bytes(good.read_bytes()[:20])
    log = tmp_path / "edge-access.log.gz"
    log.write_bytes(gzip.compress(b"line\n"))
    files = [RawFile(p, p.name, "log" if p is log else "jsonl") for p in (good, cut, log)]
    work = tmp_path / "work"
    inflated = inflate_files(files, work)
    assert (inflated[0].path, inflated[0].original, inflated[0].lines) == (work / "plain-00000/good.jsonl", good, 3)
    assert inflated[0].path.read_bytes() == gzip.decompress(good.read_bytes())
    assert inflated[0].format == "jsonl.gz" and inflated[0].stored == good
    assert inflated[1:] == files[1:]  # truncated: left for the exact path to report; a log is read once anyway
    assert not (work / "plain-00001/cut.jsonl").exists()
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "plain-00000").write_text("a file where the copy's folder would go")  # no room for the copy
    assert inflate_files(files[:1], blocked) == files[:1]


def test_crlf_and_byte_order_mark(tmp_path, mapping):
    day = _day_dir(tmp_path)
    text = (FIXTURES / "good" / DAY / "gateway.jsonl").read_text()
    (day / "crlf.jsonl").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    for fast_path in (True, False):
        result, rows = _ingest(day, mapping, fast_path=fast_path)
        assert (result.rows_in, rows.height) == (3, 3)


# ---------------------------------------------------------------------------------------------------
# Refused lines: exact record numbers, reasons that name the field
# ---------------------------------------------------------------------------------------------------
EXPECTED_REJECTS = {
    ("gateway.jsonl", 2): "line: invalid JSON",
    ("gateway.jsonl", 3): "status: missing required field",
    ("gateway.jsonl", 4): "status: 'abc' is not an integer HTTP code",
    ("gateway.jsonl", 5): "status: '700' is not an integer HTTP code",
    ("gateway.jsonl", 6): "latency_ms: '-5' is negative",
    ("gateway.jsonl", 7): "tokens_in: -1 is negative",
    ("gateway.jsonl", 8): "ts: 'yesterday' is not a timestamp",
    ("gateway.jsonl", 9): "ts: '2026-03-02T10:00:00' is not a timestamp with a UTC offset",
    # line 10 (2026-03-01T23:59:59Z) is accepted: it goes to its own UTC day
    ("gateway.jsonl", 11): "ts: 2026-03-02T23:00:00Z is in the future",
    ("gateway.jsonl", 12): "provider: 'mistral' is not a configured provider",
    # line 13 is blank: skipped, not a row
    ("gateway.jsonl", 14): "latency_ms: missing required field",  # renamed to "latency"
    ("gateway.jsonl", 15): "line: JSON value is not an object",
    ("gateway.jsonl", 16): "tokens_in: '1.5' is not a whole number",
    ("renamed.csv", 1): "latency_ms: missing required field",  # header says "latency"
    ("renamed.csv", 2): "latency_ms: missing required field",
    ("rows.csv", 2): "line: 4 fields but the header has 11",  # data row numbers: header not counted
    ("rows.csv", 3): "status: '2OO' is not an integer HTTP code",
    ("rows.csv", 4): "region: missing required field",
    ("edge-access.log", 2): "provider: path '/v1/messages' has no configured prefix",
    ("edge-access.log", 3): "line: not in combined log format",
    ("edge-access.log", 4): "status: 'abc' is not an integer HTTP code",
    ("edge-access.log", 5): "ts: '31/Foo/2026:10:00:03 +0000' is not a timestamp",
    ("edge-access.log", 6): "request_time: '-0.5' is negative",
}


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "exact"])
def test_each_bad_kind_is_quarantined_with_its_line_number(tmp_path, mapping, fast_path):
    day = _day_dir(tmp_path, "bad")
    result, rows = _ingest(day, mapping, now=NOON_NOW, fast_path=fast_path)
    _assert_counts_add_up(result, rows)
    reasons = _reasons(result)
    assert set(reasons) == set(EXPECTED_REJECTS)
    for key, expected in EXPECTED_REJECTS.items():
        assert reasons[key].startswith(expected), (key, reasons[key])
    raw = dict(zip(result.rejects["record_no"], result.rejects["raw"], strict=False))
    assert raw[2] in ("this is not json", "2026-03-02T10:00:00Z,openai,m,/v1/chat/completions")
    counts = {Path(f.file).name: (f.rows_in, f.rows_accepted, f.rows_quarantined) for f in result.files}
    assert counts == {
        "gateway.jsonl": (16, 3, 13),  # the added key "new_field" (line 17) is ignored: accepted
        "renamed.csv": (2, 0, 2),
        "rows.csv": (4, 1, 3),
        "edge-access.log": (6, 1, 5),
    }
    assert sorted(rows["provider"].to_list()) == ["anthropic", "google", "openai", "openai"]
    gateway = next(f for f in result.files if f.file.endswith("gateway.jsonl"))
    assert gateway.rows_by_day == {"2026-03-01": 1, DAY: 2}


def test_non_utf8_and_overlong_lines_are_quarantined_not_fatal(tmp_path, mapping):
    day = _day_dir(tmp_path)
    good = (FIXTURES / "good" / DAY / "gateway.jsonl").read_bytes().splitlines(keepends=True)
    huge = b'{"ts": "' + b"x" * (10 * 1024 * 1024) + b'"}\n'  # a 10 MB line
    (day / "mixed.jsonl").write_bytes(good[0] + b'{"model": "caf\xe9"}\n' + huge + good[1])
    result, rows = _ingest(day, mapping)
    _assert_counts_add_up(result, rows)
    reasons = _reasons(result)
    assert reasons[("mixed.jsonl", 2)] == "line: bytes are not valid UTF-8"
    assert reasons[("mixed.jsonl", 3)].startswith(f"line: {len(huge) - 1} bytes is longer than the limit")
    assert rows.height == 2 and result.rows_in == 4
    raws = dict(zip(result.rejects["record_no"], result.rejects["raw"], strict=False))
    assert raws[2] == '{"model": "caf\\xe9"}'  # the bad byte shown escaped
    assert len(raws[3]) == 2000 and raws[3].startswith('{"ts": "xxx')  # truncated, not 10 MB


def test_corrupt_gzip_is_one_reject_and_other_files_still_load(tmp_path, mapping):
    day = _day_dir(tmp_path, "good")
    blob = gzip.compress((FIXTURES / "good" / DAY / "gateway.jsonl").read_bytes())
    (day / "broken.jsonl.gz").write_bytes(blob[: len(blob) // 2])
    (day / "notes.txt").write_text("not a log")
    for fast_path in (True, False):
        result, rows = _ingest(day, mapping, fast_path=fast_path)
        _assert_counts_add_up(result, rows)
        assert rows.height == 8
        by_file = {Path(f.file).name: f for f in result.files}
        assert by_file["broken.jsonl.gz"].error.startswith("file: unreadable")
        assert (by_file["broken.jsonl.gz"].rows_in, by_file["broken.jsonl.gz"].rows_quarantined) == (1, 1)
        assert by_file["notes.txt"].error.startswith("file: 'notes.txt' is not a request log")
        rejects = result.rejects.filter(pl.col("record_no") == 0)
        assert sorted(Path(f).name for f in rejects["file"]) == ["broken.jsonl.gz", "notes.txt"]


def test_a_clean_file_keeps_the_fast_path_when_a_neighbour_is_refused_whole(tmp_path, mapping):
    day = _day_dir(tmp_path)
    shutil.copy(FIXTURES / "good" / DAY / "gateway.jsonl", day / "gateway.jsonl")
    (day / "notes.txt").write_text("not a log")
    result, rows = _ingest(day, mapping)
    _assert_counts_add_up(result, rows)
    assert [(Path(f.file).name, f.parser, f.rows_in) for f in result.files] == [
        ("gateway.jsonl", "native", 3),
        ("notes.txt", "", 1),
    ]
    assert rows.height == 3


def test_a_day_of_empty_files_gives_an_empty_file_with_the_schema(tmp_path, mapping):
    day = _day_dir(tmp_path)
    (day / "empty.jsonl").write_bytes(b"")
    result, rows = _ingest(day, mapping)
    assert result.rows_in == 0 and rows.height == 0
    assert list(rows.columns) == list(LAKE_COLUMNS)


# ---------------------------------------------------------------------------------------------------
# The line splitter
# ---------------------------------------------------------------------------------------------------
def test_line_splitter_numbers_lines_across_chunks_and_bounds_long_ones():
    data = b"a\r\n\nbb\n" + b"c" * 50 + b"\nd"
    batches = list(iter_line_batches(io.BytesIO(data), chunk_bytes=4, max_line_bytes=20))
    rows = [(r["line_no"], r["line"], r["line_bytes"]) for b in batches for r in b.to_pylist()]
    assert [(n, size) for n, _, size in rows] == [(1, 1), (2, 0), (3, 2), (4, 50), (5, 1)]
    assert rows[0][1] == "a\r\n" and rows[4][1] == "d"
    assert set(rows[3][1]) == {"c"} and len(rows[3][1]) < 50  # over-long: a preview, never accumulated


# ---------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------
def _expected_rows(data: bytes, kind: str) -> int:
    """Non-blank lines (the CSV header excluded), by the same rule as the parser."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    count = 0
    for i, line in enumerate(lines, start=1):
        if kind == "csv" and i == 1:
            continue
        body = line[:-1] if line.endswith(b"\r") else line
        blank = body == b"" or (body[:1] in (b" ", b"\t") and not body.strip(b" \t\r"))
        count += not blank
    return count


_settings = settings(
    max_examples=15,
    deadline=None,
    database=None,  # no example database written into the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@_settings
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.sampled_from([b"{", b"}", b'"ts"', b":", b",", b"\n", b"\r", b" ", b"\xff", b'"', b"a"]),
            max_size=60,
        ).map(b"".join),
    ),
    kind=st.sampled_from(["jsonl", "csv", "log"]),
)
def test_arbitrary_bytes_never_crash_and_every_line_is_counted(tmp_path_factory, mapping, data, kind):
    day = tmp_path_factory.mktemp("fuzz") / "data/raw/request_logs" / DAY
    day.mkdir(parents=True)
    (day / f"fuzz.{kind}").write_bytes(data)
    result, rows = _ingest(day, mapping)
    _assert_counts_add_up(result, rows)
    assert result.rows_in == _expected_rows(data, kind)


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s.strip())
_RECORD = st.fixed_dictionaries(
    {
        "seconds": st.integers(0, 86_399),
        "offset_minutes": st.sampled_from([0, 330, -480, 60, 345, -210]),
        "provider": st.sampled_from(["anthropic", "ANTHROPIC", "OpenAI", "google", "Gemini"]),
        "model": _TEXT,
        "endpoint": _TEXT,
        "status": st.integers(100, 599),
        "latency_ms": st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
        "tokens_in": st.integers(0, 2**40),
        "tokens_out": st.integers(0, 2**40),
        "client_id": _TEXT,
        "region": _TEXT,
        "error_type": st.one_of(st.none(), _TEXT),
    }
)
_PROVIDER = {"anthropic": "anthropic", "openai": "openai", "google": "google", "gemini": "google"}


def _as_log_fields(rec: dict) -> tuple[dict, dict]:
    utc = dt.datetime(2026, 3, 2, tzinfo=dt.UTC) + dt.timedelta(seconds=rec["seconds"])
    offset = dt.timedelta(minutes=rec["offset_minutes"])
    local = utc.astimezone(dt.timezone(offset))
    fields = {k: v for k, v in rec.items() if k not in ("seconds", "offset_minutes")}
    fields["ts"] = local.isoformat()
    expected = {**fields, "ts": utc, "provider": _PROVIDER[rec["provider"].lower()]}
    return fields, expected


@_settings
@given(records=st.lists(_RECORD, min_size=1, max_size=8), kind=st.sampled_from(["jsonl", "csv"]))
def test_valid_records_round_trip_with_equal_values(tmp_path_factory, mapping, records, kind):
    day = tmp_path_factory.mktemp("roundtrip") / "data/raw/request_logs" / DAY
    day.mkdir(parents=True)
    pairs = [_as_log_fields(r) for r in records]
    if kind == "jsonl":
        text = "".join(json.dumps(fields) + "\n" for fields, _ in pairs)
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(pairs[0][0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(fields for fields, _ in pairs)
        text = buffer.getvalue()
    (day / f"records.{kind}").write_text(text, encoding="utf-8")
    expected = sorted(
        [(
            e["ts"],
            e["provider"],
            e["model"],
            e["endpoint"],
            e["status"],
            e["latency_ms"],
            e["tokens_in"],
            e["tokens_out"],
            e["client_id"],
            e["region"],
            e["error_type"],
        ) for _, e in pairs],
        key=_nulls_first,
    )
    for fast_path in (True, False):
        result, rows = _ingest(day, mapping, fast_path=fast_path)
        assert result.rows_quarantined == 0, result.rejects.to_dicts()
        assert result.files[0].parser == ("native" if fast_path else "lines")
        got = sorted(rows.drop("file").rows(), key=_nulls_first)
        assert got == expected


def _nulls_first(row: tuple) -> tuple:
    """A sort key for rows that may hold None (error_type) beside values of other types."""
    return tuple((value is not None, value) for value in row)


# ---------------------------------------------------------------------------------------------------
# Fields named differently: the config's column_map (top level, and per provider by file name)
# ---------------------------------------------------------------------------------------------------
def _mapped_config(tmp_path: Path) -> ProviderMapping:
    import yaml

    config = yaml.safe_load((REPO / "data/config/providers.yaml").read_text())
    config["request_logs"] = {"column_map": {
        "ts": "timestamp", "provider": "vendor", "latency_ms": "duration_ms", "tokens_in": "prompt_tokens",
        "tokens_out": "completion_tokens", "client_id": "team"}}
    openai = config["providers"].setdefault("openai", {}) or {}
    openai.setdefault("request_logs", {})["column_map"] = {"latency_ms": "elapsed", "client_id": "user"}
    config["providers"]["openai"] = openai
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump(config))
    return ProviderMapping.from_config(load_providers(path))


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "exact"])
def test_column_map_reads_fields_named_differently(tmp_path, fast_path):
    mapping = _mapped_config(tmp_path)
    day = _day_dir(tmp_path)
    (day / "export.csv").write_text(
        "timestamp,vendor,model,endpoint,status,duration_ms,prompt_tokens,completion_tokens,team,region\n"
        "2026-03-02T10:00:00Z,anthropic,claude,/v1/messages,200,812.5,10,20,team-a,eu\n"
        "2026-03-02T10:00:01Z,anthropic,claude,/v1/messages,529,15,10,0,team-a,eu\n")
    (day / "openai-export.jsonl").write_text(  # the provider's own map: elapsed and user, the rest top level
        '{"timestamp": "2026-03-02T11:00:00Z", "vendor": "openai", "model": "gpt", "endpoint": "/v1/chat", '
        '"status": 200, "elapsed": 300, "prompt_tokens": 5, "completion_tokens": 6, "user": "u-1", "region": "us"}\n')
    (day / "plain.jsonl").write_text(  # our own names where the map renames them: refused, naming the field
        '{"ts": "2026-03-02T12:00:00Z", "provider": "openai", "model": "gpt", "endpoint": "/v1/chat", '
        '"status": 200, "latency_ms": 3, "tokens_in": 1, "tokens_out": 1, "client_id": "c", "region": "us"}\n')
    result, rows = _ingest(day, mapping, fast_path=fast_path)
    _assert_counts_add_up(result, rows)
    got = sorted((r["provider"], r["status"], r["latency_ms"], r["tokens_in"], r["client_id"])
                 for r in rows.iter_rows(named=True))
    assert got == [("anthropic", 200, 812.5, 10, "team-a"), ("anthropic", 529, 15.0, 10, "team-a"),
                   ("openai", 200, 300.0, 5, "u-1")]
    assert _reasons(result) == {("plain.jsonl", 1): "ts: missing required field"}


# ---------------------------------------------------------------------------------------------------
# Gateway exports (assets/ingest/gateways): recognised from content, then our typing and validation
# ---------------------------------------------------------------------------------------------------
GATEWAY_FIXTURES = REPO / "tests/fixtures/gateways"
# file -> (format, accepted, quarantined); aws_alb_access line 3 is Bedrock, not in the default config
GATEWAY_OUTCOMES = {
    "aws_alb_access.log": ("aws_alb", 2, 1), "aws_alb_bad.log": ("aws_alb", 1, 3),
    "envoy_access.log": ("envoy", 3, 0), "envoy_bad.log": ("envoy", 1, 4),
    "helicone_export.jsonl": ("helicone", 3, 0), "helicone_bad.json": ("helicone", 1, 3),
    "langfuse_observations.json": ("langfuse_observations", 3, 0), "langfuse_bad.jsonl": ("langfuse_observations", 1, 4),
    "litellm_spend_logs.json": ("litellm_spend_logs", 3, 0), "litellm_bad.jsonl": ("litellm_spend_logs", 1, 4),
    "nginx_json_access.log": ("nginx_json", 3, 0), "nginx_json_bad.log": ("nginx_json", 1, 3),
    "openrouter_activity.csv": ("openrouter_activity", 3, 0), "openrouter_bad.csv": ("openrouter_activity", 1, 4),
    "otel_genai_spans.jsonl": ("otel_genai", 3, 0), "otel_genai_bad.jsonl": ("otel_genai", 1, 4),
    "portkey_export.jsonl": ("portkey", 3, 0), "portkey_bad.jsonl": ("portkey", 1, 3),
}


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "exact"])
def test_gateway_exports_load_beside_our_own_logs(tmp_path, mapping, fast_path):
    day = _day_dir(tmp_path, "good")
    for name in GATEWAY_OUTCOMES:
        shutil.copy(GATEWAY_FIXTURES / name, day / name)
    result, rows = _ingest(day, mapping, fast_path=fast_path)
    _assert_counts_add_up(result, rows)
    outcomes = {Path(f.file).name: (f.format, f.rows_accepted, f.rows_quarantined) for f in result.files}
    assert {k: v for k, v in outcomes.items() if k in GATEWAY_OUTCOMES} == GATEWAY_OUTCOMES
    assert outcomes["gateway.jsonl"] == ("jsonl", 3, 0)  # our own formats are not mistaken for a gateway's
    # the gateway's reasons name the gateway's field; none is our "missing required field" for what it lacks
    reasons = _reasons(result)
    assert reasons[("envoy_bad.log", 4)] == "RESPONSE_CODE: 'abc' is not an integer HTTP code in 100-599"
    assert not [r for r in reasons.values() if "missing required field" in r]
    assert set(rows["provider"]) <= mapping.providers


def test_line_counts_of_plain_and_gzipped_files_match_what_the_exact_path_reads(tmp_path):
    """The fast path's line count: every gzip member, a last line without newline; a truncated .gz raises."""
    from assets.ingest.request_logs.lines import UNREADABLE, count_lines, open_raw

    body = b"".join(b'{"n": %d}\n' % i for i in range(300_000)) + b"\n  \nlast"  # > one read step; no final LF
    cases = {
        "plain.jsonl": body,
        "one.jsonl.gz": gzip.compress(body),
        "members.jsonl.gz": gzip.compress(body[:1_000]) + gzip.compress(b"") + gzip.compress(body[1_000:]),
        "empty.jsonl.gz": b"",
        "empty-member.jsonl.gz": gzip.compress(b""),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    expected = {name: (300_003 if "empty" not in name else 0) for name in cases}
    assert {name: count_lines(tmp_path / name) for name in cases} == expected
    for name in cases:
        with open_raw(tmp_path / name) as stream:
            assert sum(len(batch) for batch in iter_line_batches(stream)) == expected[name]
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(body)[:-100])
    with pytest.raises(UNREADABLE):
        count_lines(tmp_path / "cut.jsonl.gz")
