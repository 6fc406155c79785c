"""SLO burn rates, SRE-workbook alerts and error budgets on crafted minute series."""

import datetime as dt
import math

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.marts.slo.alerts import ALERT_RULES, compute_slo_alerts
from assets.marts.slo.budget import compute_slo_budget
from assets.marts.slo.burn import compute_slo_burn
from pipelines.core import tables
from pipelines.core.minute_sli import MINUTE_SLI_SCHEMA, read_daily_counts
from pipelines.core.warehouse import connect, replace_table

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


def test_budget_from_daily_sums_read_in_the_warehouse_equals_the_budget_from_minutes(tmp_path) -> None:
    # Four days across a month end with uneven traffic; the asset reads per-day sums (a year of minutes is
    # half a million rows per provider), the budget must not change by a single request.
    start = dt.datetime(2026, 2, 27, 22, 0, tzinfo=UTC)
    minutes = pl.concat([
        minute_series("openai", 4 * 1440, lambda i: 50 + i % 17, errors_5xx=lambda i: int(i % 97 == 0),
                      errors_529=lambda i: 3 * int(2000 < i < 2100), errors_429=lambda i: i % 5, start=start),
        minute_series("anthropic", 2 * 1440 + 7, lambda i: 1 + i % 3, timeouts=lambda i: int(i % 400 == 0),
                      start=start + dt.timedelta(hours=5)),
    ]).with_columns(day=pl.col("minute").dt.date(), latency_p50_ms=pl.lit(100.0), latency_p95_ms=pl.lit(300.0))
    with connect(tmp_path / "warehouse.duckdb") as con:
        replace_table(con, tables.MINUTE_SLI, minutes.select(*MINUTE_SLI_SCHEMA).cast(MINUTE_SLI_SCHEMA))
        daily = read_daily_counts(con)
    assert daily.height == 5 + 3  # provider-days with rows: 2026-02-27 .. 03-03 and 02-28 .. 03-02
    assert daily["requests"].sum() == minutes["requests"].sum()
    targets = {"openai": 0.999, "anthropic": 0.99}
    from_minutes, from_days = compute_slo_budget(minutes, targets), compute_slo_budget(daily, targets)
    assert from_minutes.filter(period="window").select("provider", "period_start", "period_end").rows() == [
        ("anthropic", dt.date(2026, 2, 28), dt.date(2026, 3, 2)), ("openai", dt.date(2026, 2, 27), dt.date(2026, 3, 3))]
    assert_frame_equal(from_days, from_minutes)


def test_providers_without_a_target_are_dropped() -> None:
    sli = minute_series("mystery", 5, 10)
    assert compute_slo_burn(sli, {"openai": 0.99}).height == 0
    assert compute_slo_budget(sli, {"openai": 0.99}).height == 0


@pytest.mark.parametrize(("bad", "fires"), [(2, False), (3, True)])
def test_no_alert_from_a_handful_of_requests(bad: int, fires: bool) -> None:
    # One request every 8 minutes, target 0.995 (budget 0.5%); the last `bad` minutes add one failing
    # request each. The last hour holds 8 + bad requests: burn(1h) = 2/10/0.005 = 40 or 3/11/0.005 = 54.5
    # and burn(5m) = 200, all far above 14.4. But P(X >= 2 | 10, 0.5%) = 1.1e-3 is no evidence at 1e-4;
    # P(X >= 3 | 11, 0.5%) = 2.0e-5 is, so only the second pages.
    minutes = 3 * 60
    sli = minute_series(
        "google",
        minutes,
        lambda i: 1 if i % 8 == 0 or i >= minutes - bad else 0,
        errors_5xx=lambda i: 1 if i >= minutes - bad else 0,
    )
    alerts = compute_slo_alerts(compute_slo_burn(sli, {"google": 0.995})).filter(rule="1h/5m@14.4")
    assert alerts.height == int(fires)
    if fires:
        tail = 1 - sum(math.comb(11, i) * 0.005**i * 0.995 ** (11 - i) for i in range(3))
        assert tail == pytest.approx(2.0e-5, rel=0.01)
        alert = alerts.row(0, named=True)
        assert alert["p_value"] == pytest.approx(tail, rel=1e-6)
        assert alert["confidence"] == pytest.approx(1 - tail)
        assert alert["started_at"] == START + dt.timedelta(minutes=minutes - 1)
