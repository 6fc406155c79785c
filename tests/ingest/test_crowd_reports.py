"""Crowd-report parsing: real export shapes, every kind of bad record, and property tests."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.ingest.crowd_reports.days import CrowdParse, parse_crowd_days

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "crowd_reports"
DAY = "2026-03-02"
SERVICES = {"Claude": "anthropic", "ChatGPT": "openai", "Google Gemini": "google"}
PROVIDER_OF = {name.lower(): key for name, key in SERVICES.items()}
SPELLING_OF = {name.lower(): name for name in SERVICES}
COUNTRIES = ["us", "gb", "in", "de", "sg"]
NOW = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def land(data_dir: Path, *fixtures: str, day: str = DAY, gzipped: bool = False) -> Path:
    """Copy fixtures (paths under tests/fixtures/crowd_reports) into raw/crowd_reports/<day>/."""
    folder = data_dir / "raw" / "crowd_reports" / day
    folder.mkdir(parents=True, exist_ok=True)
    for name in fixtures:
        source = FIXTURES / name
        if gzipped:
            (folder / f"{source.name}.gz").write_bytes(gzip.compress(source.read_bytes()))
        else:
            shutil.copy(source, folder / source.name)
    return folder


def parse(data_dir: Path, days=(DAY,), now: dt.datetime = NOW, first_day: dt.date = dt.date.min) -> CrowdParse:
    parsed = parse_crowd_days(data_dir, list(days), SERVICES, COUNTRIES, now, first_day)
    assert parsed.rows_in == parsed.rows_accepted + parsed.rows_quarantined
    return parsed


def reasons(parsed: CrowdParse, file_name: str) -> dict[int, str]:
    rows = parsed.rejects.filter(pl.col("file").str.ends_with("/" + file_name))
    return dict(zip(rows["record_no"].to_list(), rows["reason"].to_list(), strict=True))


def test_pacific_csv_converted_to_utc_with_original_text_kept(tmp_path):
    land(tmp_path, "good/downdetector_us_pacific.csv")
    parsed = parse(tmp_path)
    assert parsed.rows_in == 6 and parsed.rows_quarantined == 0
    rows = parsed.accepted.sort("record_no")
    assert rows["record_no"].to_list() == [1, 2, 3, 4, 5, 6]
    # 16:00 Pacific on 1 March is midnight UTC on 2 March: inside the partition; 15:59:59 is its last second.
    assert rows["ts"].to_list() == [
        utc(2026, 3, 2, 0, 0),
        utc(2026, 3, 2, 11, 45),
        utc(2026, 3, 2, 11, 49),
        utc(2026, 3, 2, 11, 49),
        utc(2026, 3, 2, 11, 49),
        utc(2026, 3, 2, 23, 59, 59),
    ]
    assert rows["ts_text"][2] == "2026-03-02T03:49:00-08:00"
    assert rows["provider"].to_list() == [
        "anthropic",
        "anthropic",
        "anthropic",
        "openai",
        "anthropic",
        "google",
    ]
    assert rows["reports"].to_list() == [12, 1840, 4712, 35, 980, 4]
    assert rows["country"].unique().to_list() == ["us"]
    assert rows["problem_type"].to_list() == ["login", "login", "app", "website", "api", "app"]
    assert rows["baseline"].to_list() == [10.5, 11.0, 11.0, 40.25, 3.0, 6.0]
    assert set(rows["partition_day"].to_list()) == {dt.date(2026, 3, 2)}
    assert rows["file"][0] == "raw/crowd_reports/2026-03-02/downdetector_us_pacific.csv"
    assert parsed.accepted.schema["ts"] == pl.Datetime("us", "UTC")


def test_india_jsonl_with_half_hour_offset_and_missing_optional_fields(tmp_path):
    land(tmp_path, "good/downdetector_in_ist.jsonl")
    parsed = parse(tmp_path)
    rows = parsed.accepted.sort("record_no")
    # line 4 is blank: it is not a record, and the next line keeps its own line number
    assert rows["record_no"].to_list() == [1, 2, 3, 5]
    assert rows["ts"].to_list() == [
        utc(2026, 3, 2, 0, 0),
        utc(2026, 3, 2, 11, 49),
        utc(2026, 3, 2, 23, 59),
        utc(2026, 3, 2, 12, 0),
    ]
    assert rows["ts_text"][1] == "2026-03-02T17:19:00+05:30"
    assert rows["provider"].to_list() == ["anthropic", "anthropic", "openai", None]  # Perplexity: not ours
    assert rows["service"].to_list() == ["Claude", "Claude", "ChatGPT", "Perplexity"]  # configured spelling
    assert rows["reports"].to_list() == [210, 655, 18, 3]  # "18" as a JSON string is still a count
    assert rows["problem_type"].to_list() == ["login", "app", None, "website"]
    assert rows["baseline"].null_count() == 4
    assert parsed.schema_drift[rows["file"][0]] == {"missing_optional_columns": ["baseline"]}


def test_gzipped_files_read_like_plain_ones(tmp_path):
    plain, packed = tmp_path / "plain", tmp_path / "packed"
    names = ("good/downdetector_us_pacific.csv", "good/downdetector_in_ist.jsonl")
    land(plain, *names)
    land(packed, *names, gzipped=True)
    a, b = parse(plain), parse(packed)
    assert b.rows_in == a.rows_in == 10 and b.rows_quarantined == 0
    assert b.accepted.drop("file").equals(a.accepted.drop("file"))
    assert b.accepted["file"].str.ends_with(".gz").all()


def test_missing_optional_columns_are_null_and_noted(tmp_path):
    land(tmp_path, "good/minimal_columns.csv")
    parsed = parse(tmp_path)
    rows = parsed.accepted.sort("record_no")
    assert rows["ts"].to_list() == [utc(2026, 3, 2, 9), utc(2026, 3, 2, 9)]
    assert rows["country"].to_list() == ["gb", "de"]
    assert rows["problem_type"].null_count() == 2 and rows["baseline"].null_count() == 2
    drift = parsed.schema_drift["raw/crowd_reports/2026-03-02/minimal_columns.csv"]
    assert drift == {"missing_optional_columns": ["problem_type", "baseline"]}


def test_extra_columns_are_ignored_and_noted_as_schema_drift(tmp_path):
    land(tmp_path, "good/drift_extra_columns.csv")
    parsed = parse(tmp_path)
    assert parsed.rows_accepted == 1
    assert parsed.accepted.columns == list(parsed.accepted.schema)  # no region/source_url column leaks in
    assert "region" not in parsed.accepted.columns
    drift = parsed.schema_drift["raw/crowd_reports/2026-03-02/drift_extra_columns.csv"]
    assert drift == {"extra_columns": ["region", "source_url"]}


def test_each_bad_csv_row_is_quarantined_with_its_data_row_number_and_field(tmp_path):
    land(tmp_path, "bad/bad_rows.csv")
    parsed = parse(tmp_path)
    got = reasons(parsed, "bad_rows.csv")
    expected = {
        2: "timestamp: missing required field",
        3: "service: missing required field",
        4: "country: missing required field",
        5: "reports: missing required field",
        6: "timestamp: '2026-03-02T12:04:00' has no UTC offset",
        7: "timestamp: '2026-03-02 lunch time' is not a valid ISO 8601 timestamp",
        8: "reports: -7 is negative",
        9: "reports: '12.5' is not an integer count",
        11: "duplicate: same timestamp, service, country and problem_type as record 1 of "
        "raw/crowd_reports/2026-03-02/bad_rows.csv",
        12: "baseline: 'lots' is not a number",
        13: "country: 'usa' is not a 2-letter country code",
        14: "row: 4 fields but the header has 6 columns",
        15: "line: malformed CSV quoting",
        16: "line: not valid UTF-8 text",
    }
    assert sorted(got) == sorted(expected)
    for record_no, text in expected.items():
        assert got[record_no].startswith(text), (record_no, got[record_no])
    assert parsed.accepted["record_no"].to_list() == [1, 17]
    assert (parsed.rows_in, parsed.rows_accepted, parsed.rows_quarantined) == (16, 2, 14)
    # row 10 ('2026-03-02T23:59:59-00:30') is 00:29:59 UTC on the next day: it belongs there, not here
    next_day = parse(tmp_path, days=["2026-03-03"])
    assert next_day.accepted.select("record_no", "partition_day").rows() == [(10, dt.date(2026, 3, 3))]
    assert next_day.rows_in == 1
    raw_16 = parsed.rejects.filter(pl.col("record_no") == 16)["raw"][0]
    assert raw_16.startswith("\\xff\\xfe2026-03-02T12:13:00Z")  # bad bytes kept visibly in the raw preview


def test_each_bad_jsonl_line_is_quarantined_with_its_line_number_and_field(tmp_path):
    land(tmp_path, "bad/bad_lines.jsonl")
    parsed = parse(tmp_path)
    got = reasons(parsed, "bad_lines.jsonl")
    expected = {
        2: "line: invalid JSON (Expecting ',' delimiter",
        3: "line: expected a JSON object, got list",
        4: "reports: 'true' is not an integer count",
        5: "baseline: -2 is negative",
        6: "service: expected text or a number, got an object",
        7: "timestamp: '2126-03-02T12:00:00Z' is 2126-03-02T12:00:00Z in UTC, in the future",
        8: "line: not valid UTF-8 text",  # Latin-1 "é"
    }
    assert sorted(got) == sorted(expected)
    for record_no, text in expected.items():
        assert got[record_no].startswith(text), (record_no, got[record_no])
    assert parsed.accepted["ts"].to_list() == [utc(2026, 3, 2, 18)]
    assert (parsed.rows_in, parsed.rows_accepted, parsed.rows_quarantined) == (8, 1, 7)


def test_renamed_required_column_quarantines_every_row_with_that_reason(tmp_path):
    land(tmp_path, "bad/renamed_column.csv", "good/minimal_columns.csv")
    parsed = parse(tmp_path)
    got = reasons(parsed, "renamed_column.csv")
    assert sorted(got) == [1, 2, 3]
    assert all(r.startswith("timestamp: required column missing from the header") for r in got.values())
    assert "was it renamed?" in got[1]
    assert parsed.rows_accepted == 2  # the other file of the day still loads
    drift = parsed.schema_drift["raw/crowd_reports/2026-03-02/renamed_column.csv"]
    assert drift["missing_required_columns"] == ["timestamp"] and drift["extra_columns"] == ["time"]


def test_renamed_key_in_jsonl_quarantines_every_line(tmp_path):
    folder = tmp_path / "raw" / "crowd_reports" / DAY
    folder.mkdir(parents=True)
    lines = [
        {"ts": "2026-03-02T12:00:00Z", "service": "Claude", "country": "us", "reports": n} for n in (1, 2)
    ]
    (folder / "renamed.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    parsed = parse(tmp_path)
    got = reasons(parsed, "renamed.jsonl")
    assert sorted(got) == [1, 2]
    assert all(r.startswith("timestamp: required field missing from every record") for r in got.values())


def test_corrupt_gzip_is_one_reject_and_the_other_files_still_load(tmp_path):
    folder = land(tmp_path, "good/minimal_columns.csv")
    good = gzip.compress(b"timestamp,service,country,reports\n2026-03-02T01:00:00Z,Claude,us,5\n")
    (folder / "truncated.csv.gz").write_bytes(good[: len(good) // 2])
    (folder / "garbage.jsonl.gz").write_bytes(b"this is not gzip at all")
    parsed = parse(tmp_path)
    assert list(reasons(parsed, "truncated.csv.gz")) == [0]
    assert reasons(parsed, "truncated.csv.gz")[0].startswith("file: corrupt gzip")
    assert reasons(parsed, "garbage.jsonl.gz")[0].startswith("file: corrupt gzip")
    assert parsed.rows_accepted == 2 and parsed.rows_quarantined == 2 and parsed.rows_in == 4
    assert len(parsed.files) == 3


def test_unreadable_and_unsupported_files_are_one_reject_each(tmp_path, monkeypatch):
    folder = land(tmp_path, "good/minimal_columns.csv")
    (folder / "locked.csv").write_text("timestamp,service,country,reports\n")
    (folder / "notes.txt").write_text("exported by hand\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")  # hidden files are not data
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.csv":
            raise PermissionError(13, "Permission denied")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    parsed = parse(tmp_path)
    assert reasons(parsed, "locked.csv") == {0: "file: unreadable (Permission denied); check permissions"}
    assert reasons(parsed, "notes.txt")[0].startswith("file: unsupported type 'notes.txt'")
    assert parsed.rows_accepted == 2 and parsed.rows_in == 4


def test_rows_in_the_future_are_quarantined(tmp_path):
    folder = tmp_path / "raw" / "crowd_reports" / DAY
    folder.mkdir(parents=True)
    (folder / "live.csv").write_text(
        "timestamp,service,country,reports\n2026-03-02T11:59:00Z,Claude,us,5\n2026-03-02T12:01:00Z,Claude,us,6\n"
    )
    parsed = parse(tmp_path, now=utc(2026, 3, 2, 12))
    assert parsed.accepted["record_no"].to_list() == [1]
    assert reasons(parsed, "live.csv") == {
        2: "timestamp: '2026-03-02T12:01:00Z' is 2026-03-02T12:01:00Z in UTC, in the future"
    }


def test_duplicates_across_files_of_a_day_keep_the_first_file(tmp_path):
    folder = tmp_path / "raw" / "crowd_reports" / DAY
    folder.mkdir(parents=True)
    (folder / "a.csv").write_text(
        "timestamp,service,country,reports,problem_type\n2026-03-02T12:00:00Z,Claude,US,5,\n"
    )
    (folder / "b.jsonl").write_text(
        '{"timestamp": "2026-03-02T04:00:00-08:00", "service": "CLAUDE", "country": "us", "reports": 9}\n'
        '{"timestamp": "2026-03-02T04:00:00-08:00", "service": "CLAUDE", "country": "us", "reports": 9,'
        ' "problem_type": "login"}\n'
    )
    parsed = parse(tmp_path)
    assert parsed.accepted.select("file", "record_no").rows() == [
        ("raw/crowd_reports/2026-03-02/a.csv", 1),
        ("raw/crowd_reports/2026-03-02/b.jsonl", 2),  # a different problem_type is a different series
    ]
    assert parsed.accepted["service"].to_list() == ["Claude", "Claude"]  # "CLAUDE" in the configured spelling
    assert reasons(parsed, "b.jsonl") == {
        1: "duplicate: same timestamp, service, country and problem_type as record 1 of "
        "raw/crowd_reports/2026-03-02/a.csv"
    }


def test_a_range_of_days_places_each_row_on_its_own_utc_day_whatever_its_folder(tmp_path):
    day1 = land(tmp_path, "good/minimal_columns.csv")
    day2 = tmp_path / "raw" / "crowd_reports" / "2026-03-03"
    day2.mkdir(parents=True)
    (day2 / "x.csv").write_text(
        "timestamp,service,country,reports\n2026-03-03T00:00:00Z,Claude,us,1\n2026-03-02T23:00:00Z,Claude,us,1\n"
    )
    parsed = parse(tmp_path, days=[DAY, "2026-03-03", "2026-03-04"])  # the 4th has no folder: nothing to do
    assert day1.exists()
    by_day = dict(parsed.accepted.group_by("partition_day").len().rows())
    assert by_day == {dt.date(2026, 3, 2): 3, dt.date(2026, 3, 3): 1}
    assert parsed.accepted.filter(pl.col("file").str.ends_with("x.csv")).select("record_no", "partition_day").rows() == [
        (1, dt.date(2026, 3, 3)),
        (2, dt.date(2026, 3, 2)),
    ]
    assert parsed.rows_quarantined == 0


def test_empty_and_header_only_files_have_no_records(tmp_path):
    folder = tmp_path / "raw" / "crowd_reports" / DAY
    folder.mkdir(parents=True)
    (folder / "empty.csv").write_bytes(b"")
    (folder / "header.csv").write_text("timestamp,service,country,reports\n\n")
    (folder / "empty.jsonl.gz").write_bytes(gzip.compress(b"\n\n"))
    parsed = parse(tmp_path)
    assert (parsed.rows_in, parsed.rows_accepted, parsed.rows_quarantined) == (0, 0, 0)
    assert parsed.accepted.schema == parse(tmp_path / "nowhere").accepted.schema


def test_partition_keys_that_are_not_days_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not a YYYY-MM-DD day"):
        parse_crowd_days(tmp_path, ["../../etc"], SERVICES, COUNTRIES, NOW)


# ---------------------------------------------------------------- property tests

PLAUSIBLE_LINES = [
    b"timestamp,service,country,reports,problem_type,baseline",
    b"2026-03-02T03:49:00-08:00,Claude,US,4712,login,11",
    b'2026-03-02T03:49:00+05:30,"Claude, web",in,5,,',
    b'{"timestamp": "2026-03-02T12:00:00Z", "service": "Claude", "country": "us", "reports": 3}',
    b'{"timestamp": "2026-03-02T12:00:00Z", "reports": -1}',
    b"",
    b"\xef\xbb\xbf",
    b'"',
    b"\r",
]
SUFFIXES = [".csv", ".jsonl", ".csv.gz", ".jsonl.gz"]
file_bytes = st.one_of(
    st.binary(max_size=600),
    st.lists(
        st.one_of(
            st.sampled_from(PLAUSIBLE_LINES), st.binary(max_size=40), st.text(max_size=40).map(str.encode)
        ),
        max_size=12,
    ).map(b"\n".join),
)


def expected_record_numbers(data: bytes, is_csv: bool) -> list[int]:
    """Non-blank lines are records; in CSV the first non-blank line is the header and rows count from it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = [i + 1 for i, line in enumerate(data.split(b"\n")) if line.strip(b" \t\r\x0b\x0c")]
    if not is_csv:
        return lines
    return [n - lines[0] for n in lines[1:]]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=file_bytes, suffix=st.sampled_from(SUFFIXES), compress=st.booleans())
def test_arbitrary_bytes_never_crash_and_every_record_is_accounted_for(data, suffix, compress):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "raw" / "crowd_reports" / DAY
        folder.mkdir(parents=True)
        content = gzip.compress(data) if compress and suffix.endswith(".gz") else data
        (folder / f"export{suffix}").write_bytes(content)
        # with only DAY placeable, every record of the file is DAY's: placed there or quarantined there
        parsed = parse(Path(tmp), now=utc(2026, 3, 2, 23, 59, 59), first_day=dt.date(2026, 3, 2))
    numbers = sorted(parsed.accepted["record_no"].to_list() + parsed.rejects["record_no"].to_list())
    if 0 in numbers:
        assert numbers == [0] and parsed.rows_in == 1  # the whole file refused: one reject, nothing else
        return
    readable = gzip.decompress(content) if suffix.endswith(".gz") else content
    assert numbers == expected_record_numbers(readable, suffix.startswith(".csv"))
    assert parsed.rejects["reason"].str.contains(r"^[a-z_]+( \(line \d+\))?: ").all()


SERVICE_NAMES = st.one_of(
    st.sampled_from(["Claude", "ChatGPT", "Google Gemini", "Perplexity", 'Claude "web", EU']),
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1, max_size=20
    )
    .map(str.strip)
    .filter(bool),
)


@st.composite
def crowd_row(draw) -> dict:
    instant = draw(st.datetimes(dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 2, 23, 59, 59, 999999)))
    instant = instant.replace(tzinfo=dt.UTC)
    offset_minutes = draw(st.integers(-12 * 60, 14 * 60))
    local = instant.astimezone(dt.timezone(dt.timedelta(minutes=offset_minutes)))
    style = draw(st.sampled_from(["iso", "space", "z"]))
    text = local.isoformat(sep=" " if style == "space" else "T")
    if style == "z":
        text = instant.isoformat().replace("+00:00", "Z")
    return {
        "instant": instant,
        "timestamp": text,
        "service": draw(SERVICE_NAMES),
        "country": draw(st.sampled_from(COUNTRIES + ["US", "Gb"])),
        "reports": draw(st.integers(0, 10**12)),
        "problem_type": draw(st.none() | st.sampled_from(["login", "app", "website", "api"])),
        "baseline": draw(st.none() | st.floats(0, 1e9, allow_nan=False, allow_infinity=False)),
    }


def write_export(rows: list[dict], fmt: str, numbers_as_text: bool) -> bytes:
    fields = ["timestamp", "service", "country", "reports", "problem_type", "baseline"]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(fields)
        for row in rows:
            writer.writerow(
                ["" if row[f] is None else repr(row[f]) if f == "baseline" else row[f] for f in fields]
            )
        return buffer.getvalue().encode()
    out = []
    for row in rows:
        obj = {f: row[f] for f in fields if row[f] is not None}
        if numbers_as_text:
            obj["reports"] = str(obj["reports"])
        out.append(json.dumps(obj, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        crowd_row(),
        min_size=1,
        max_size=15,
        unique_by=lambda r: (r["instant"], r["service"].lower(), r["country"].lower(), r["problem_type"]),
    ),
    fmt=st.sampled_from(["csv", "jsonl"]),
    compress=st.booleans(),
    numbers_as_text=st.booleans(),
)
def test_valid_rows_survive_a_write_parse_round_trip(rows, fmt, compress, numbers_as_text):
    content = write_export(rows, fmt, numbers_as_text)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "raw" / "crowd_reports" / DAY
        folder.mkdir(parents=True)
        name = f"export.{fmt}" + (".gz" if compress else "")
        (folder / name).write_bytes(gzip.compress(content) if compress else content)
        parsed = parse(Path(tmp))
    assert parsed.rows_quarantined == 0, parsed.rejects["reason"].to_list()
    got = parsed.accepted.sort("record_no").to_dicts()
    assert len(got) == len(rows)
    for row, out in zip(rows, got, strict=True):
        assert out["ts"] == row["instant"]
        assert out["ts_text"] == row["timestamp"]
        assert out["service"] == SPELLING_OF.get(row["service"].lower(), row["service"])
        assert out["provider"] == PROVIDER_OF.get(row["service"].lower())
        assert out["country"] == row["country"].lower()
        assert out["reports"] == row["reports"]
        assert out["problem_type"] == row["problem_type"]
        assert out["baseline"] == row["baseline"]


# ---------------------------------------------------------------- files spanning days, the file index

MULTI_DAY = "downdetector_claude_72h.csv"  # 3 UTC days in Pacific time, landed in the 2026-03-03 folder
SPAN = ["2026-03-01", "2026-03-02", "2026-03-03"]


def land_multi_day(data_dir: Path) -> str:
    folder = data_dir / "raw" / "crowd_reports" / SPAN[-1]
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / MULTI_DAY, folder / MULTI_DAY)
    return f"raw/crowd_reports/{SPAN[-1]}/{MULTI_DAY}"


def placed(parsed: CrowdParse) -> list[tuple[str, int]]:
    return [(d.isoformat(), n) for d, n in parsed.accepted.select("partition_day", "record_no").rows()]


def test_a_multi_day_export_in_one_folder_lands_each_row_on_its_own_utc_day(tmp_path):
    land_multi_day(tmp_path)
    by_day = {day: parse(tmp_path, days=[day]) for day in SPAN}
    # 16:15 -08:00 on 1 March is 00:15 UTC on 2 March; 16:00 -08:00 on 2 March is midnight UTC on 3 March
    assert placed(by_day["2026-03-01"]) == [("2026-03-01", 1), ("2026-03-01", 2)]
    assert placed(by_day["2026-03-02"]) == [("2026-03-02", n) for n in (3, 4, 5, 6, 8)]
    assert placed(by_day["2026-03-03"]) == [("2026-03-03", n) for n in (9, 10, 11)]
    assert reasons(by_day["2026-03-02"], MULTI_DAY) == {7: "reports: -3 is negative (must be a count >= 0)"}
    # rows that cannot be placed stay with the folder's day and are quarantined there, nowhere else
    home = reasons(by_day["2026-03-03"], MULTI_DAY)
    assert sorted(home) == [12, 13] and "has no UTC offset" in home[13]
    assert reasons(by_day["2026-03-01"], MULTI_DAY) == {}
    assert sum(p.rows_in for p in by_day.values()) == 13  # every data row of the file, exactly once
    # one run over the range = the days run one by one, in any order
    together = parse(tmp_path, days=SPAN)
    assert placed(together) == sorted(row for d in SPAN for row in placed(by_day[d]))
    assert together.rejects.sort("record_no").equals(
        pl.concat([by_day[d].rejects for d in reversed(SPAN)]).sort("record_no")
    )
    assert together.charged["record_no"].sort().to_list() == list(range(1, 14))


def test_validation_in_batches_of_days_gives_what_one_batch_gives(tmp_path, monkeypatch):
    """Memory follows a batch of days, not the run: the same rows, rejects, duplicates and order either way."""
    from assets.ingest.crowd_reports import validate

    land_multi_day(tmp_path)
    folder = tmp_path / "raw" / "crowd_reports" / "2026-03-02"
    folder.mkdir()
    (folder / "again.jsonl").write_text(  # the series and minute of the multi-day file's record 3
        '{"timestamp": "2026-03-02T00:15:00Z", "service": "claude", "country": "us", "reports": 1, '
        '"problem_type": "App"}\n'
        '{"timestamp": "yesterday", "service": "Claude", "country": "us", "reports": 1}\n'
    )
    whole = parse(tmp_path, days=SPAN)
    batches: list[list] = []
    split = validate._day_batches
    monkeypatch.setattr(validate, "RECORDS_PER_BATCH", 1)  # every day a batch of its own
    monkeypatch.setattr(validate, "_day_batches", lambda frame: batches.append(split(frame)) or batches[-1])
    batched = parse(tmp_path, days=SPAN)
    assert [len(b) for b in batches[-1]] == [1, 1, 1]
    assert batched.accepted.equals(whole.accepted) and batched.rejects.equals(whole.rejects)
    assert any(r.startswith("duplicate: ") for r in batched.rejects["reason"])
    assert batched.rejects["file"].to_list() == sorted(batched.rejects["file"].to_list())  # input order kept


def test_rows_before_the_first_partition_day_are_quarantined_in_the_folder_day(tmp_path):
    folder = tmp_path / "raw" / "crowd_reports" / DAY
    folder.mkdir(parents=True)
    (folder / "old.csv").write_text("timestamp,service,country,reports\n2009-12-31T23:00:00Z,Claude,us,1\n")
    parsed = parse(tmp_path, first_day=dt.date(2010, 1, 1))
    assert reasons(parsed, "old.csv") == {
        1: "timestamp: '2009-12-31T23:00:00Z' is 2009-12-31T23:00:00Z in UTC, before the first partition day 2010-01-01"
    }
    assert parse(tmp_path, days=["2009-12-31"], first_day=dt.date(2010, 1, 1)).rows_in == 0  # counted once


def test_an_empty_history_costs_one_listing_and_no_reads(tmp_path, monkeypatch):
    """3.5 years with no crowd files: no per-day folder look-ups, nothing read, nothing to write."""
    from assets.ingest import day_folders

    listings: list[str] = []
    monkeypatch.setattr(day_folders, "day_files", lambda *args: listings.append(args[1]) or [])
    days = [(dt.date(2022, 9, 1) + dt.timedelta(days=n)).isoformat() for n in range(1277)]
    parsed = parse(tmp_path, days=days)
    assert (parsed.rows_in, parsed.files, listings, parsed.touches_warehouse) == (0, [], [], False)
    assert not (tmp_path / "cache").exists()


def test_a_run_reads_only_the_files_of_its_days_and_reindexes_a_changed_file(tmp_path, monkeypatch):
    from assets.ingest.crowd_reports import days as crowd_days

    opened: list[str] = []
    real = crowd_days.read_file_records
    monkeypatch.setattr(crowd_days, "read_file_records", lambda path, *a: opened.append(path.name) or real(path, *a))
    land_multi_day(tmp_path)
    older = tmp_path / "raw/crowd_reports/2026-02-20"
    older.mkdir(parents=True)
    (older / "feb.csv").write_text("timestamp,service,country,reports\n2026-02-20T09:00:00Z,Claude,us,4\n")
    first = parse(tmp_path, days=["2026-03-02"])
    first.index.save()
    assert sorted(opened) == [MULTI_DAY, "feb.csv"]  # each file read once, to index it
    opened.clear()
    assert parse(tmp_path, days=["2026-03-02"]).rows_accepted == 5 and opened == [MULTI_DAY]
    opened.clear()
    assert parse(tmp_path, days=["2026-02-25"]).files == [] and opened == []  # no file has rows that day
    # an edited file is read again, and its old quarantine is marked for removal
    export = tmp_path / "raw/crowd_reports/2026-03-03" / MULTI_DAY
    export.write_text("\n".join(export.read_text().splitlines()[:3]) + "\n")
    again = parse(tmp_path, days=["2026-03-02"])
    assert (again.rows_in, again.outdated) == (0, [f"raw/crowd_reports/2026-03-03/{MULTI_DAY}"])
    assert opened == [MULTI_DAY]


def test_a_generated_world_loads_the_same_rows_with_every_file_in_one_folder(tmp_path):
    """Second world (2023, a tenth of the traffic): moving every export into one day folder changes nothing
    but the file paths: each day gets the same rows and the same quarantine."""
    from pipelines.scenario import generate

    generate(tmp_path / "w", seed=7, start="2023-05-01", end="2023-05-07", scale=0.1, sources=("crowd_reports",))
    days = [f"2023-05-0{n}" for n in range(1, 8)]
    spread = parse(tmp_path / "w", days=days, now=utc(2023, 6, 1))
    pooled_folder = tmp_path / "p" / "raw" / "crowd_reports" / "2023-05-07"
    pooled_folder.mkdir(parents=True)
    for path in sorted((tmp_path / "w/raw/crowd_reports").glob("*/*")):
        shutil.copy(path, pooled_folder / f"{path.parent.name}_{path.name}")
    pooled = parse(tmp_path / "p", days=days, now=utc(2023, 6, 1))
    columns = ["partition_day", "ts", "service", "country", "reports", "problem_type", "baseline"]
    assert spread.rows_accepted > 1000
    assert pooled.accepted.select(columns).sort(columns).equals(spread.accepted.select(columns).sort(columns))
    assert (pooled.rows_in, pooled.rows_quarantined) == (spread.rows_in, spread.rows_quarantined)
    middle = parse(tmp_path / "p", days=["2023-05-04"], now=utc(2023, 6, 1))
    assert middle.accepted.select(columns).sort(columns).equals(
        spread.accepted.filter(pl.col("partition_day") == dt.date(2023, 5, 4)).select(columns).sort(columns)
    )
