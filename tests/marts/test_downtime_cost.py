"""Downtime cost on a hand-computed example: three incidents, two providers, base scenario, to the cent."""

import datetime as dt

import polars as pl
import pytest

from assets.marts.downtime_cost.mart import build_downtime_cost
from assets.marts.downtime_cost.schema import DOWNTIME_COST_SCHEMA
from assets.marts.downtime_cost.windows import incident_windows
from pipelines.core.cost_model import CostModel

UTC = pl.Datetime("us", "UTC")


def r(low: float, base: float, high: float) -> dict:
    return {"low": low, "base": base, "high": high}


def hand_model() -> CostModel:
    tiers = [
        {"availability_below_pct": 99.9, "credit_pct": 10},
        {"availability_below_pct": 99.0, "credit_pct": 25},
    ]
    return CostModel.model_validate(
        {
            "request_category": "api",
            "failed_request_value_usd": {"api": r(0.05, 0.10, 0.20)},
            "retry": {"retries_per_failed_request": r(1, 2, 3), "tokens_per_retry": r(500, 1000, 2000)},
            "categories": {
                "api": {
                    "loaded_hourly_cost_usd": r(80, 100, 150),
                    "productivity_loss_fraction": r(0.25, 0.5, 0.75),
                },
                "consumer_app": {
                    "loaded_hourly_cost_usd": r(40, 50, 60),
                    "productivity_loss_fraction": r(0.1, 0.2, 0.3),
                },
                "coding_agent": {
                    "loaded_hourly_cost_usd": r(100, 120, 140),
                    "productivity_loss_fraction": r(0.2, 0.25, 0.3),
                },
            },
            "providers": {
                "anthropic": {
                    "token_price_usd_per_1k": r(0.005, 0.01, 0.02),
                    "price_per_request_usd": r(0.01, 0.02, 0.03),
                    "seats": {
                        "api": r(5, 10, 20),
                        "consumer_app": r(50, 100, 200),
                        "coding_agent": r(20, 40, 80),
                    },
                    "sla": {"monthly_spend_usd": r(5_000, 10_000, 20_000), "credits": tiers},
                },
                "openai": {
                    "token_price_usd_per_1k": r(0.002, 0.005, 0.01),
                    "price_per_request_usd": r(0.005, 0.01, 0.02),
                    "seats": {"api": r(2, 5, 10), "consumer_app": r(100, 200, 300)},
                    "sla": {"monthly_spend_usd": r(10_000, 20_000, 40_000), "credits": tiers},
                },
            },
            "failover": {"fallback": {"anthropic": "openai", "openai": "anthropic"}},
        }
    )


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def reconciliation() -> pl.DataFrame:
    rows = [
        # G1: vendor resolved 12:30 but our telemetry recovered 13:00 -> window 11:00-13:00 (120 min)
        ("g1", "anthropic", ["A1"], "2026-03-02 11:00", "2026-03-02 12:30", "2026-03-02 13:00", "matched"),
        # G2: no telemetry recovery -> vendor's 14:30 -> 30 min
        ("g2", "anthropic", ["A2"], "2026-03-03 14:00", "2026-03-03 14:30", None, "matched"),
        # G3: no vendor incident at all; telemetry saw it -> capability api, 60 min
        ("g3", "openai", [], "2026-02-10 09:00", None, "2026-02-10 10:00", "unreported_impact"),
    ]
    return pl.DataFrame(
        [
            {
                "group_id": g,
                "provider": p,
                "vendor_incident_ids": ids,
                "triangulated_start": ts(s),
                "vendor_resolved_at": ts(v) if v else None,
                "telemetry_recovered_at": ts(t) if t else None,
                "classification": c,
                "under_reporting_minutes": 0,
                "peak_error_ratio": 0.5,
            }
            for g, p, ids, s, v, t, c in rows
        ],
        schema_overrides={
            "vendor_incident_ids": pl.List(pl.String),
            "vendor_resolved_at": UTC,
            "telemetry_recovered_at": UTC,
            "triangulated_start": UTC,
        },
    )


def incidents() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider": ["anthropic", "anthropic"],
            "incident_id": ["A1", "A2"],
            "capabilities": [["consumer_app", "coding_agent", "console"], ["api"]],
        }
    )


def minute_sli() -> pl.DataFrame:
    # provider, minute, requests, errors_5xx, errors_529, timeouts, errors_429
    rows = [
        ("anthropic", "2026-03-02 11:00", 100, 10, 20, 5, 0),  # G1: 35 provider errors
        ("anthropic", "2026-03-02 12:59", 50, 0, 5, 0, 0),  # G1: 5
        ("anthropic", "2026-03-02 13:00", 40, 4, 0, 0, 0),  # window end is exclusive: not G1
        ("anthropic", "2026-03-03 14:10", 60, 6, 0, 0, 3),  # G2: 6 (the 429s are ours, not counted)
        ("anthropic", "2026-03-10 00:00", 9_750, 0, 0, 0, 0),
        ("openai", "2026-02-10 09:30", 200, 0, 0, 30, 0),  # G3: 30
        ("openai", "2026-02-10 10:00", 100, 10, 0, 0, 0),  # after G3
        ("openai", "2026-02-15 00:00", 700, 0, 0, 0, 0),
        ("openai", "2026-03-05 00:00", 1_000, 1, 0, 0, 0),
    ]
    names = ["provider", "minute", "requests", "errors_5xx", "errors_529", "timeouts", "errors_429"]
    return pl.DataFrame([dict(zip(names, row)) for row in rows]).with_columns(
        pl.col("minute").str.to_datetime("%Y-%m-%d %H:%M", time_zone="UTC").cast(UTC)
    )


def test_hand_computed_costs_base_scenario():
    """Base scenario, by hand. Cost follows the observed impact: outage-equivalent minutes = window minutes
    x the share of our requests that failed in it.

    G1 anthropic, 120 min, capabilities consumer_app + coding_agent (console has no seats), 40 of our 150
      requests failed (26.67 %) -> 32 outage minutes:
      value 40 x 0.10 = 4.00; retry tokens 40 x 2 x 1000 = 80,000 -> 80 x 0.01 = 0.80
      consumer_app 100 seats x 50 x 0.2 x 32/60 h = 533.33; coding_agent 40 x 120 x 0.25 x 32/60 h = 640.00
      total 4.00 + 0.80 + 1,173.33 = 1,178.13
    G2 anthropic, 30 min, api, 6 of 60 failed -> 3 outage minutes: value 0.60; tokens 12,000 -> 0.12;
      api 10 x 100 x 0.5 x 3/60 h = 25.00; total 25.72
    G3 openai, 60 min, api (telemetry only), 30 of 200 failed -> 9 outage minutes: value 3.00; tokens 60,000
      -> 60 x 0.005 = 0.30; api 5 x 100 x 0.5 x 9/60 h = 37.50; total 40.80
    Months: anthropic 2026-03: 10,000 requests, 50 provider errors -> 99.5 % < 99.9 -> 10 % of 10,000 = 1,000.00
      credit; total 1,178.13 + 25.72 = 1,203.85; net 203.85.
      openai 2026-02: 1,000 requests, 40 errors -> 96.0 % < 99.0 -> 25 % of 20,000 = 5,000.00; total 40.80;
      net -4,959.20. openai 2026-03: 1,000 requests, 1 error -> exactly 99.9 % (not below) -> no credit.
    Providers: anthropic net 203.85; openai total 40.80, credits 5,000.00, net -4,959.20.
    """
    result = build_downtime_cost(reconciliation(), incidents(), minute_sli(), hand_model())
    assert result.schema == pl.Schema(DOWNTIME_COST_SCHEMA)
    base = result.filter(pl.col("scenario") == "base")
    inc = {row["group_id"]: row for row in base.filter(pl.col("level") == "incident").iter_rows(named=True)}
    cents = pytest.approx

    g1 = inc["g1"]
    assert g1["impacted_minutes"] == 120 and g1["capabilities"] == ["coding_agent", "console", "consumer_app"]
    assert (g1["window_requests"], g1["failed_requests"]) == (150, 40)
    assert g1["outage_equivalent_minutes"] == cents(32.0) and g1["impact_basis"] == "telemetry"
    assert g1["failed_request_value_usd"] == cents(4.00, abs=0.005)
    assert g1["retry_tokens"] == 80_000 and g1["retry_token_cost_usd"] == cents(0.80, abs=0.005)
    assert (
        g1["impacted_minutes_api"],
        g1["impacted_minutes_consumer_app"],
        g1["impacted_minutes_coding_agent"],
    ) == (0, cents(32.0), cents(32.0))
    assert g1["productivity_loss_consumer_app_usd"] == cents(533.33, abs=0.005)
    assert g1["productivity_loss_coding_agent_usd"] == cents(640.00, abs=0.005)
    assert g1["total_cost_usd"] == cents(1_178.13, abs=0.005)
    assert g1["month"] == dt.date(2026, 3, 1)
    assert (g1["incident_id"], g1["incident_ids"]) == ("A1", ["A1"])
    assert g1["cost_terms_source"] == "provider"
    assert g1["assumptions"].startswith(
        "26.7% of our 150 requests failed over 120 min = 32.0 full-outage min"
    )

    g2 = inc["g2"]
    assert (g2["impacted_minutes"], g2["failed_requests"], g2["outage_equivalent_minutes"]) == (
        30,
        6,
        cents(3),
    )
    assert g2["productivity_loss_api_usd"] == cents(25.00, abs=0.005)
    assert g2["total_cost_usd"] == cents(25.72, abs=0.005)

    g3 = inc["g3"]
    assert (g3["impacted_minutes"], g3["failed_requests"], g3["capabilities"]) == (60, 30, ["api"])
    assert g3["incident_id"] is None
    assert g3["retry_token_cost_usd"] == cents(0.30, abs=0.005)
    assert g3["total_cost_usd"] == cents(40.80, abs=0.005)

    months = {
        (row["provider"], row["month"]): row
        for row in base.filter(pl.col("level") == "month").iter_rows(named=True)
    }
    a_mar = months[("anthropic", dt.date(2026, 3, 1))]
    assert (a_mar["requests"], a_mar["provider_errors"]) == (10_000, 50)
    assert a_mar["availability_pct"] == cents(99.5)
    assert (a_mar["sla_credit_pct"], a_mar["sla_credit_usd"]) == (10, cents(1_000.00, abs=0.005))
    assert a_mar["total_cost_usd"] == cents(1_203.85, abs=0.005)
    assert a_mar["net_cost_usd"] == cents(203.85, abs=0.005)
    assert (a_mar["incidents_priced"], a_mar["incidents_without_evidence"]) == (2, 0)
    o_feb = months[("openai", dt.date(2026, 2, 1))]
    assert (o_feb["availability_pct"], o_feb["sla_credit_pct"]) == (cents(96.0), 25)
    assert o_feb["net_cost_usd"] == cents(-4_959.20, abs=0.005)
    o_mar = months[("openai", dt.date(2026, 3, 1))]
    assert (
        o_mar["availability_pct"] == cents(99.9)
        and o_mar["sla_credit_pct"] == 0
        and o_mar["total_cost_usd"] == 0
    )

    providers = {
        row["provider"]: row for row in base.filter(pl.col("level") == "provider").iter_rows(named=True)
    }
    assert providers["anthropic"]["net_cost_usd"] == cents(203.85, abs=0.005)
    assert providers["openai"]["total_cost_usd"] == cents(40.80, abs=0.005)
    assert providers["openai"]["sla_credit_usd"] == cents(5_000.00, abs=0.005)
    assert providers["openai"]["net_cost_usd"] == cents(-4_959.20, abs=0.005)
    assert providers["openai"]["month"] is None


def test_scenarios_are_ordered_and_complete():
    result = build_downtime_cost(reconciliation(), incidents(), minute_sli(), hand_model())
    assert result.group_by("scenario").len().sort("scenario")["len"].to_list() == [
        8,
        8,
        8,
    ]  # 3 incidents + 3 months + 2 providers
    totals = {
        row["scenario"]: row["total_cost_usd"]
        for row in result.filter((pl.col("level") == "incident") & (pl.col("group_id") == "g1")).iter_rows(
            named=True
        )
    }
    assert totals["low"] < totals["base"] < totals["high"]


def test_windows_accept_the_brief_column_name_and_crowd_only_groups():
    recon = (
        reconciliation()
        .rename({"vendor_incident_ids": "incident_ids"})
        .with_columns(
            sources=pl.Series([["telemetry"], ["status"], ["crowd"]]),
            telemetry_recovered_at=pl.Series([None, None, None], dtype=UTC),
            ended_at=pl.Series([ts("2026-03-02 12:00"), None, ts("2026-02-10 09:45")], dtype=UTC),
        )
    )
    windows = {row["group_id"]: row for row in incident_windows(recon, incidents()).iter_rows(named=True)}
    assert windows["g1"]["window_end"] == ts("2026-03-02 12:30")  # vendor resolution beats ended_at
    assert windows["g3"]["impacted_minutes"] == 45  # only ended_at known
    assert windows["g3"]["capabilities"] == ["consumer_app"]  # crowd-only group
    assert windows["g2"]["capabilities"] == ["api"]
