"""App Store chart parsing: Apple RSS v2, legacy iTunes RSS (list and single entry), bad files, properties."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.ingest.app_rankings.days import RanksParse, parse_app_days

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "app_rankings"
DAY = "2026-03-02"
APPS = {"6473753684": "anthropic", "6448311069": "openai", "6477489729": "google"}
COUNTRIES = ["us", "gb", "in", "de", "sg"]


def land(data_dir: Path, *fixtures: str, day: str = DAY) -> Path:
    folder = data_dir / "raw" / "app_rankings" / day
    folder.mkdir(parents=True, exist_ok=True)
    for name in fixtures:
        shutil.copy(FIXTURES / name, folder / Path(name).name)
    return folder


def parse(data_dir: Path, days=(DAY,)) -> RanksParse:
    parsed = parse_app_days(data_dir, list(days), APPS, COUNTRIES)
    assert parsed.rows_in == parsed.rows_accepted + parsed.rows_quarantined
    return parsed


def rows_of(parsed: RanksParse, file_name: str) -> pl.DataFrame:
    return parsed.accepted.filter(pl.col("file").str.ends_with("/" + file_name)).sort("rank")


def reasons(parsed: RanksParse, file_name: str) -> dict[int, str]:
    rows = parsed.rejects.filter(pl.col("file").str.ends_with("/" + file_name))
    return dict(zip(rows["record_no"].to_list(), rows["reason"].to_list(), strict=True))


def test_apple_rss_v2_rank_is_position_plus_one(tmp_path):
    land(tmp_path, "good/us-top-free.json")
    parsed = parse(tmp_path)
    rows = rows_of(parsed, "us-top-free.json")
    assert rows["rank"].to_list() == [1, 2, 3, 4, 5]
    assert rows["app_id"].to_list() == ["6473753684", "6448311069", "6477489729", "1641486558", "6446901002"]
    assert rows["app_name"][0] == "Claude by Anthropic" and rows["artist_name"][1] == "OpenAI OpCo, LLC"
    assert rows["provider"].to_list() == ["anthropic", "openai", "google", None, None]
    assert set(rows["feed_format"]) == {"apple_rss_v2"}
    assert set(rows["country"]) == {"us"} and set(rows["chart"]) == {"top-free"}
    assert set(rows["day"]) == {dt.date(2026, 3, 2)} and set(rows["partition_day"]) == {dt.date(2026, 3, 2)}
    assert rows["feed_updated"][0] == dt.datetime(2026, 3, 2, 18, 4, 12, tzinfo=dt.UTC)
    assert rows["feed_updated_text"][0] == "Mon, 2 Mar 2026 18:04:12 +0000"
    assert rows["file"][0] == "raw/app_rankings/2026-03-02/us-top-free.json"
    assert parsed.rows_quarantined == 0


def test_legacy_itunes_feed_with_entry_list(tmp_path):
    land(tmp_path, "good/gb-top-free.json")
    rows = rows_of(parse(tmp_path), "gb-top-free.json")
    assert rows.select("rank", "app_id", "app_name", "artist_name", "provider").rows() == [
        (1, "6448311069", "ChatGPT", "OpenAI", "openai"),
        (2, "6473753684", "Claude by Anthropic", "Anthropic PBC", "anthropic"),
        # no im:id attribute: the id comes from the store URL in id.label
        (3, "284993459", "Shazam: Find Music & Concerts", "Apple", None),
    ]
    assert set(rows["feed_format"]) == {"itunes_legacy"} and set(rows["country"]) == {"gb"}
    assert rows["feed_updated"][0] == dt.datetime(2026, 3, 2, 17, 4, 12, tzinfo=dt.UTC)  # -07:00 in the feed


def test_legacy_feed_with_a_single_entry_object(tmp_path):
    land(tmp_path, "good/in-top-free.json")
    rows = rows_of(parse(tmp_path), "in-top-free.json")
    assert rows.select("rank", "app_id", "provider", "country").rows() == [
        (1, "6473753684", "anthropic", "in")
    ]


def test_empty_feeds_are_no_rows_not_errors(tmp_path):
    land(tmp_path, "good/de-top-free.json", "good/sg-top-free.json")
    parsed = parse(tmp_path)
    assert (parsed.rows_in, parsed.rows_accepted, parsed.rows_quarantined) == (0, 0, 0)
    assert parsed.empty_feeds == [
        "raw/app_rankings/2026-03-02/de-top-free.json",
        "raw/app_rankings/2026-03-02/sg-top-free.json",
    ]
    assert parsed.accepted.schema["rank"] == pl.Int32


def test_entries_without_id_or_name_are_quarantined_by_position(tmp_path):
    land(tmp_path, "bad/us-top-paid.json")
    parsed = parse(tmp_path)
    assert reasons(parsed, "us-top-paid.json") == {
        2: "id: missing or empty",
        3: "name: missing or empty",
        4: "entry: expected a JSON object, got str",
        5: "id: '479516143' already listed at rank 1",
    }
    # ranks stay the feed positions: a refused entry does not move the ones below it up
    assert rows_of(parsed, "us-top-paid.json").select("rank", "app_name").rows() == [
        (1, "Minecraft"),
        (6, "Procreate Pocket"),
    ]
    assert (parsed.rows_in, parsed.rows_accepted, parsed.rows_quarantined) == (6, 2, 4)


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("bad/gb-top-paid.json", "file: not valid JSON (Expecting value at line 1 column 49)"),
        (
            "bad/gb-top-grossing.json",
            "feed: no 'feed' object; not an Apple RSS v2 or legacy iTunes RSS response",
        ),
        ("bad/sg-top-paid.json", "feed.country: 'us' does not match country 'sg' from the file name"),
        ("bad/fr-top-free.json", "country: 'fr' (from the file name) is not a configured country"),
        ("bad/topfree_us.json", "file name: 'topfree_us.json' is not <country>-<chart>.json"),
    ],
)
def test_unusable_files_are_one_reject_with_record_zero(tmp_path, fixture, reason):
    land(tmp_path, fixture, "good/us-top-free.json")
    parsed = parse(tmp_path)
    got = reasons(parsed, Path(fixture).name)
    assert list(got) == [0] and got[0].startswith(reason), got
    assert parsed.rows_accepted == 5  # the other file of the day still loads


def test_other_unusable_files(tmp_path):
    folder = land(tmp_path)
    (folder / "us-top-free.json").write_bytes(b'{"feed": {"results": [{"id": "1", "name": "\xff"}]}}')
    (folder / "gb-top-free.json").write_text('{"feed": {"title": "t", "results": []}} trailing')
    (folder / "in-top-free.json").write_text('{"feed": {"author": {"name": "x"}}}')
    (folder / "de-top-free.xml").write_text("<feed/>")
    (folder / "sg-top-free.json").write_text(
        '{"feed": {"results": [{"id": 6.5, "name": "x"}, {"id": "7", "name": [1]}]}}'
    )
    parsed = parse(tmp_path)
    assert reasons(parsed, "sg-top-free.json") == {
        1: "id: 6.5 is not text or an integer",
        2: "name: [1] is not text or an integer",
    }
    assert reasons(parsed, "us-top-free.json")[0].startswith("file: not UTF-8 text")
    assert reasons(parsed, "gb-top-free.json")[0].startswith("file: not valid JSON (Extra data")
    assert reasons(parsed, "in-top-free.json")[0].startswith("feed: neither 'results'")
    assert reasons(parsed, "de-top-free.xml")[0].startswith(
        "file: 'de-top-free.xml' is neither a <country>-<chart>.json chart feed nor a rank-history CSV (no date"
    )
    assert parsed.rows_in == 6 and parsed.rows_accepted == 0


def test_second_file_for_the_same_chart_is_refused(tmp_path):
    folder = land(tmp_path, "good/us-top-free.json")
    shutil.copy(folder / "us-top-free.json", folder / "US-top-free.json")
    parsed = parse(tmp_path)
    assert reasons(parsed, "us-top-free.json") == {
        0: "file: a second us-top-free chart for 2026-03-02 (first: raw/app_rankings/2026-03-02/US-top-free.json)"
    }
    assert parsed.rows_accepted == 5


def test_all_fixtures_together_add_up(tmp_path):
    land(tmp_path, *[f"good/{p.name}" for p in (FIXTURES / "good").iterdir()])
    land(tmp_path, *[f"bad/{p.name}" for p in (FIXTURES / "bad").iterdir()])
    parsed = parse(tmp_path)
    assert parsed.rows_accepted == 5 + 3 + 1 + 2
    assert parsed.rows_quarantined == 4 + 5
    assert len(parsed.files) == 11


# ---------------------------------------------------------------- property tests

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
feed_like = st.one_of(
    json_values,
    st.builds(lambda x: {"feed": {"results": x}}, json_values),
    st.builds(lambda x: {"feed": {"entry": x, "updated": {"label": "2026-03-02T00:00:00Z"}}}, json_values),
    st.builds(
        lambda i, n: {
            "feed": {"entry": [{"id": {"attributes": {"im:id": i}, "label": i}, "im:name": {"label": n}}]}
        },
        json_values,
        json_values,
    ),
    st.builds(
        lambda i, n: {"feed": {"country": "us", "results": [{"id": i, "name": n}]}}, json_values, json_values
    ),
)


def _run(content: bytes) -> RanksParse:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "raw" / "app_rankings" / DAY
        folder.mkdir(parents=True)
        (folder / "us-top-free.json").write_bytes(content)
        return parse(Path(tmp))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.one_of(st.binary(max_size=300), feed_like.map(lambda v: json.dumps(v).encode())))
def test_arbitrary_content_never_crashes_and_every_entry_is_accounted_for(content):
    parsed = _run(content)
    numbers = sorted(parsed.accepted["record_no"].to_list() + parsed.rejects["record_no"].to_list())
    if 0 in numbers:
        assert numbers == [0]
    else:
        assert numbers == list(range(1, len(numbers) + 1))  # one outcome per feed position
    assert parsed.accepted["rank"].min() is None or parsed.accepted["rank"].min() >= 1


app_entries = st.lists(
    st.tuples(
        st.integers(1, 10**10).map(str),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)
        .map(str.strip)
        .filter(bool),
    ),
    min_size=1,
    max_size=25,
    unique_by=lambda e: e[0],
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(apps=app_entries, legacy=st.booleans(), bare_single=st.booleans())
def test_generated_charts_survive_a_write_parse_round_trip(apps, legacy, bare_single):
    if legacy:
        entries = [
            {
                "im:name": {"label": name},
                "id": {"label": f"https://apps.apple.com/us/app/x/id{i}", "attributes": {"im:id": i}},
            }
            for i, name in apps
        ]
        doc = {"feed": {"updated": {"label": "2026-03-02T10:00:00-07:00"}, "entry": entries}}
        if bare_single and len(entries) == 1:
            doc["feed"]["entry"] = entries[0]
    else:
        results = [{"id": i, "name": name, "artistName": "a", "kind": "apps"} for i, name in apps]
        doc = {
            "feed": {
                "title": "Top Free Apps",
                "country": "us",
                "updated": "Mon, 2 Mar 2026 18:04:12 +0000",
                "results": results,
            }
        }
    parsed = _run(json.dumps(doc, ensure_ascii=bare_single).encode())
    assert parsed.rows_quarantined == 0
    got = parsed.accepted.sort("rank").select("rank", "app_id", "app_name").rows()
    assert got == [(n + 1, i, name) for n, (i, name) in enumerate(apps)]
    assert set(parsed.accepted["feed_format"]) == {"itunes_legacy" if legacy else "apple_rss_v2"}


# ---------------------------------------------------------------- rank histories exported from other tools

NAMES = {"Claude by Anthropic": "6473753684", "ChatGPT": "6448311069", "Google Gemini": "6477489729"}
SPAN = ["2026-03-01", "2026-03-02", "2026-03-03"]
NOW = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)


def parse_history(data_dir: Path, days=SPAN) -> RanksParse:
    parsed = parse_app_days(data_dir, list(days), APPS, COUNTRIES, NAMES, NOW, dt.date(2010, 1, 1))
    assert parsed.rows_in == parsed.rows_accepted + parsed.rows_quarantined
    return parsed


def test_a_rank_history_csv_is_recognised_by_its_header_and_each_row_lands_on_its_date(tmp_path):
    land(tmp_path, "rank_history_us_gb.csv", day="2026-03-03")  # exported on the 3rd, three days inside
    parsed = parse_history(tmp_path)
    rows = parsed.accepted.sort("partition_day", "country", "rank")
    assert rows.select("partition_day", "country", "chart", "rank", "app_id", "provider").rows() == [
        (dt.date(2026, 3, 1), "gb", "top-free", 3, "6448311069", "openai"),
        (dt.date(2026, 3, 1), "us", "top-free", 1, "6448311069", "openai"),
        (dt.date(2026, 3, 1), "us", "top-free", 2, "835599320", None),
        (dt.date(2026, 3, 1), "us", "top-free", 5, "6473753684", "anthropic"),
        (dt.date(2026, 3, 2), "gb", "top-free", 1, "6473753684", "anthropic"),
        (dt.date(2026, 3, 2), "us", "top-free", 1, "6473753684", "anthropic"),
        (dt.date(2026, 3, 2), "us", "top-free", 2, "6448311069", "openai"),
        (dt.date(2026, 3, 2), "us", "top-free", 3, "6477489729", "google"),  # named only: id from the config
        (dt.date(2026, 3, 2), "us", "top-free", 4, None, None),  # named only, not ours: kept without an id
        (dt.date(2026, 3, 3), "us", "top-free", 1, "6473753684", "anthropic"),
        (dt.date(2026, 3, 3), "us", "top-free", 6, "6448311069", "openai"),
    ]
    assert set(rows["feed_format"]) == {"rank_history_csv"} and rows["day"].equals(rows["partition_day"])
    assert rows.filter(pl.col("rank") == 4)["app_name"].to_list()[-1] == "Threads"
    assert rows["artist_name"][0] == "OpenAI OpCo LLC"  # the Publisher column
    middle = parse_history(tmp_path, days=["2026-03-02"])
    assert middle.accepted.sort("country", "rank").equals(
        parsed.accepted.filter(pl.col("partition_day") == dt.date(2026, 3, 2)).sort("country", "rank")
    )


def test_each_bad_history_row_is_quarantined_naming_its_field(tmp_path):
    land(tmp_path, "rank_history_bad_rows.csv", day="2026-03-03")
    parsed = parse_history(tmp_path)
    assert reasons(parsed, "rank_history_bad_rows.csv") == {
        2: "date: '03/02/2026' is not a YYYY-MM-DD day",
        3: "date: missing",
        4: "country: 'fr' is not a configured country (us, gb, in, de, sg)",
        5: "chart: 'top free!' is not a chart name such as top-free",
        6: "rank: '0' is not a whole number >= 1",
        7: "rank: 'six' is not a whole number >= 1",
        8: "app_id: '-5' is not a positive integer Apple app id",
        10: "app_name: missing or empty, and app_id is not a configured app",
        11: "rank: 1 of us top-free on 2026-03-02 is already taken (record 1)",
        12: "app_id: '6473753684' already listed at rank 1",
        13: "row: 4 fields but the header has 6",
        14: "date: 2099-03-02 is in the future",
        15: "line: malformed CSV quoting (unexpected end of data)",
    }
    assert parsed.accepted.select("rank", "app_id", "app_name").rows() == [
        (1, "6473753684", "Claude by Anthropic"),
        (8, None, "Some App Nobody Configured"),
    ]
    assert (parsed.rows_in, parsed.rows_accepted, parsed.rows_quarantined) == (15, 2, 13)


def test_a_csv_that_is_not_a_rank_history_is_refused_whole(tmp_path):
    folder = land(tmp_path, day="2026-03-02")
    (folder / "downloads.csv").write_text("date,country,chart,downloads,app_name\n2026-03-02,us,top-free,5,Claude\n")
    parsed = parse_history(tmp_path)
    (reason,) = reasons(parsed, "downloads.csv").values()
    assert reason.startswith("file: 'downloads.csv' is neither a <country>-<chart>.json chart feed nor a rank-history")
    assert "(no rank column; found: date, country, chart, downloads, app_name)" in reason
    assert (parsed.rows_in, parsed.rows_quarantined) == (1, 1)


def test_one_source_per_chart_and_day_the_first_file_wins(tmp_path):
    land(tmp_path, "good/us-top-free.json", day="2026-03-02")  # the fetched feed, an earlier folder
    land(tmp_path, "rank_history_us_gb.csv", day="2026-03-03")
    parsed = parse_history(tmp_path, days=["2026-03-02"])
    feed = "raw/app_rankings/2026-03-02/us-top-free.json"
    us = parsed.accepted.filter(pl.col("country") == "us")
    assert set(us["file"]) == {feed} and us["rank"].is_unique().all()
    assert reasons(parsed, "rank_history_us_gb.csv") == {
        n: f"chart: us top-free on 2026-03-02 already comes from {feed}" for n in (5, 6, 7, 8)
    }
    assert parsed.accepted.filter(pl.col("country") == "gb")["feed_format"].to_list() == ["rank_history_csv"]
