"""marts.provider_minute_sli: hand-computed minutes, disjoint classes, partition rerun, one dg.materialize."""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest

from assets.marts import sli as sli_module
from assets.marts.episodes.assets import telemetry_episodes_asset
from assets.marts.sli import (
    SLI_CHECK,
    _day_batches,
    compute_minute_sli,
    minute_sli_sql,
    provider_minute_sli,
    with_unclassified,
)
from assets.marts.slo.assets import slo_alerts, slo_budget, slo_burn
from pipelines.core import tables
from pipelines.core.minute_sli import COUNT_COLUMNS
from pipelines.core.warehouse import connect, read_table

UTC = dt.UTC
LOG_SCHEMA = {
    "ts": pl.Datetime("us", "UTC"),
    "provider": pl.String,
    "model": pl.String,
    "endpoint": pl.String,
    "status": pl.Int32,
    "latency_ms": pl.Float64,
    "tokens_in": pl.Int64,
    "tokens_out": pl.Int64,
    "client_id": pl.String,
    "region": pl.String,
    "error_type": pl.String,
    "file": pl.String,
}


def log_rows(day: str, rows: list[tuple]) -> pl.DataFrame:
    """rows: (HH:MM:SS, provider, status, latency_ms, error_type)."""
    return pl.DataFrame(
        {
            "ts": [dt.datetime.fromisoformat(f"{day}T{t}+00:00") for t, *_ in rows],
            "provider": [r[1] for r in rows],
            "model": ["m"] * len(rows),
            "endpoint": ["/v1/messages"] * len(rows),
            "status": [r[2] for r in rows],
            "latency_ms": [r[3] for r in rows],
            "tokens_in": [10] * len(rows),
            "tokens_out": [20] * len(rows),
            "client_id": ["c1"] * len(rows),
            "region": ["us"] * len(rows),
            "error_type": [r[4] for r in rows],
            "file": [f"raw/request_logs/{day}/gateway.jsonl"] * len(rows),
        },
        schema=LOG_SCHEMA,
    )


def write_lake(data_dir: Path, frames: dict[str, pl.DataFrame]) -> None:
    """Hand-made lake partitions plus the staging.request_logs view the ingest helper will own."""
    lake = data_dir / "lake" / "request_logs"
    for day, frame in frames.items():
        (lake / f"day={day}").mkdir(parents=True, exist_ok=True)
        frame.write_parquet(lake / f"day={day}" / "part-0.parquet")
    with connect(data_dir / "warehouse.duckdb") as con:
        con.execute(
            "CREATE OR REPLACE VIEW staging.request_logs AS SELECT * FROM read_parquet("
            f"'{lake.as_posix()}/*/*.parquet', hive_partitioning = true, hive_types = {{'day': 'DATE'}})"
        )


# Minute 10:15 of anthropic: 10 requests = 5 ok + 2x 529 + 1x 500 + 1x 429 + 1 timeout.
# Provider errors = 2 + 1 + 1 = 4 -> error_ratio 0.4 (the 429 is ours and is left out).
CRAFTED_MINUTE = [
    ("10:15:01", "anthropic", 200, 120.0, None),
    ("10:15:05", "anthropic", 200, 180.0, None),
    ("10:15:09", "anthropic", 201, 95.0, None),
    ("10:15:14", "anthropic", 304, 60.0, None),
    ("10:15:20", "anthropic", 200, 240.0, None),
    ("10:15:25", "anthropic", 529, 30.0, "overloaded_error"),
    ("10:15:31", "anthropic", 529, 35.0, "overloaded_error"),
    ("10:15:40", "anthropic", 500, 900.0, "api_error"),
    ("10:15:48", "anthropic", 429, 5.0, "rate_limit_error"),
    ("10:15:59", "anthropic", None, 30000.0, "timeout"),
]
# Minute 10:16: 504 and 408 are timeouts (not 5xx / 4xx), 503 is a 5xx, 404 is ours, 0 is "other".
SECOND_MINUTE = [
    ("10:16:00", "anthropic", 504, 60000.0, None),
    ("10:16:10", "anthropic", 408, 30000.0, None),
    ("10:16:20", "anthropic", 503, 50.0, None),
    ("10:16:30", "anthropic", 404, 20.0, "not_found_error"),
    ("10:16:40", "anthropic", 0, 10.0, None),
    ("10:16:50", "openai", 200, 300.0, None),
]


@pytest.fixture
def crafted_lake(data_dir: Path) -> Path:
    write_lake(
        data_dir,
        {
            "2026-03-02": log_rows("2026-03-02", CRAFTED_MINUTE + SECOND_MINUTE),
            "2026-03-03": log_rows("2026-03-03", [("00:00:30", "anthropic", 500, 10.0, None)]),
        },
    )
    return data_dir


def sli_for(data_dir: Path, days: list[str]) -> pl.DataFrame:
    with connect(data_dir / "warehouse.duckdb") as con:
        return compute_minute_sli(con, days).sort("provider", "minute")


def test_crafted_minute_by_hand(crafted_lake: Path) -> None:
    sli = sli_for(crafted_lake, ["2026-03-02"])
    assert sli.schema["minute"] == pl.Datetime("us", "UTC")
    row = sli.filter(pl.col("minute") == dt.datetime(2026, 3, 2, 10, 15, tzinfo=UTC)).to_dicts()[0]
    assert row["provider"] == "anthropic" and row["day"] == dt.date(2026, 3, 2)
    assert {c: row[c] for c in ("requests", *COUNT_COLUMNS)} == {
        "requests": 10,
        "ok": 5,
        "errors_5xx": 1,
        "errors_529": 2,
        "errors_429": 1,
        "errors_4xx_other": 0,
        "timeouts": 1,
        "errors_other": 0,
    }
    assert row["error_ratio"] == pytest.approx(0.4)
    latencies = np.array([r[3] for r in CRAFTED_MINUTE])
    assert row["latency_p50_ms"] == pytest.approx(np.percentile(latencies, 50))
    assert row["latency_p95_ms"] == pytest.approx(np.percentile(latencies, 95))

    second = sli.filter(pl.col("minute") == dt.datetime(2026, 3, 2, 10, 16, tzinfo=UTC), provider="anthropic")
    assert second.select("requests", "timeouts", "errors_5xx", "errors_4xx_other", "errors_other", "ok").row(
        0
    ) == (
        5,
        2,
        1,
        1,
        1,
        0,
    )
    assert second["error_ratio"][0] == pytest.approx(3 / 5)  # 2 timeouts + 1x 503
    # only the run's day is read: 2026-03-03 is not in this frame
    assert sli["day"].unique().to_list() == [dt.date(2026, 3, 2)]
    assert sli.height == 3


def test_classes_are_disjoint_and_match_a_row_by_row_reference(data_dir: Path) -> None:
    rng = np.random.default_rng(7)
    n = 5_000
    statuses = rng.choice([200, 201, 302, 400, 404, 408, 429, 500, 502, 503, 504, 529, 0, 101, 600, -1], n)
    error_types = rng.choice(["", "timeout", "Read_Timeout", "rate_limit_error", "api_error"], n)
    seconds = rng.integers(0, 3 * 3600, n)
    rows = [
        (
            (dt.datetime(2026, 3, 2) + dt.timedelta(seconds=int(s))).time().isoformat(),
            str(rng.choice(["anthropic", "openai", "google"])),
            None if st == -1 else int(st),
            float(rng.gamma(2.0, 300.0)),
            et or None,
        )
        for s, st, et in zip(seconds, statuses, error_types, strict=True)
    ]
    logs = log_rows("2026-03-02", rows)
    write_lake(data_dir, {"2026-03-02": logs})
    sli = sli_for(data_dir, ["2026-03-02"])

    assert with_unclassified(sli)["unclassified"].to_list() == [0] * sli.height
    assert sli["requests"].sum() == n
    assert sli["error_ratio"].is_between(0, 1).all()

    # Row-by-row reference classification in Polars, in the documented precedence.
    s = pl.col("status").fill_null(0)
    timeout = s.is_in([408, 504]) | pl.col("error_type").str.to_lowercase().str.contains("timeout").fill_null(
        False
    )
    cls = (
        pl.when(timeout)
        .then(pl.lit("timeouts"))
        .when(s == 529)
        .then(pl.lit("errors_529"))
        .when(s == 429)
        .then(pl.lit("errors_429"))
        .when(s.is_between(500, 599))
        .then(pl.lit("errors_5xx"))
        .when(s.is_between(400, 499))
        .then(pl.lit("errors_4xx_other"))
        .when(s.is_between(200, 399))
        .then(pl.lit("ok"))
        .otherwise(pl.lit("errors_other"))
    )
    reference = (
        logs.with_columns(minute=pl.col("ts").dt.truncate("1m"), cls=cls)
        .group_by("provider", "minute")
        .agg(
            *[(pl.col("cls") == c).sum().cast(pl.Int64).alias(c) for c in COUNT_COLUMNS],
            requests=pl.len().cast(pl.Int64),
        )
        .sort("provider", "minute")
    )
    assert sli.select("provider", "minute", "requests", *COUNT_COLUMNS).equals(
        reference.select("provider", "minute", "requests", *COUNT_COLUMNS)
    )
    # p95 of one busy minute against numpy on the same values
    key = sli.sort("requests", descending=True).row(0, named=True)
    values = logs.filter(provider=key["provider"]).filter(pl.col("ts").dt.truncate("1m") == key["minute"])[
        "latency_ms"
    ]
    assert key["latency_p95_ms"] == pytest.approx(np.percentile(values.to_numpy(), 95))


def test_days_are_computed_in_batches_of_bounded_rows_with_the_same_result(crafted_lake: Path, monkeypatch) -> None:
    # 2026-03-02: 16 rows, 2026-03-03: 1 row, 2026-03-04: no partition, 2026-03-05: 5 rows
    write_lake(crafted_lake, {"2026-03-05": log_rows("2026-03-05", [("08:00:00", "openai", 200, 5.0, None)] * 5)})
    days = [dt.date(2026, 3, d) for d in (2, 3, 4, 5)]
    whole = sli_for(crafted_lake, [d.isoformat() for d in days])  # the default budget: one query
    with connect(crafted_lake / "warehouse.duckdb") as con:
        assert _day_batches(con, days, tables.REQUEST_LOGS) == [days]
        monkeypatch.setattr(sli_module, "ROWS_PER_QUERY", 16)
        # a day of 16 rows fills a batch; the next ones share one (1 + 0 + 5 rows)
        assert _day_batches(con, days, tables.REQUEST_LOGS) == [days[:1], days[1:]]
        monkeypatch.setattr(sli_module, "ROWS_PER_QUERY", 3)
        # a day above the budget is a batch of its own
        assert _day_batches(con, days, tables.REQUEST_LOGS) == [days[:1], days[1:3], days[3:]]
    batched = sli_for(crafted_lake, [d.isoformat() for d in days])
    assert batched.height == whole.height == 5 and batched.equals(whole)


def test_sql_binds_one_parameter_per_day_and_refuses_no_days() -> None:
    assert minute_sli_sql(3).count("?::DATE") == 3
    with pytest.raises(ValueError):
        minute_sli_sql(0)
    con = duckdb.connect()
    assert compute_minute_sli(con, []).height == 0


def test_rerun_for_the_same_day_leaves_the_table_identical(crafted_lake: Path, workspace) -> None:
    def run(key: str) -> dg.MaterializeResult:
        return provider_minute_sli(dg.build_asset_context(partition_key=key), workspace=workspace)

    first = run("2026-03-02")
    assert all(c.passed for c in first.check_results)
    run("2026-03-03")
    with connect(crafted_lake / "warehouse.duckdb") as con:
        before = read_table(con, tables.MINUTE_SLI).sort("provider", "minute")
    run("2026-03-02")
    with connect(crafted_lake / "warehouse.duckdb") as con:
        after = read_table(con, tables.MINUTE_SLI).sort("provider", "minute")
    assert before.height == 4  # 3 minutes on 03-02, 1 on 03-03
    assert after.equals(before)


def test_materialize_sli_then_slo_marts(crafted_lake: Path, workspace) -> None:
    resources = {"workspace": workspace}
    result = dg.materialize([provider_minute_sli], resources=resources, partition_key="2026-03-02")
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [(SLI_CHECK, True)]
    result = dg.materialize([slo_burn, slo_alerts, slo_budget, telemetry_episodes_asset], resources=resources)
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    with connect(crafted_lake / "warehouse.duckdb") as con:
        burn = read_table(con, "marts.slo_burn")
        budget = read_table(con, "marts.slo_budget")
        alerts = read_table(con, "marts.slo_alerts")
        # 15 requests in all: no window reaches the 20 requests the evidence rule asks for
        assert read_table(con, "marts.telemetry_episodes").height == 0
    assert burn.height == 3  # anthropic 10:15-10:16, openai 10:16
    # 40% and 60% provider errors against a 0.995 target burn at 80x and 120x: every rule fires on both
    # anthropic minutes (still firing at the end of the data); openai had no error.
    assert sorted(alerts["rule"].to_list()) == ["1d/2h@3", "1h/5m@14.4", "3d/6h@1", "6h/30m@6"]
    assert set(alerts["provider"]) == {"anthropic"} and alerts["minutes"].to_list() == [2] * 4
    assert alerts["ongoing"].all()
    window = budget.filter(provider="anthropic", period_kind="window").row(0, named=True)
    assert window["requests"] == 15 and window["bad_requests"] == 7  # 4 + (2 timeouts + 503)
