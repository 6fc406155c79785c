"""staging.crowd_reports through Dagster: table contents, quarantine, metadata, reruns, blocking check."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from assets.staging.crowd_reports import CROWD_REPORTS_CHECK, crowd_reports, crowd_reports_check

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "crowd_reports"
DAY = "2026-03-02"


def land(data_dir: Path, day: str = DAY) -> None:
    folder = data_dir / "raw" / "crowd_reports" / day
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(FIXTURES.glob("*/*")):
        shutil.copy(path, folder / path.name)


def snapshot(data_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as con:
        table = con.sql("SELECT * FROM staging.crowd_reports ORDER BY file, record_no").pl()
        rejects = con.sql(
            "SELECT * FROM quarantine.rejected_rows WHERE source = 'crowd_reports' ORDER BY file, record_no"
        ).pl()
    return table, rejects


def metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.asset_materializations_for_node("staging__crowd_reports")
    return {k: v.value for k, v in event.metadata.items()}


def test_materialize_writes_the_partition_and_its_rejects_and_reruns_are_identical(data_dir, workspace):
    land(data_dir)
    result = dg.materialize([crowd_reports], partition_key=DAY, resources={"workspace": workspace})
    assert result.success
    table, rejects = snapshot(data_dir)

    # 6 Pacific + 4 India + 2 minimal + 1 drift + 2 good of bad_rows + 1 good of bad_lines
    assert table.height == 16
    assert table.schema["ts"].time_zone in {"UTC", "Etc/UTC"} and table.schema["partition_day"] == pl.Date
    peak = table.filter(pl.col("reports") == 4712).row(0, named=True)
    assert peak["ts"] == dt.datetime(2026, 3, 2, 11, 49, tzinfo=dt.UTC)
    assert peak["ts_text"] == "2026-03-02T03:49:00-08:00"
    assert (peak["service"], peak["provider"], peak["country"], peak["problem_type"]) == (
        "Claude",
        "anthropic",
        "us",
        "app",
    )
    assert table.filter(pl.col("service") == "Perplexity")["provider"].to_list() == [None]
    assert set(table["partition_day"]) == {dt.date(2026, 3, 2)}

    assert rejects.height == 14 + 7 + 3  # bad_rows.csv row 10 is 00:29:59 UTC on 2026-03-03: that day's row
    assert set(rejects["record_no"].filter(rejects["file"].str.ends_with("renamed_column.csv"))) == {1, 2, 3}

    meta = metadata(result)
    assert (meta["rows_in"], meta["rows_accepted"], meta["rows_quarantined"]) == (40, 16, 24)
    assert meta["rows_in"] == meta["rows_accepted"] + meta["rows_quarantined"]
    assert meta["schema_drift"]["raw/crowd_reports/2026-03-02/drift_extra_columns.csv"] == {
        "extra_columns": ["region", "source_url"]
    }
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == CROWD_REPORTS_CHECK and check.passed

    again = dg.materialize([crowd_reports], partition_key=DAY, resources={"workspace": workspace})
    assert again.success
    table2, rejects2 = snapshot(data_dir)
    assert table2.equals(table) and rejects2.equals(rejects)  # no duplicates after a rerun

    # another day's run leaves this partition alone (and loads the row of bad_rows.csv that is its own);
    # a file removed since takes its rejects with it
    (data_dir / "raw/crowd_reports" / DAY / "renamed_column.csv").unlink()
    assert dg.materialize(
        [crowd_reports], partition_key="2026-03-03", resources={"workspace": workspace}
    ).success
    after = snapshot(data_dir)[0]
    assert after.filter(pl.col("partition_day") == dt.date(2026, 3, 2)).equals(table)
    assert after.filter(pl.col("partition_day") == dt.date(2026, 3, 3))["record_no"].to_list() == [10]
    assert snapshot(data_dir)[1].height == rejects.height - 3
    assert dg.materialize([crowd_reports], partition_key=DAY, resources={"workspace": workspace}).success
    table3, rejects3 = snapshot(data_dir)
    assert table3.filter(pl.col("partition_day") == dt.date(2026, 3, 2)).equals(table)
    assert rejects3.height == rejects.height - 3


def test_asset_is_a_single_run_daily_partition_over_the_raw_files():
    spec = crowd_reports.specs_by_key[dg.AssetKey(["staging", "crowd_reports"])]
    assert dg.AssetKey(["raw", "crowd_reports"]) in {dep.asset_key for dep in spec.deps}
    assert crowd_reports.partitions_def.get_first_partition_key() == "2020-01-01"
    assert crowd_reports.backfill_policy == dg.BackfillPolicy.single_run()
    (check_spec,) = crowd_reports.check_specs
    assert check_spec.name == CROWD_REPORTS_CHECK and check_spec.blocking


def test_check_fails_on_rows_that_must_not_flow_on():
    day = dt.date(2026, 3, 2)
    frame = pl.DataFrame(
        {
            "partition_day": [day, day],
            "ts": [dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC), dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)],
            "ts_text": ["a", "b"],
            "service": ["Claude", "Claude"],
            "provider": ["anthropic", "anthropic"],
            "country": ["us", "fr"],
            "reports": [5, -1],
            "problem_type": [None, None],
            "baseline": [None, 1.0],
            "file": ["f", "f"],
            "record_no": [1, 2],
        },
        schema_overrides={"problem_type": pl.String, "ts": pl.Datetime("us", "UTC")},
    )
    result = crowd_reports_check(frame, ["us", "gb"]).result()
    assert not result.passed
    failed = {(f["expectation"], str(f["column"])) for f in result.metadata["failed"].value}
    assert failed == {
        ("expect_column_values_to_be_between", "reports"),
        ("expect_column_values_to_be_between", "ts_days_from_partition"),
        ("expect_column_values_to_be_in_set", "country"),
    }
    assert crowd_reports_check(frame.head(1), ["us", "gb"]).result().passed


def test_a_single_run_backfill_writes_every_day_of_its_range(data_dir, workspace):
    for day in ("2026-03-02", "2026-03-03"):
        folder = data_dir / "raw" / "crowd_reports" / day
        folder.mkdir(parents=True)
        (folder / "export.csv").write_text(
            f"timestamp,service,country,reports\n{day}T08:00:00+05:30,Claude,IN,7\n"
        )
    result = dg.materialize(
        [crowd_reports],
        resources={"workspace": workspace},
        tags={
            "dagster/asset_partition_range_start": "2026-03-02",
            "dagster/asset_partition_range_end": "2026-03-03",
        },
    )
    assert result.success
    table, rejects = snapshot(data_dir)
    assert table.select("partition_day", "reports").rows() == [
        (dt.date(2026, 3, 2), 7),
        (dt.date(2026, 3, 3), 7),
    ]
    events = result.asset_materializations_for_node("staging__crowd_reports")
    assert sorted(e.partition for e in events) == ["2026-03-02", "2026-03-03"]  # one run, both partitions
    assert rejects.is_empty() and events[0].metadata["days"].value == 2


def test_a_multi_day_export_fills_three_partitions_and_rerunning_the_middle_day_changes_nothing(data_dir, workspace):
    folder = data_dir / "raw" / "crowd_reports" / "2026-03-03"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "downdetector_claude_72h.csv", folder)
    days = {"dagster/asset_partition_range_start": "2026-03-01", "dagster/asset_partition_range_end": "2026-03-03"}
    assert dg.materialize([crowd_reports], resources={"workspace": workspace}, tags=days).success
    table, rejects = snapshot(data_dir)
    per_day = dict(table.group_by("partition_day").len().sort("partition_day").rows())
    assert per_day == {dt.date(2026, 3, 1): 2, dt.date(2026, 3, 2): 5, dt.date(2026, 3, 3): 3}
    assert (table["ts"].dt.date() == table["partition_day"]).all()
    assert rejects["record_no"].to_list() == [7, 12, 13]

    middle = dg.materialize([crowd_reports], partition_key="2026-03-02", resources={"workspace": workspace})
    assert middle.success
    again_table, again_rejects = snapshot(data_dir)
    assert again_table.equals(table) and again_rejects.equals(rejects)
    meta = metadata(middle)
    assert (meta["rows_in"], meta["rows_accepted"], meta["rows_quarantined"], meta["files"]) == (6, 5, 1, 1)


def test_three_and_a_half_empty_years_never_open_the_warehouse_nor_start_great_expectations(workspace, data_dir):
    days = dg.PartitionKeyRange("2022-09-01", "2026-02-28")
    context = dg.build_asset_context(partition_key_range=days, resources={"workspace": workspace})
    result = crowd_reports(context)
    assert result.metadata["days"] == 1277 and result.metadata["rows_in"] == 0
    (check,) = result.check_results
    assert check.passed and check.metadata["rows_validated"].value == 0
    assert not workspace.settings.warehouse_path.exists()
