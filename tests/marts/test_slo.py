"""SLO burn rates, SRE-workbook alerts, error budgets and telemetry episodes on crafted minute series."""

import datetime as dt

import polars as pl
import pytest

from assets.marts.episodes.telemetry import TELEMETRY_EPISODES_SCHEMA, telemetry_episodes
from assets.marts.slo.alerts import ALERT_RULES, compute_slo_alerts
from assets.marts.slo.budget import compute_slo_budget
from assets.marts.slo.burn import compute_slo_burn
from pipelines.core.minute_sli import dense_minutes

UTC = dt.UTC
START = dt.datetime(2026, 3, 1, tzinfo=UTC)


def minute_series(
    provider: str,
    minutes: int,
    requests,
    errors_529=None,
    errors_5xx=None,
    timeouts=None,
    errors_429=None,
    start: dt.datetime = START,
) -> pl.DataFrame:
    """A minute-SLI frame; each count is a constant or a function of the minute index."""

    def values(spec) -> list[int]:
        if spec is None:
            return [0] * minutes
        return [spec(i) if callable(spec) else spec for i in range(minutes)]

    frame = pl.DataFrame(
        {
            "provider": [provider] * minutes,
            "minute": [start + dt.timedelta(minutes=i) for i in range(minutes)],
            "requests": values(requests),
            "errors_529": values(errors_529),
            "errors_5xx": values(errors_5xx),
            "timeouts": values(timeouts),
            "errors_429": values(errors_429),
            "errors_4xx_other": values(None),
            "errors_other": values(None),
        }
    ).with_columns(pl.col("minute").cast(pl.Datetime("us", "UTC")))
    bad = pl.col("errors_529") + pl.col("errors_5xx") + pl.col("timeouts")
    return frame.with_columns(
        ok=pl.col("requests") - bad - pl.col("errors_429"),
        error_ratio=bad / pl.col("requests"),
    ).filter(pl.col("requests") > 0)


def at(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


# Three days of 100 requests a minute (2026-03-01 00:00 .. 03-03 23:59). Anthropic has a 20-minute
# spell of 10 errors a minute (10%) on 03-03 from 12:00 to 12:19; openai never fails. Target 0.999, so
# the error budget is 0.001 and a minute at 10% burns at 100x.
# (The brief's "2%" would burn at 20x, but 20 spell minutes can lift the 1h window only to
#  20 x 2 / 6000 / 0.001 = 6.7 < 14.4, so it could never page; 10% makes the rule fire.)
#
# Rule 1h/5m@14.4, k = spell minutes inside the window:
#   burn(1h) = 10k / 6000 / 0.001 = 1.667k  -> > 14.4 from k = 9, i.e. 12:08 (12:07 gives 13.3).
#   burn(5m) = 10 min(k,5) / 500 / 0.001 = 20 min(k,5) -> > 14.4 from 12:00 on.
#   After the spell, burn(1h) stays 33.3 for an hour; burn(5m) at 12:20+j-1 (j = 1..) holds 5-j spell
#   minutes = 20(5-j): 80, 60, 40, 20 at 12:20..12:23, then 0 at 12:24.
#   => one page episode started_at 12:08, last firing minute 12:23, ended_at 12:24, 16 minutes,
#      peak burn(1h) = 200 / 6000 / 0.001 = 33.3.
# Rule 6h/30m@6: burn(6h) peaks at 200 / 36000 / 0.001 = 5.6 <= 6 -> never fires.
# Rule 1d/2h@3: burn(1d) peaks at 200 / 144000 / 0.001 = 1.39 <= 3 -> never fires.
# Rule 3d/6h@1: burn(6h) = 5.6 > 1 but the 3d window (data since 03-01 00:00, >= 3620 minutes by then)
#   burns at most 200 / 362000 / 0.001 = 0.55 <= 1 -> never fires.
SPELL_START = 2 * 1440 + 12 * 60
TARGETS = {"anthropic": 0.999, "openai": 0.999}


@pytest.fixture(scope="module")
def spell_sli() -> pl.DataFrame:
    return pl.concat(
        [
            minute_series(
                "anthropic",
                3 * 1440,
                100,
                errors_529=lambda i: 10 if SPELL_START <= i < SPELL_START + 20 else 0,
            ),
            minute_series("openai", 3 * 1440, 100),
        ]
    )


@pytest.fixture(scope="module")
def spell_burn(spell_sli: pl.DataFrame) -> pl.DataFrame:
    return compute_slo_burn(spell_sli, TARGETS)


def test_burn_rates_by_hand(spell_burn: pl.DataFrame) -> None:
    anthropic = spell_burn.filter(provider="anthropic")
    assert anthropic.height == 3 * 1440
    row = anthropic.filter(pl.col("minute") == at(3, 12, 8)).row(0, named=True)
    assert row["error_budget"] == pytest.approx(0.001)
    assert row["bad_requests"] == 10 and row["good_requests"] == 90
    assert row["burn_rate_1h"] == pytest.approx(15.0)
    assert row["burn_rate_5m"] == pytest.approx(100.0)
    assert row["burn_rate_30m"] == pytest.approx(90 / 3000 / 0.001)
    before = anthropic.filter(pl.col("minute") == at(3, 12, 7)).row(0, named=True)
    assert before["burn_rate_1h"] == pytest.approx(80 / 6000 / 0.001)


def test_page_rule_fires_for_the_right_minutes_only(spell_burn: pl.DataFrame) -> None:
    alerts = compute_slo_alerts(spell_burn)
    assert alerts.height == 1
    alert = alerts.row(0, named=True)
    assert alert["provider"] == "anthropic"
    assert (alert["rule"], alert["severity"]) == ("1h/5m@14.4", "page")
    assert alert["started_at"] == at(3, 12, 8)
    assert alert["ended_at"] == at(3, 12, 24)
    assert alert["minutes"] == 16
    assert alert["peak_burn_rate"] == pytest.approx(200 / 6000 / 0.001)
    assert alert["ongoing"] is False
    assert "3d/6h@1" not in alerts["rule"].to_list()
    assert [r.name for r in ALERT_RULES] == ["1h/5m@14.4", "6h/30m@6", "1d/2h@3", "3d/6h@1"]


def test_flapping_minutes_make_separate_episodes_and_open_one_is_ongoing() -> None:
    # 100 requests a minute; 50% errors in minutes 10-14 and from 20 to the end of the data (29).
    # burn(1h) > 14.4 from minute 10 on (50 / 1100 / 0.001 = 45). burn(5m) covers t-4..t, so it stays
    # > 14.4 until minute 18 (window 14..18) and is 0 at minute 19 (window 15..19): the 1h/5m rule
    # fires 10..18 (ended_at 19, 9 minutes), is quiet at 19, fires again 20..29 and is still ongoing.
    sli = minute_series("anthropic", 30, 100, errors_5xx=lambda i: 50 if 10 <= i < 15 or i >= 20 else 0)
    alerts = compute_slo_alerts(compute_slo_burn(sli, {"anthropic": 0.999})).filter(rule="1h/5m@14.4")
    assert alerts.select("started_at", "ended_at", "minutes", "ongoing").rows() == [
        (START + dt.timedelta(minutes=10), START + dt.timedelta(minutes=19), 9, False),
        (START + dt.timedelta(minutes=20), START + dt.timedelta(minutes=30), 10, True),
    ]


def test_budget_remaining_by_hand(spell_sli: pl.DataFrame, spell_burn: pl.DataFrame) -> None:
    # At the last minute the 30-day window holds all 3 days: 432,000 requests, 200 bad.
    # Allowed bad = 0.001 x 432,000 = 432; remaining = 232 requests = 232 / 432 = 53.7% of the budget.
    last = spell_burn.filter(provider="anthropic").sort("minute").row(-1, named=True)
    assert last["requests_30d"] == 432_000
    assert last["error_budget_requests_30d"] == pytest.approx(432.0)
    assert last["budget_consumed_requests_30d"] == 200
    assert last["budget_remaining_requests_30d"] == pytest.approx(232.0)
    assert last["budget_consumed_fraction_30d"] == pytest.approx(200 / 432)
    assert last["budget_remaining_fraction_30d"] == pytest.approx(232 / 432)

    budget = compute_slo_budget(spell_sli, TARGETS)
    assert budget.filter(provider="anthropic")["period"].to_list() == ["2026-03", "window"]
    window = budget.filter(provider="anthropic", period="window").row(0, named=True)
    assert (window["period_start"], window["period_end"]) == (dt.date(2026, 3, 1), dt.date(2026, 3, 3))
    assert window["availability"] == pytest.approx(1 - 200 / 432_000)
    assert window["budget_used_pct"] == pytest.approx(200 / 432 * 100)
    assert window["budget_remaining_requests"] == pytest.approx(232.0)
    assert window["slo_met"] is True
    assert budget.filter(provider="openai", period="window")["budget_used_pct"][0] == 0.0


def test_budget_window_rolls_off_after_30_days_and_months_split() -> None:
    # Two single busy minutes 31 days apart (Feb 27 and Mar 30): the second minute's 30-day window no
    # longer holds the first one's errors. 429s are ours: they never spend the provider's budget.
    first = minute_series(
        "openai", 1, 1000, errors_5xx=10, errors_429=100, start=dt.datetime(2026, 2, 27, tzinfo=UTC)
    )
    second = minute_series("openai", 1, 1000, errors_5xx=1, start=dt.datetime(2026, 3, 30, tzinfo=UTC))
    sli = pl.concat([first, second])
    burn = compute_slo_burn(sli, {"openai": 0.99})
    assert burn.height == 31 * 1440 + 1  # dense grid between the two minutes
    last = burn.sort("minute").row(-1, named=True)
    assert last["requests_30d"] == 1000 and last["budget_consumed_requests_30d"] == 1
    assert last["budget_remaining_fraction_30d"] == pytest.approx(1 - 1 / 10)
    idle = burn.filter(pl.col("minute") == dt.datetime(2026, 3, 1, tzinfo=UTC)).row(0, named=True)
    assert idle["requests"] == 0 and idle["error_ratio"] is None and idle["burn_rate_5m"] is None
    assert idle["requests_30d"] == 1000  # Feb 27 is still inside this minute's 30 days

    budget = compute_slo_budget(sli, {"openai": 0.99})
    months = budget.filter(period_kind="month").select("period", "bad_requests", "budget_used_pct").rows()
    assert months == [("2026-02", 10, pytest.approx(100.0)), ("2026-03", 1, pytest.approx(10.0))]
    feb = budget.filter(period="2026-02").row(0, named=True)
    assert feb["period_end"] == dt.date(2026, 2, 28) and feb["errors_429"] == 100
    assert feb["availability"] == pytest.approx(0.99) and feb["slo_met"] is True


def test_providers_without_a_target_are_dropped() -> None:
    sli = minute_series("mystery", 5, 10)
    assert compute_slo_burn(sli, {"openai": 0.99}).height == 0
    assert compute_slo_budget(sli, {"openai": 0.99}).height == 0


# --- telemetry episodes ---------------------------------------------------------------------------------
# Eight days at 100 requests a minute, 1% 5xx background (threshold 0.05). Planted on day 8 (03-08):
#   13:00, 13:02, 13:04 breach (3 of 5, not consecutive)          -> the episode starts at 13:00
#   13:05 .. 13:19 breach at 30% (529s) with 13:21 the peak at 60%  (13:20 is healthy: a 1-minute gap)
#   13:21, 13:22 breach, then 13:23 .. 13:27 healthy (a 5-minute gap: tolerated, still one episode)
#   13:28 .. 13:30 breach                                          -> last confirmed minute 13:30
#   => started_at 13:00, ended_at 13:31, peak_at 13:21 (0.60), baseline median 0.01.
# Not episodes: 13:50 and 13:52 breach (2 of 5); 15:00 .. 15:09 at 100% errors but 10 requests a minute.
# A second episode at 18:00 .. 18:04 (timeouts), more than 5 minutes after the first -> separate.
DAY8 = 7 * 1440


def _planted(i: int) -> tuple[int, int, int, int]:
    """(requests, errors_5xx, errors_529, timeouts) for minute index i."""
    m = i - DAY8
    if m in (13 * 60, 13 * 60 + 2, 13 * 60 + 4):
        return 100, 10, 0, 0
    if 13 * 60 + 5 <= m <= 13 * 60 + 19:
        return 100, 2, 28, 0
    if m == 13 * 60 + 21:
        return 100, 0, 60, 0
    if m == 13 * 60 + 22 or 13 * 60 + 28 <= m <= 13 * 60 + 30:
        return 100, 0, 20, 0
    if m in (13 * 60 + 50, 13 * 60 + 52):
        return 100, 50, 0, 0
    if 15 * 60 <= m < 15 * 60 + 10:
        return 10, 10, 0, 0
    if 18 * 60 <= m < 18 * 60 + 5:
        return 100, 0, 0, 40
    return 100, 1, 0, 0


@pytest.fixture(scope="module")
def planted_sli() -> pl.DataFrame:
    return minute_series(
        "anthropic",
        8 * 1440,
        lambda i: _planted(i)[0],
        errors_5xx=lambda i: _planted(i)[1],
        errors_529=lambda i: _planted(i)[2],
        timeouts=lambda i: _planted(i)[3],
    )


def test_telemetry_episode_with_planted_start_and_end(planted_sli: pl.DataFrame) -> None:
    episodes = telemetry_episodes(planted_sli, {"anthropic": 0.05, "openai": 0.05})
    assert episodes.schema == pl.Schema(TELEMETRY_EPISODES_SCHEMA)
    assert episodes.height == 2
    first, second = episodes.sort("started_at").iter_rows(named=True)
    assert (first["source"], first["provider"], first["service"], first["country"]) == (
        "telemetry",
        "anthropic",
        "api",
        None,
    )
    assert first["started_at"] == at(8, 13, 0)
    assert first["ended_at"] == at(8, 13, 31)
    assert first["peak_at"] == at(8, 13, 21)
    assert first["peak_value"] == pytest.approx(0.60)
    assert first["baseline_value"] == pytest.approx(0.01)
    assert first["duration_minutes"] == 31
    # confirmed minutes: 3 + 15 + 2 + 3
    assert first["breaching_minutes"] == 23
    # errors over 13:00..13:30: 5xx = 3x10 + 15x2 + 8 healthy minutes (13:01, 13:03, 13:20, 13:23-27) x1
    # = 68; 529 = 15x28 + 60 + 4x20 = 560
    assert (first["errors_5xx"], first["errors_529"], first["timeouts"]) == (68, 560, 0)
    assert first["requests"] == 31 * 100
    assert first["share_529"] == pytest.approx(560 / 628)
    assert first["share_5xx"] == pytest.approx(68 / 628)
    assert first["dominant_error_class"] == "529"

    assert (second["started_at"], second["ended_at"]) == (at(8, 18, 0), at(8, 18, 5))
    assert second["dominant_error_class"] == "timeout" and second["share_timeouts"] == pytest.approx(1.0)


def test_telemetry_gap_longer_than_tolerated_splits_and_no_history_gives_null_baseline() -> None:
    # breaches at minutes 0-2 and 9-11: a 6-minute gap (3..8) is one more than tolerated -> two episodes.
    sli = minute_series("openai", 12, 50, errors_5xx=lambda i: 25 if i <= 2 or i >= 9 else 0)
    episodes = telemetry_episodes(sli, {"openai": 0.05})
    assert episodes.select("started_at", "ended_at").rows() == [
        (START, START + dt.timedelta(minutes=3)),
        (START + dt.timedelta(minutes=9), START + dt.timedelta(minutes=12)),
    ]
    assert episodes["baseline_value"].to_list() == [None, 0.0]  # trailing minutes 0..8 for the second
    merged = telemetry_episodes(sli, {"openai": 0.05}, max_gap_minutes=6)
    assert merged.height == 1 and merged["breaching_minutes"][0] == 6


def test_no_breach_gives_an_empty_frame_with_the_outage_columns() -> None:
    episodes = telemetry_episodes(minute_series("google", 30, 100, errors_5xx=1), {"google": 0.05})
    assert episodes.height == 0
    assert episodes.columns[:9] == [
        "source",
        "provider",
        "service",
        "country",
        "started_at",
        "peak_at",
        "ended_at",
        "peak_value",
        "baseline_value",
    ]
    assert dense_minutes(minute_series("google", 0, 100)).height == 0
