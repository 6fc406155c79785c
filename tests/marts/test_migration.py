"""Migration signals on crafted series: the +400 % surge, ranks and days at #1, the SQL aggregates."""

import datetime as dt

import duckdb
import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.marts.migration.inputs import read_inputs
from assets.marts.migration.schema import MIGRATION_SCHEMA
from assets.marts.migration.signals import build_migration_signals, growth_48h_fit
from assets.marts.sli import compute_minute_sli
from pipelines.core.warehouse import replace_table

UTC = pl.Datetime("us", "UTC")
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday


def surge_series(n_hours: int, surge_end: int, multiplier: float = 5.0) -> np.ndarray:
    """Hourly requests built like the bundled scenario: daily and weekly cycle, slow trend, and a wave that
    multiplies traffic by `multiplier` over the 48 h ending at hour `surge_end` (5 ** (hours / 48))."""
    h = np.arange(n_hours)
    stamps = [START + dt.timedelta(hours=int(i)) for i in h]
    diurnal = 1.0 + 0.6 * np.sin(2 * np.pi * (h - 11) / 24)
    weekly = np.array([0.8 if s.weekday() >= 5 else 1.0 for s in stamps])
    trend = 1.0 + 0.6 * h / (90 * 24)
    wave = multiplier ** np.clip((h - (surge_end - 48)) / 48, 0.0, 1.0)
    return 120.0 * diurnal * weekly * trend * wave


def traffic_frame(requests: np.ndarray, provider: str = "anthropic") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider": provider,
            "period_start": [START + dt.timedelta(hours=i) for i in range(requests.size)],
            "requests": np.round(requests).astype(np.int64),
        }
    ).with_columns(pl.col("period_start").cast(UTC))


def test_growth_48h_of_a_400_percent_surge_reads_400():
    n, end = 40 * 24, 33 * 24 + 11  # the wave ends on a Monday 11:00 after weeks of ordinary traffic
    signals = build_migration_signals(traffic_frame(surge_series(n, end)), None, None, None)
    hourly = signals.filter(pl.col("grain") == "hour").sort("period_start")
    at_end = hourly.row(end, named=True)
    assert at_end["period_start"] == START + dt.timedelta(hours=end)
    assert at_end["growth_48h_pct"] == pytest.approx(400, abs=5)
    # before the wave traffic only follows its cycles: no growth
    quiet = hourly.filter(pl.col("period_start") < START + dt.timedelta(hours=end - 60))[
        "growth_48h_pct"
    ].drop_nulls()
    assert quiet.abs().max() < 5
    # the same-hour growth against the trailing 7 days is the plain ratio
    row = hourly.row(end, named=True)
    assert row["growth_pct"] == pytest.approx(100 * (row["requests"] / row["requests_baseline_7d"] - 1))


def test_growth_48h_fit_is_exact_on_a_geometric_ramp_and_needs_enough_hours():
    week, n = 168, 168 + 48
    ramp = np.full(n, 50.0)
    ramp[week:] = 50.0 * 3.0 ** (np.arange(48) / 48)  # x3 per 48 h, after a flat week
    growth = growth_48h_fit(ramp)
    assert growth[-1] == pytest.approx(200.0, abs=0.01)
    assert np.isnan(growth[: week + 35]).all()  # fewer than 36 hours with a week-earlier baseline
    assert growth[week + 35] == pytest.approx(200.0, abs=0.01)
    gappy = ramp.copy()
    gappy[week : week + 13] = 0  # 13 silent hours leave 35 < 36 usable
    assert np.isnan(growth_48h_fit(gappy)[-1])


def test_daily_grain_uses_whole_days():
    requests = np.full(14 * 24, 100.0)
    requests[-48:] *= 5  # the last two days at 5x
    daily = build_migration_signals(traffic_frame(requests), None, None, None).filter(
        pl.col("grain") == "day"
    )
    last = daily.sort("period_start").tail(2)
    assert last["requests"].to_list() == [12_000, 12_000]
    # growth_pct: 12,000 against the mean of the 7 days before (six at 2,400, one at 12,000 for the last day)
    assert last["growth_pct"].to_list() == pytest.approx(
        [400.0, 100 * (12_000 / ((6 * 2_400 + 12_000) / 7) - 1)]
    )
    # growth_48h_pct: (r_d / r_d-7) / (r_d-2 / r_d-9) - 1
    assert last["growth_48h_pct"].to_list() == pytest.approx([400.0, 400.0])


def test_shares_new_clients_and_crowd_from_hourly_inputs():
    hours = [START + dt.timedelta(hours=i) for i in range(3)]
    traffic = pl.DataFrame(
        {
            "provider": ["anthropic"] * 3 + ["openai"] * 3,
            "period_start": hours * 2,
            "requests": [10, 30, 0, 30, 10, 0],
        }
    ).with_columns(pl.col("period_start").cast(UTC))
    first_seen = pl.DataFrame(
        {"provider": ["anthropic"], "period_start": [hours[1]], "new_clients": [4]}
    ).with_columns(pl.col("period_start").cast(UTC))
    crowd = pl.DataFrame(
        {"provider": ["anthropic", "openai"], "period_start": [hours[0]] * 2, "crowd_reports": [300.0, 100.0]}
    ).with_columns(pl.col("period_start").cast(UTC))
    signals = build_migration_signals(traffic, first_seen, crowd, None)
    hourly = signals.filter((pl.col("grain") == "hour") & (pl.col("provider") == "anthropic")).sort(
        "period_start"
    )
    assert hourly["traffic_share"].to_list() == [0.25, 0.75, None]
    assert hourly["new_clients"].to_list() == [0, 4, 0]
    assert hourly["crowd_share"].to_list() == [0.75, None, None]
    daily = signals.filter((pl.col("grain") == "day") & (pl.col("provider") == "anthropic")).row(
        0, named=True
    )
    assert (daily["requests"], daily["new_clients"], daily["traffic_share"]) == (40, 4, 0.5)
    assert signals.schema == pl.Schema(MIGRATION_SCHEMA)


def test_rank_changes_and_days_at_number_one():
    days = [dt.date(2026, 2, 20) + dt.timedelta(days=i) for i in range(10)]
    us = [9, 6, 4, 2, 1, 1, None, 1, 2, 1]  # day 7 missing (not fetched)
    ranks = pl.DataFrame(
        {
            "provider": "anthropic",
            "day": [d for d, r in zip(days, us) if r is not None] + [days[0]],
            "country": ["us"] * 9 + ["gb"],
            "chart": "top-free",
            "best_rank": [r for r in us if r is not None] + [3],
        }
    )
    signals = build_migration_signals(None, None, None, ranks)
    rows = signals.filter(pl.col("country") == "us").sort("period_start")
    assert rows["grain"].unique().to_list() == ["day"]
    assert rows["best_rank"].to_list() == us
    assert rows["rank_change_1d"].to_list() == [None, 3, 2, 2, 1, 0, None, None, -1, 1]
    assert rows["rank_change_7d"].to_list() == [None] * 7 + [8, 4, 3]
    assert rows["days_at_1"].to_list() == [0, 0, 0, 0, 1, 2, 2, 3, 3, 4]
    first = dt.date(2026, 2, 24)
    assert rows["first_day_at_1"].to_list() == [None] * 4 + [first] * 6
    gb = signals.filter(pl.col("country") == "gb")
    assert gb.height == 10 and gb["days_at_1"].max() == 0 and gb["first_day_at_1"].null_count() == 10


def test_sql_aggregates_over_the_minute_sli_and_request_logs(tmp_path):
    """Hourly traffic sums the minute SLI (built here by its own SQL from the same rows); new clients take
    each client's earliest per-day first request: both bucket by UTC hour whatever the session's time zone."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE staging.request_logs (day DATE, ts TIMESTAMPTZ, provider VARCHAR, client_id VARCHAR, "
        "status INT, latency_ms DOUBLE, error_type VARCHAR)"
    )
    rows = [
        ("2026-03-01", "2026-03-01 10:05:00+00", "anthropic", "c1", 200),
        ("2026-03-01", "2026-03-01 10:59:59+00", "anthropic", "c2", 529),
        ("2026-03-01", "2026-03-01 11:00:00+00", "anthropic", "c1", 200),
        ("2026-03-01", "2026-03-01 12:30:00+05:30", "openai", "c9", 200),  # = 07:00 UTC
        ("2026-03-02", "2026-03-02 00:10:00+00", "anthropic", "c3", 200),
    ]
    con.executemany("INSERT INTO staging.request_logs VALUES (?, ?, ?, ?, ?, NULL, NULL)", rows)
    replace_table(con, "marts.provider_minute_sli", compute_minute_sli(con, ["2026-03-01", "2026-03-02"]))
    con.execute("CREATE TABLE staging.request_log_clients (day DATE, provider VARCHAR, client_id VARCHAR, "
                "first_ts TIMESTAMPTZ)")
    first_requests = [  # each client's first request per day: the rows above, plus c1 back on 03-02
        ("2026-03-01", "anthropic", "c1", "2026-03-01 10:05:00+00"),
        ("2026-03-01", "anthropic", "c2", "2026-03-01 10:59:59+00"),
        ("2026-03-01", "openai", "c9", "2026-03-01 12:30:00+05:30"),
        ("2026-03-02", "anthropic", "c3", "2026-03-02 00:10:00+00"),
        ("2026-03-02", "anthropic", "c1", "2026-03-02 00:20:00+00"),
    ]
    con.executemany("INSERT INTO staging.request_log_clients VALUES (?, ?, ?, ?)", first_requests)
    con.execute("SET TimeZone = 'America/Los_Angeles'")  # hour buckets must still be UTC
    inputs = read_inputs(con)
    con.close()
    traffic = inputs["traffic"].sort("provider", "period_start")
    assert traffic.rows() == [
        ("anthropic", dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC), 2),
        ("anthropic", dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC), 1),
        ("anthropic", dt.datetime(2026, 3, 2, 0, tzinfo=dt.UTC), 1),
        ("openai", dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC), 1),
    ]
    first = inputs["first_seen"].sort("provider", "period_start")
    assert first.rows() == [
        (
            "anthropic",
            dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC),
            2,
        ),  # c1 and c2; c1 again at 11:00 is not new
        ("anthropic", dt.datetime(2026, 3, 2, 0, tzinfo=dt.UTC), 1),  # c3; c1 was first seen on 03-01
        ("openai", dt.datetime(2026, 3, 1, 7, tzinfo=dt.UTC), 1),
    ]
    assert inputs["crowd"] is None and inputs["ranks"] is None


def _prefill(con: duckdb.DuckDBPyConnection) -> None:
    """Small staging and mart tables, as the upstream assets would leave them (three weeks, three providers;
    anthropic's traffic runs at 5x over the last 48 h and fails 40 % for four hours the day before the end)."""
    rng = np.random.default_rng(5)
    start = dt.datetime(2026, 2, 10, tzinfo=dt.UTC)
    hours = 21 * 24
    logs, minutes = [], []
    for provider, rate in (("anthropic", 6), ("openai", 9), ("google", 3)):
        h = np.arange(hours)
        n = rng.poisson(rate * (1 + 4 * (provider == "anthropic") * (h > hours - 48)))
        bad = (provider == "anthropic") & (h > hours - 24) & (h < hours - 20)
        fails = rng.binomial(n, np.where(bad, 0.4, 0.02))
        at = [start + dt.timedelta(hours=int(i)) for i in h]
        minutes.append(
            pl.DataFrame(
                {
                    "provider": provider,
                    "minute": at,
                    "requests": np.maximum(n, 1),
                    "errors_5xx": 0,
                    "errors_529": fails,
                    "errors_429": 0,
                    "timeouts": 0,
                    "error_ratio": fails / np.maximum(n, 1),
                    "latency_p50_ms": 800.0,
                    "latency_p95_ms": 1_500.0,
                }
            )
        )
        row_hour = np.repeat(h, n)
        k = np.concatenate([np.arange(c) for c in n])
        logs.append(
            pl.DataFrame(
                {
                    "ts": [
                        start + dt.timedelta(hours=int(i), minutes=int(j % 60)) for i, j in zip(row_hour, k)
                    ],
                    "provider": provider,
                    "client_id": [f"{provider}-c{rng.integers(0, 40 + i // 5)}" for i in row_hour],
                    "status": np.where(k < np.repeat(fails, n), 529, 200),
                }
            ).with_columns(day=pl.col("ts").dt.date())
        )
    frames = {
        "staging.request_logs": pl.concat(logs),
        "staging.request_log_clients": pl.concat(logs)
        .group_by("day", "provider", "client_id")
        .agg(first_ts=pl.col("ts").min()),
        "marts.provider_minute_sli": pl.concat(minutes),
        "staging.crowd_reports": pl.DataFrame(
            {
                "ts": [start + dt.timedelta(hours=h) for h in range(hours)] * 2,
                "provider": ["anthropic"] * hours + ["openai"] * hours,
                "country": "us",
                "reports": rng.poisson(20, 2 * hours),
            }
        ),
        "staging.app_ranks": pl.DataFrame(
            {
                "day": [(start + dt.timedelta(days=d)).date() for d in range(21)] * 2,
                "country": "us",
                "chart": "top-free",
                "rank": [max(1, 10 - d) for d in range(21)] + [1 + (d > 15) for d in range(21)],
                "provider": ["anthropic"] * 21 + ["openai"] * 21,
            }
        ),
        "marts.incidents": pl.DataFrame(
            {"provider": ["anthropic"], "incident_id": ["inc1"], "capabilities": [["consumer_app", "api"]]}
        ),
    }
    crash = start + dt.timedelta(hours=hours - 24)
    frames["marts.incident_reconciliation"] = pl.DataFrame(
        {
            "group_id": ["g1"],
            "provider": ["anthropic"],
            "vendor_incident_ids": [["inc1"]],
            "triangulated_start": [crash],
            "vendor_resolved_at": [crash + dt.timedelta(hours=3)],
            "telemetry_recovered_at": [crash + dt.timedelta(hours=4)],
            "under_reporting_minutes": [30],
            "classification": ["matched"],
            "peak_error_ratio": [0.4],
        }
    )
    for table, frame in frames.items():
        replace_table(con, table, frame)


def test_assets_materialise_on_prefilled_tables(workspace):
    import dagster as dg

    from assets.marts.correlation.assets import load_error_curve, migration_correlation
    from assets.marts.downtime_cost.assets import downtime_cost
    from assets.marts.failover.assets import failover_simulation
    from assets.marts.migration.assets import migration_signals

    with workspace.warehouse() as con:
        _prefill(con)
    result = dg.materialize(
        [migration_signals, migration_correlation, load_error_curve, downtime_cost, failover_simulation],
        resources={"workspace": workspace},
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 5
    assert all(check.passed for check in checks), [c.check_name for c in checks if not c.passed]
    with workspace.warehouse(read_only=True) as con:
        counts = {
            table: con.sql(f"SELECT count(*) FROM marts.{table}").fetchall()[0][0]
            for table in (
                "migration_signals",
                "migration_correlation",
                "load_error_curve",
                "downtime_cost",
                "failover_simulation",
            )
        }
        growth = con.sql(
            "SELECT max(growth_48h_pct) FROM marts.migration_signals WHERE grain = 'hour' AND provider = 'anthropic'"
        ).fetchall()[0][0]
    assert counts["migration_correlation"] == 3 * 16
    assert counts["load_error_curve"] == 30
    assert counts["failover_simulation"] == 9
    assert counts["downtime_cost"] > 0 and counts["migration_signals"] > 21 * 24 * 3
    assert growth > 100  # the last 48 hours run at 5x


# -- a run of a window: the rows from its start on equal a rebuild's ------------------------------------------

EDGE_START = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)
EDGE_DAYS = 40  # up to 2026-02-28


def _edge_world(con: duckdb.DuckDBPyConnection) -> None:
    """Inputs where the history outside the look-back shapes the window's rows: google's traffic stops on
    02-10 (its zero rows go on), anthropic is silent 02-14..02-17 (the grid must still start at `since`),
    openai has crowd reports only (first active from them), clients first seen long ago come back, and
    days at #1 (and one rank series) lie before the look-back."""
    rng = np.random.default_rng(11)
    hours = [EDGE_START + dt.timedelta(hours=h) for h in range(EDGE_DAYS * 24)]
    silent = (dt.datetime(2026, 2, 14, tzinfo=dt.UTC), dt.datetime(2026, 2, 18, tzinfo=dt.UTC))
    minutes = pl.DataFrame({
        "provider": ["anthropic"] * len(hours) + ["google"] * len(hours),
        "minute": hours * 2,
        "requests": rng.poisson(30, 2 * len(hours)),
    }).filter(
        ~((pl.col("provider") == "anthropic") & pl.col("minute").is_between(*silent, closed="left"))
        & ~((pl.col("provider") == "google") & (pl.col("minute") >= dt.datetime(2026, 2, 10, tzinfo=dt.UTC)))
    ).with_columns(errors_5xx=0, errors_529=0, errors_429=0, timeouts=0, error_ratio=0.0)
    clients = pl.DataFrame({
        "day": [h.date() for h in hours[::24]] * 3,
        "provider": ["anthropic"] * EDGE_DAYS * 3,
        "client_id": [f"c{d % 9}" for d in range(EDGE_DAYS)] + [f"n{d}" for d in range(EDGE_DAYS)]
        + [f"c{d % 4}" for d in range(EDGE_DAYS)],
        "first_ts": [h + dt.timedelta(minutes=7) for h in hours[::24]] * 3,
    })
    crowd = pl.DataFrame({
        "ts": hours[24 * 3:], "provider": "openai", "country": "us",
        "reports": rng.poisson(4, len(hours) - 72),
    })
    days = [(EDGE_START + dt.timedelta(days=d)).date() for d in range(EDGE_DAYS)]
    ranks = pl.DataFrame({
        "day": days * 2 + days[:10], "country": ["us"] * (2 * EDGE_DAYS) + ["jp"] * 10, "chart": "top-free",
        "provider": ["anthropic"] * EDGE_DAYS + ["openai"] * EDGE_DAYS + ["openai"] * 10,
        "rank": [1 if d % 6 == 0 else 2 + d % 5 for d in range(EDGE_DAYS)] + [3 + d % 2 for d in range(EDGE_DAYS)]
        + [1] * 10,
    })
    for table, frame in {"marts.provider_minute_sli": minutes, "staging.request_log_clients": clients,
                         "staging.crowd_reports": crowd, "staging.app_ranks": ranks}.items():
        replace_table(con, table, frame)


@pytest.mark.parametrize("window_start", ["2026-02-25", "2026-02-16", "2026-01-22", "2026-02-28", "2026-03-05"])
def test_rows_of_a_window_from_its_look_back_and_history_equal_the_rebuild(tmp_path, window_start):
    from assets.marts.migration.inputs import history_before
    from assets.marts.migration.signals import LOOK_BACK

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("SET TimeZone = 'UTC'; CREATE SCHEMA staging; CREATE SCHEMA marts")
    _edge_world(con)
    start = dt.datetime.fromisoformat(window_start).replace(tzinfo=dt.UTC)
    full = build_migration_signals(*read_inputs(con).values()).filter(pl.col("period_start") >= start)
    since = start - LOOK_BACK
    recent = read_inputs(con, since)
    windowed = build_migration_signals(*recent.values(), history_before(con, since))
    assert_frame_equal(windowed.filter(pl.col("period_start") >= start), full)
    if window_start == "2026-02-25":
        # what the history adds: google's zero rows, old clients not new, days at #1 before the look-back
        daily = full.filter(pl.col("country").is_null(), grain="day")
        assert daily.filter(provider="google")["requests"].to_list() == [0, 0, 0, 0]
        assert daily.filter(provider="anthropic")["new_clients"].to_list() == [1, 1, 1, 1]
        days_at_1 = full.filter(provider="anthropic", country="us")["days_at_1"].to_list()
        assert days_at_1 == [7, 7, 7, 7] and full.filter(country="jp")["days_at_1"].to_list() == [10] * 4
        naive = build_migration_signals(*recent.values()).filter(pl.col("period_start") >= start)
        assert not naive.equals(full)  # without the history the window's rows would be wrong


def test_a_windowed_run_rewrites_its_window_and_keeps_earlier_rows(workspace):
    import dagster as dg

    from assets.marts.migration.assets import migration_signals
    from pipelines.core.window import Window

    def run(window: Window | None = None) -> pl.DataFrame:
        result = dg.materialize([migration_signals], resources={"workspace": workspace},
                                tags=window.tags() if window else None)
        assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
        with workspace.warehouse(read_only=True) as con:
            return con.sql("SELECT * FROM marts.migration_signals ORDER BY ALL").pl()

    with workspace.warehouse() as con:
        _edge_world(con)
    rebuilt = run()
    with workspace.warehouse() as con:  # a changed old hour: only a rebuild would see it
        con.execute("UPDATE marts.provider_minute_sli SET requests = requests + 1000 WHERE minute < '2026-01-25'")
    windowed = run(Window(dt.date(2026, 2, 25), dt.date(2026, 2, 28), "run"))
    assert windowed.equals(rebuilt)
    assert not run().equals(rebuilt)
