"""staging.app_ranks through Dagster: table contents, quarantine, metadata, reruns, blocking check."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.staging.app_rankings import APP_RANKS_CHECK, app_ranks, app_ranks_check

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "app_rankings"
DAY = "2026-03-02"


def land(data_dir: Path, day: str = DAY) -> None:
    folder = data_dir / "raw" / "app_rankings" / day
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(FIXTURES.glob("*/*.json")):
        shutil.copy(path, folder / path.name)


def snapshot(data_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        table = con.sql("SELECT * FROM staging.app_ranks ORDER BY country, chart, rank").pl()
        rejects = con.sql(
            "SELECT * FROM quarantine.rejected_rows WHERE source = 'app_rankings' ORDER BY file, record_no"
        ).pl()
    return table, rejects


def test_materialize_writes_the_partition_and_reruns_are_identical(data_dir, workspace):
    land(data_dir)
    result = dg.materialize([app_ranks], partition_key=DAY, resources={"workspace": workspace})
    assert result.success
    table, rejects = snapshot(data_dir)

    assert table.height == 11  # us top-free 5, gb legacy 3, in single entry 1, us top-paid 2 of 6
    assert table.schema["rank"] == pl.Int32 and table.schema["day"] == pl.Date
    claude = table.filter(pl.col("provider") == "anthropic").select("country", "chart", "rank", "feed_format")
    assert claude.sort("country").rows() == [
        ("gb", "top-free", 2, "itunes_legacy"),
        ("in", "top-free", 1, "itunes_legacy"),
        ("us", "top-free", 1, "apple_rss_v2"),
    ]
    assert set(table["partition_day"]) == {dt.date(2026, 3, 2)} and set(table["day"]) == {dt.date(2026, 3, 2)}

    assert rejects.height == 4 + 5
    assert rejects.filter(pl.col("record_no") == 0).height == 5

    (event,) = result.asset_materializations_for_node("staging__app_ranks")
    meta = {k: v.value for k, v in event.metadata.items()}
    assert (meta["rows_in"], meta["rows_accepted"], meta["rows_quarantined"]) == (20, 11, 9)
    assert meta["empty_feeds"] == [
        "raw/app_rankings/2026-03-02/de-top-free.json",
        "raw/app_rankings/2026-03-02/sg-top-free.json",
    ]
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == APP_RANKS_CHECK and check.passed

    assert dg.materialize([app_ranks], partition_key=DAY, resources={"workspace": workspace}).success
    table2, rejects2 = snapshot(data_dir)
    assert table2.equals(table) and rejects2.equals(rejects)


def test_asset_is_a_single_run_daily_partition_over_the_raw_files():
    spec = app_ranks.specs_by_key[dg.AssetKey(["staging", "app_ranks"])]
    assert dg.AssetKey(["raw", "app_rankings"]) in {dep.asset_key for dep in spec.deps}
    assert app_ranks.backfill_policy == dg.BackfillPolicy.single_run()
    assert app_ranks.partitions_def.get_first_partition_key() == "2020-01-01"
    (check_spec,) = app_ranks.check_specs
    assert check_spec.name == APP_RANKS_CHECK and check_spec.blocking


def test_check_fails_on_rows_that_must_not_flow_on():
    day = dt.date(2026, 3, 2)
    frame = pl.DataFrame(
        {
            "partition_day": [day] * 3,
            "day": [day] * 3,
            "country": ["us", "us", "fr"],
            "chart": ["top-free"] * 3,
            "rank": [1, 1, 0],
            "app_id": ["1", None, "3"],
            "app_name": ["a", "b", "c"],
            "provider": [None, None, None],
            "feed_format": ["apple_rss_v2"] * 3,
            "file": ["f"] * 3,
        },
        schema_overrides={"rank": pl.Int32, "provider": pl.String},
    )
    result = app_ranks_check(frame, ["us"]).result()
    assert not result.passed
    failed = {(f["expectation"], str(f["column"])) for f in result.metadata["failed"].value}
    assert {
        ("expect_column_values_to_not_be_null", "app_id_unless_named_only"),
        ("expect_column_values_to_be_between", "rank"),
        ("expect_column_values_to_be_in_set", "country"),
    } <= failed
    assert any(f[0] == "expect_compound_columns_to_be_unique" for f in failed)


def test_a_rank_history_fills_its_days_and_a_rerun_of_the_middle_day_changes_nothing(data_dir, workspace):
    folder = data_dir / "raw" / "app_rankings" / "2026-03-03"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "rank_history_us_gb.csv", folder)
    span = {"dagster/asset_partition_range_start": "2026-03-01", "dagster/asset_partition_range_end": "2026-03-03"}
    result = dg.materialize([app_ranks], resources={"workspace": workspace}, tags=span)
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())  # named-only rows pass
    by_day = ["day", "country", "chart", "rank"]
    table, rejects = snapshot(data_dir)
    table = table.sort(by_day)
    assert dict(table.group_by("day").len().sort("day").rows()) == {
        dt.date(2026, 3, 1): 4,
        dt.date(2026, 3, 2): 5,
        dt.date(2026, 3, 3): 2,
    }
    assert rejects.is_empty()
    assert table.filter(pl.col("app_id").is_null())["app_name"].to_list() == ["Threads"]

    assert dg.materialize([app_ranks], partition_key="2026-03-02", resources={"workspace": workspace}).success
    again, again_rejects = snapshot(data_dir)
    assert again.sort(by_day).equals(table) and again_rejects.is_empty()

    # the export edited (2 March gone): rerunning that day drops its rows and leaves the others alone
    history = folder / "rank_history_us_gb.csv"
    history.write_text("".join(line for line in history.read_text().splitlines(True) if ",2026-03-02," not in line
                               and not line.startswith("2026-03-02")))
    assert dg.materialize([app_ranks], partition_key="2026-03-02", resources={"workspace": workspace}).success
    edited, _ = snapshot(data_dir)
    assert edited.sort(by_day).equals(table.filter(pl.col("day") != dt.date(2026, 3, 2)))
