"""A run that names its window recomputes the marts from the window's start, reading only the look-back.

Each look-back is checked on both sides: a change older than it moves nothing in the window, a change
inside it does; earlier rows stay as written; a window over the whole history equals a full rebuild.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest

from assets.marts.correlation.span import lagged_span
from assets.marts.episodes.assets import crowd_baseline, telemetry_episodes_asset
from assets.marts.episodes.crowd import crowd_look_back_start
from assets.marts.slo.alerts import alert_input_columns, candidate_filter, compute_slo_alerts
from assets.marts.slo.assets import slo_alerts, slo_burn
from pipelines.core import tables
from pipelines.core.frames import to_utc
from pipelines.core.since import read_since
from pipelines.core.warehouse import read_table, replace_table, stable_floats
from pipelines.core.window import Window

UTC = dt.UTC
DAY = dt.timedelta(days=1)


def day(date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(), tzinfo=UTC)


def materialize(workspace, assets, window: Window | None = None) -> None:
    result = dg.materialize(assets, resources={"workspace": workspace}, tags=window.tags() if window else None)
    assert result.success


def read(workspace, table: dg.AssetKey, since: dt.datetime | None = None) -> pl.DataFrame:
    with workspace.warehouse() as con:
        frame = to_utc(read_table(con, table))
    column = "bin_start" if table == tables.CROWD_BASELINE else "minute"
    return frame.filter(pl.col(column) >= since) if since is not None else frame


# -- SLO burn: a 30-day look-back, exact -------------------------------------------------------------------

FIRST_MINUTE = dt.datetime(2026, 2, 1, tzinfo=UTC)
LAST_DAY = dt.date(2026, 3, 10)  # 38 days of minutes; the window is the last one


def minute_sli(bursts: dict[dt.datetime, int]) -> pl.DataFrame:
    """anthropic, 20 requests a minute (a weekly-ish wobble), 5xx bursts of `bursts[start]` errors for 20 minutes."""
    minutes = pl.datetime_range(FIRST_MINUTE, day(LAST_DAY) + DAY - dt.timedelta(minutes=1), "1m",
                                time_zone="UTC", eager=True)
    errors = np.zeros(len(minutes), dtype=np.int64)
    for start, count in bursts.items():
        first = int((start - FIRST_MINUTE).total_seconds() // 60)
        errors[first:first + 20] = count
    requests = 20 + (np.arange(len(minutes)) // 1000) % 7
    zeros = np.zeros(len(minutes), dtype=np.int64)
    return pl.DataFrame({
        "provider": "anthropic", "minute": minutes.dt.cast_time_unit("us"), "requests": requests,
        "ok": requests - errors, "errors_5xx": errors, "errors_529": zeros, "errors_429": zeros, "timeouts": zeros,
        "errors_4xx_other": zeros, "errors_other": zeros, "error_ratio": errors / requests,
    })


def write_sli(workspace, frame: pl.DataFrame) -> None:
    with workspace.warehouse() as con:
        replace_table(con, tables.MINUTE_SLI, frame)


def test_slo_burn_of_a_window_equals_the_full_rebuild_and_ignores_minutes_older_than_30_days(workspace):
    window = Window(LAST_DAY, LAST_DAY, "run")
    start = day(LAST_DAY)
    in_window = {start + dt.timedelta(hours=12): 15}  # pages at the end of the window (ongoing)
    write_sli(workspace, minute_sli(in_window))
    materialize(workspace, [slo_burn, slo_alerts])
    full = read(workspace, tables.SLO_BURN)
    full_alerts = read(workspace, tables.SLO_ALERTS)

    # A burst 31 days before the window: outside every rolling window of the window's minutes.
    old = start - dt.timedelta(days=31)
    write_sli(workspace, minute_sli({**in_window, old: 15}))
    materialize(workspace, [slo_burn, slo_alerts], window)
    after_old = read(workspace, tables.SLO_BURN)
    assert after_old.equals(full)  # window minutes as a rebuild gives them; earlier minutes as written
    assert read(workspace, tables.SLO_ALERTS).equals(full_alerts)

    # A burst 29 days before: inside the 30-day budget of every window minute, so they all move.
    recent = start - dt.timedelta(days=29)
    write_sli(workspace, minute_sli({**in_window, old: 15, recent: 15}))
    materialize(workspace, [slo_burn], window)
    moved = read(workspace, tables.SLO_BURN, start)
    before = full.filter(pl.col("minute") >= start)
    assert (moved["budget_consumed_requests_30d"] - before["budget_consumed_requests_30d"] == 300).all()
    # ... and equal to a rebuild from everything, minute for minute.
    materialize(workspace, [slo_burn])
    assert read(workspace, tables.SLO_BURN, start).equals(moved)
    # Minutes before the window were not rewritten by the windowed run: the 31-day-old burst is only in the rebuild.
    assert read(workspace, tables.SLO_BURN).height == full.height


def test_slo_alerts_from_candidate_minutes_equal_alerts_from_every_minute(workspace):
    start = day(LAST_DAY)
    bursts = {start - dt.timedelta(days=3): 4, start - dt.timedelta(days=1, hours=5): 15,
              start + dt.timedelta(hours=23, minutes=40): 15}  # the last one runs to the end of the data
    write_sli(workspace, minute_sli(bursts))
    materialize(workspace, [slo_burn, slo_alerts])
    burn = read(workspace, tables.SLO_BURN)
    expected = stable_floats(tables.SLO_ALERTS, compute_slo_alerts(burn))
    alerts = read(workspace, tables.SLO_ALERTS)
    assert alerts.sort(alerts.columns).equals(expected.sort(expected.columns))
    assert alerts["ongoing"].any() and not alerts["ongoing"].all() and alerts.height >= 3
    # The SQL pre-filter keeps exactly the minutes where some rule's two windows both burn too fast.
    condition, rates = candidate_filter()
    con = duckdb.connect()
    con.register("burn", burn.select(alert_input_columns()))
    kept = con.sql(f"SELECT count(*) FROM burn WHERE {condition}", params=rates).fetchall()[0][0]
    assert 0 < kept < burn.height


def test_slo_alerts_of_a_window_keep_earlier_episodes_and_recompute_the_one_crossing_into_it(workspace):
    start = day(LAST_DAY)
    bursts = {start - dt.timedelta(days=6): 15,  # ends days before the window: kept as written
              start - dt.timedelta(days=2): 15,  # its 3-day ticket keeps firing into the window
              start - dt.timedelta(minutes=10): 15}  # pages across midnight: ongoing when the day before was run
    everything = minute_sli(bursts)
    write_sli(workspace, everything.filter(pl.col("minute") < start))
    materialize(workspace, [slo_burn, slo_alerts])
    before = read(workspace, tables.SLO_ALERTS)
    assert before.filter(pl.col("ongoing") & (pl.col("ended_at") == start)).height >= 1  # open at the data's end

    write_sli(workspace, everything)
    materialize(workspace, [slo_burn, slo_alerts], Window(LAST_DAY, LAST_DAY, "run"))
    windowed = read(workspace, tables.SLO_ALERTS)
    materialize(workspace, [slo_burn, slo_alerts])  # the rebuild from every minute
    assert windowed.equals(read(workspace, tables.SLO_ALERTS))
    crossing = windowed.filter((pl.col("started_at") < start) & (pl.col("ended_at") > start))
    assert crossing.height >= 1 and not crossing["ongoing"].any()  # recomputed whole, not cut at midnight
    assert windowed.filter(pl.col("ended_at") < start - dt.timedelta(days=3)).height >= 1  # kept as written
    assert before.filter(pl.col("started_at").is_in(crossing["started_at"].implode())).height == crossing.height


def test_telemetry_episodes_of_a_window_read_eight_days_back_and_keep_earlier_episodes(workspace):
    window = Window(LAST_DAY, LAST_DAY, "run")
    start = day(LAST_DAY)
    in_window = {start + dt.timedelta(hours=6): 15, start - dt.timedelta(days=5): 15}
    write_sli(workspace, minute_sli(in_window))
    materialize(workspace, [telemetry_episodes_asset])
    full = read(workspace, tables.TELEMETRY_EPISODES).sort("started_at")
    assert full.height == 2  # both bursts found

    # A burst 9 days before the window, beyond the 8-day look-back: the windowed run never sees it.
    write_sli(workspace, minute_sli({**in_window, start - dt.timedelta(days=9): 15}))
    materialize(workspace, [telemetry_episodes_asset], window)
    assert read(workspace, tables.TELEMETRY_EPISODES).sort("started_at").equals(full)
    materialize(workspace, [telemetry_episodes_asset])  # a rebuild does
    assert read(workspace, tables.TELEMETRY_EPISODES).height == 3


# -- crowd baseline: the 4 trailing weeks before the window's week --------------------------------------

CROWD_START = dt.date(2026, 1, 19)  # a Monday; 7 weeks up to Sunday 2026-03-08
CROWD_END = dt.date(2026, 3, 8)


def crowd_reports(boosted: tuple[dt.datetime, dt.datetime] | None = None) -> pl.DataFrame:
    """Claude US, 5-minute bins with a daily cycle and noise; reports in [from, to) of `boosted` multiplied by 5."""
    ts = pl.datetime_range(day(CROWD_START), day(CROWD_END) + DAY - dt.timedelta(minutes=5), "5m",
                           time_zone="UTC", eager=True).dt.cast_time_unit("us")
    hour = ts.dt.hour().to_numpy()
    mean = 12 * (1 + 0.5 * np.sin(2 * np.pi * (hour - 9) / 24))
    reports = np.random.default_rng(5).poisson(mean)
    frame = pl.DataFrame({"ts": ts, "service": "Claude", "provider": "anthropic", "country": "US",
                          "reports": reports, "baseline": None}, schema_overrides={"baseline": pl.Float64})
    if boosted is None:
        return frame
    inside = (pl.col("ts") >= boosted[0]) & (pl.col("ts") < boosted[1])
    return frame.with_columns(reports=pl.when(inside).then(pl.col("reports") * 5).otherwise(pl.col("reports")))


def write_crowd(workspace, frame: pl.DataFrame) -> None:
    with workspace.warehouse() as con:
        replace_table(con, tables.CROWD_REPORTS, frame)


def test_crowd_look_back_is_the_four_weeks_before_the_windows_week():
    sunday = day(CROWD_END)
    assert crowd_look_back_start(sunday) == day(dt.date(2026, 2, 2))  # Monday 2026-03-02 minus 4 weeks
    assert crowd_look_back_start(day(dt.date(2026, 3, 2))) == day(dt.date(2026, 2, 2))
    assert crowd_look_back_start(day(dt.date(2026, 3, 9))) == day(dt.date(2026, 2, 9))


def test_crowd_baseline_of_a_window_reads_only_its_look_back(workspace):
    window = Window(CROWD_END, CROWD_END, "run")
    start, look_back = day(CROWD_END), crowd_look_back_start(day(CROWD_END))
    write_crowd(workspace, crowd_reports())
    materialize(workspace, [crowd_baseline])
    full = read(workspace, tables.CROWD_BASELINE)
    assert full.height == 49 * 288
    materialize(workspace, [crowd_baseline], window)
    windowed = read(workspace, tables.CROWD_BASELINE, start)

    # Reports older than the look-back, five times as many: the window's bins do not move, earlier bins stay.
    write_crowd(workspace, crowd_reports(boosted=(day(CROWD_START), look_back)))
    materialize(workspace, [crowd_baseline], window)
    assert read(workspace, tables.CROWD_BASELINE, start).equals(windowed)
    assert read(workspace, tables.CROWD_BASELINE).filter(pl.col("bin_start") < start).equals(
        full.filter(pl.col("bin_start") < start))

    # The two oldest weeks of the look-back, five times as many: inside it, so every expected count moves.
    write_crowd(workspace, crowd_reports(boosted=(look_back, look_back + dt.timedelta(weeks=2))))
    materialize(workspace, [crowd_baseline], window)
    moved = read(workspace, tables.CROWD_BASELINE, start)
    assert (moved["expected"] > windowed["expected"]).all()


def test_crowd_baseline_over_the_whole_history_equals_the_rebuild(workspace):
    write_crowd(workspace, crowd_reports())
    materialize(workspace, [crowd_baseline])
    full = read(workspace, tables.CROWD_BASELINE)
    materialize(workspace, [crowd_baseline], Window(CROWD_START, CROWD_END, "run"))
    assert read(workspace, tables.CROWD_BASELINE).equals(full)


# -- migration correlation: the window +-72 h --------------------------------------------------------------

def test_correlation_reads_the_window_widened_by_the_largest_lag():
    window = Window(dt.date(2026, 3, 10), dt.date(2026, 3, 10), "run")
    assert lagged_span(window, 72) == (day(dt.date(2026, 3, 7)), day(dt.date(2026, 3, 14)))
    assert lagged_span(Window(window.start, window.end, "config"), 72) is None  # no named window: every hour


@pytest.mark.parametrize("span_days", [None, (7, 14)])
def test_read_since_until_keeps_the_span_only(workspace, span_days):
    hours = pl.datetime_range(day(dt.date(2026, 3, 1)), day(dt.date(2026, 3, 20)), "1h", time_zone="UTC",
                              eager=True).dt.cast_time_unit("us")
    with workspace.warehouse() as con:
        replace_table(con, tables.MINUTE_SLI, pl.DataFrame({"provider": "anthropic", "minute": hours}))
        span = None if span_days is None else tuple(day(dt.date(2026, 3, d)) for d in span_days)
        rows = to_utc(read_since(con, tables.MINUTE_SLI, "minute", "minute", *(span or (None, None))))["minute"]
    if span is None:
        assert rows.len() == hours.len()
    else:
        assert (rows.min(), rows.max(), rows.len()) == (span[0], span[1] - dt.timedelta(hours=1), 7 * 24)
