"""Reconciliation on hand-made episodes whose leads, lags and minutes are worked out by hand."""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from assets.marts.episodes.outage import build_outage_episodes
from assets.marts.reconciliation.ack_assets import acknowledgement_lag_mart
from assets.marts.reconciliation.ack_lag import acknowledgement_lag
from assets.marts.reconciliation.assets import incident_reconciliation
from assets.marts.reconciliation.matching import group_episodes
from assets.marts.reconciliation.reconcile import reconcile
from assets.marts.reconciliation.schema import RECONCILIATION_SCHEMA, ReconciliationParams
from pipelines.core.warehouse import read_table, replace_table
from pipelines.core.window import Window

UTC = pl.Datetime("us", "UTC")
DAY = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)


def at(hhmm: str, day: int = 0) -> dt.datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return DAY + dt.timedelta(days=day, hours=hours, minutes=minutes)


def crowd(rows) -> pl.DataFrame:
    """rows: (provider, service, country, start, peak, end, peak_reports, expected_at_peak)."""
    names = [
        "provider",
        "service",
        "country",
        "started_at",
        "peak_at",
        "ended_at",
        "peak_value",
        "baseline_value",
    ]
    return pl.DataFrame([dict(zip(names, r)) for r in rows]).with_columns(
        pl.col("started_at", "peak_at", "ended_at").cast(UTC), level=pl.lit("problem")
    )


def telemetry(rows) -> pl.DataFrame:
    """rows: (provider, service, start, peak, end, peak_error_ratio)."""
    names = ["provider", "service", "started_at", "peak_at", "ended_at", "peak_value"]
    return pl.DataFrame([dict(zip(names, r)) for r in rows]).with_columns(
        pl.col("started_at", "peak_at", "ended_at").cast(UTC),
        source=pl.lit("telemetry"),
        country=pl.lit(None, pl.String),
        baseline_value=pl.lit(0.01),
    )


def incidents(rows) -> pl.DataFrame:
    """rows: (provider, id, title, impact, started_at, acknowledged_at, resolved_at, components)."""
    names = [
        "provider",
        "incident_id",
        "title",
        "impact",
        "started_at",
        "acknowledged_at",
        "resolved_at",
        "components",
    ]
    frame = pl.DataFrame(
        [dict(zip(names, r)) for r in rows], schema_overrides={"components": pl.List(pl.String)}
    )
    return frame.with_columns(
        pl.col("started_at", "acknowledged_at", "resolved_at").cast(UTC),
        identified_at=pl.lit(None, UTC),
        monitoring_at=pl.lit(None, UTC),
        postmortem_at=pl.lit(None, UTC),
        vendor_started_at=pl.col("started_at").cast(UTC),
        vendor_resolved_at=pl.col("resolved_at").cast(UTC),
        posted_after_the_fact=pl.lit(False),
    )


def sli(provider: str, start: dt.datetime, minutes: int, error_ratio: float) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider": provider,
            "minute": pl.datetime_range(start, start + dt.timedelta(minutes=minutes - 1), "1m", eager=True),
            "requests": 100,
            "error_ratio": error_ratio,
        }
    ).with_columns(pl.col("minute").cast(UTC))


@pytest.fixture
def scenario():
    crowd_eps = crowd(
        [
            # Case A (anthropic): crowd 10:00-11:40 in the US and 10:10-11:00 in GB.
            ("anthropic", "Claude", "US", at("10:00"), at("10:40"), at("11:40"), 4780.0, 40.0),
            ("anthropic", "Claude", "GB", at("10:10"), at("10:40"), at("11:00"), 510.0, 12.0),
            # Case B (anthropic, next day): crowd only, 14:00-14:45 -> unreported, 45 minutes.
            ("anthropic", "Claude", "US", at("14:00", 1), at("14:20", 1), at("14:45", 1), 900.0, 35.0),
            # Case D (openai): crowd 08:00-09:00 during a minor incident.
            ("openai", "ChatGPT", "US", at("08:00"), at("08:30"), at("09:00"), 700.0, 60.0),
        ]
    )
    tele_eps = telemetry(
        [
            ("anthropic", "api", at("10:05"), at("10:30"), at("11:30"), 0.62),  # A: 5 min after crowd
            ("openai", "api", at("08:10"), at("08:30"), at("08:50"), 0.30),  # D
        ]
    )
    vendor = incidents(
        [
            # A: posted 25 min after the crowd start, impact said to start at 10:25, resolved 12:00.
            (
                "anthropic",
                "inc-a",
                "Elevated errors on claude.ai",
                "major",
                at("10:25"),
                at("10:25"),
                at("12:00"),
                ["claude.ai"],
            ),
            # C (anthropic, day 3): vendor-only.
            (
                "anthropic",
                "inc-c",
                "Degraded console",
                "minor",
                at("03:00", 2),
                at("03:05", 2),
                at("03:40", 2),
                ["platform.claude.com"],
            ),
            # D: minor incident while our error ratio is 30%.
            (
                "openai",
                "inc-d",
                "Some users see errors",
                "minor",
                at("08:20"),
                at("08:25"),
                at("09:30"),
                ["ChatGPT"],
            ),
        ]
    )
    minute_sli = pl.concat(
        [
            sli("anthropic", at("09:00"), 600, 0.01),
            sli("openai", at("07:00"), 180, 0.01).with_columns(
                error_ratio=pl.when(pl.col("minute").is_between(at("08:10"), at("08:49")))
                .then(0.30)
                .otherwise(pl.col("error_ratio"))
            ),
        ]
    )
    episodes = build_outage_episodes(crowd_eps, tele_eps, vendor)
    return episodes, vendor, minute_sli


def by_incident(result: pl.DataFrame, incident_id: str) -> dict:
    rows = result.filter(pl.col("vendor_incident_ids").list.contains(incident_id)).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_leads_lags_and_under_reporting_of_a_matched_incident(scenario):
    result = reconcile(*scenario)
    assert result.schema == pl.Schema(RECONCILIATION_SCHEMA)
    a = by_incident(result, "inc-a")
    assert a["classification"] == "matched"
    assert a["sources"] == ["crowd", "status", "telemetry"]
    assert a["crowd_countries"] == ["GB", "US"]
    assert a["titles"] == ["Elevated errors on claude.ai"]
    assert a["triangulated_start"] == at("10:00")
    assert a["crowd_started_at"] == at("10:00")
    assert a["telemetry_started_at"] == at("10:05")
    assert a["vendor_first_post_at"] == at("10:25")
    assert a["crowd_lead_minutes"] == pytest.approx(25)
    assert a["telemetry_lead_minutes"] == pytest.approx(20)
    assert a["acknowledgement_lag_minutes"] == pytest.approx(25)
    # Vendor resolved 12:00, our errors recovered 11:30: the vendor was 30 minutes late.
    assert a["vendor_resolved_at"] == at("12:00")
    assert a["telemetry_recovered_at"] == at("11:30")
    assert a["resolution_lag_minutes"] == pytest.approx(30)
    # Observed 10:00-11:40 (100 min); the vendor covers 10:25-12:00, so 10:00-10:25 went unreported.
    assert a["observed_impact_minutes"] == 100
    assert a["under_reporting_minutes"] == 25
    # The vendor's stated start (10:25) against our first observation (10:00), both kept.
    assert a["vendor_stated_start"] == at("10:25")
    assert a["observed_started_at"] == at("10:00")
    assert a["clock_difference_minutes"] == pytest.approx(25)
    assert a["vendor_impact"] == "major"
    assert a["peak_crowd_reports"] == 4780.0
    assert a["peak_error_ratio"] == pytest.approx(0.01)


def test_crowd_only_episode_is_unreported_impact_with_its_minutes(scenario):
    result = reconcile(*scenario)
    rows = result.filter(pl.col("classification") == "unreported_impact").to_dicts()
    assert len(rows) == 1
    b = rows[0]
    assert b["provider"] == "anthropic"
    assert b["crowd_started_at"] == at("14:00", 1)
    assert b["vendor_incident_ids"] == []
    assert b["observed_impact_minutes"] == 45
    assert b["under_reporting_minutes"] == 45
    assert b["crowd_lead_minutes"] is None
    assert b["triangulated_start"] == at("14:00", 1)


def test_vendor_only_incident(scenario):
    c = by_incident(reconcile(*scenario), "inc-c")
    assert c["classification"] == "vendor_only"
    assert c["sources"] == ["status"]
    assert c["observed_impact_minutes"] == 0
    assert c["under_reporting_minutes"] == 0
    assert c["triangulated_start"] == at("03:00", 2)
    assert c["acknowledgement_lag_minutes"] == pytest.approx(5)
    assert c["resolution_lag_minutes"] is None


def test_minor_incident_during_thirty_percent_errors_is_severity_understated(scenario):
    d = by_incident(reconcile(*scenario), "inc-d")
    assert d["classification"] == "severity_understated"
    assert d["vendor_impact"] == "minor"
    assert d["peak_error_ratio"] == pytest.approx(0.30)
    assert d["peak_error_ratio_at"] == at("08:10")
    # Vendor resolved 09:30 while our errors recovered at 08:50: 40 minutes late.
    assert d["resolution_lag_minutes"] == pytest.approx(40)
    # Observed 08:00-09:00; the vendor covers from 08:20: 20 unreported minutes.
    assert d["under_reporting_minutes"] == 20
    # The same incident rated major is simply matched.
    episodes, vendor, minute_sli = scenario
    vendor = vendor.with_columns(
        impact=pl.when(pl.col("incident_id") == "inc-d").then(pl.lit("major")).otherwise("impact")
    )
    episodes = episodes.with_columns(
        peak_value=pl.when(pl.col("source_ref") == "inc-d").then(3.0).otherwise(pl.col("peak_value"))
    )
    assert by_incident(reconcile(episodes, vendor, minute_sli), "inc-d")["classification"] == "matched"


def test_tolerance_joins_near_episodes_and_splits_far_ones():
    eps = build_outage_episodes(
        crowd(
            [
                ("anthropic", "Claude", "US", at("10:00"), at("10:10"), at("10:30"), 100.0, 10.0),
                (
                    "anthropic",
                    "Claude",
                    "US",
                    at("10:55"),
                    at("11:00"),
                    at("11:10"),
                    100.0,
                    10.0,
                ),  # 25 min gap
                (
                    "anthropic",
                    "Claude",
                    "US",
                    at("11:45"),
                    at("11:50"),
                    at("12:00"),
                    100.0,
                    10.0,
                ),  # 35 min gap
                (
                    "openai",
                    "ChatGPT",
                    "US",
                    at("10:05"),
                    at("10:10"),
                    at("10:20"),
                    100.0,
                    10.0,
                ),  # other provider
            ]
        ),
        pl.DataFrame(),
        pl.DataFrame(),
    )
    grouped = group_episodes(eps, ReconciliationParams(tolerance_minutes=30))
    anthropic = grouped.filter(pl.col("provider") == "anthropic").sort("started_at")["group_no"].to_list()
    assert anthropic[0] == anthropic[1] != anthropic[2]
    result = reconcile(eps, pl.DataFrame(), pl.DataFrame())
    assert result.height == 3
    assert set(result["classification"]) == {"unreported_impact"}
    assert result["group_id"].n_unique() == 3
    # Stable ids: rebuilding from the same evidence gives the same group ids.
    assert (
        reconcile(eps, pl.DataFrame(), pl.DataFrame())["group_id"].to_list() == result["group_id"].to_list()
    )


def test_open_incident_is_capped_and_keeps_the_group_unresolved():
    vendor = incidents(
        [("anthropic", "inc-open", "Investigating", "major", at("10:00"), at("10:10"), None, ["claude.ai"])]
    )
    eps = build_outage_episodes(
        crowd(
            [
                ("anthropic", "Claude", "US", at("10:05"), at("10:20"), at("10:50"), 300.0, 20.0),
                ("anthropic", "Claude", "US", at("10:00", 3), at("10:10", 3), at("10:30", 3), 300.0, 20.0),
            ]
        ),
        pl.DataFrame(),
        vendor,
    )
    result = reconcile(eps, vendor, pl.DataFrame())
    assert result.height == 2  # the open incident does not swallow the episode three days later
    first = by_incident(result, "inc-open")
    assert first["vendor_resolved_at"] is None
    assert first["resolution_lag_minutes"] is None
    assert first["under_reporting_minutes"] == 0


def test_empty_inputs_give_an_empty_table_with_the_contract_columns():
    result = reconcile(pl.DataFrame(), pl.DataFrame(), pl.DataFrame())
    assert result.height == 0
    assert result.schema == pl.Schema(RECONCILIATION_SCHEMA)


def stage_marts(workspace, scenario) -> None:
    """Write the scenario's episodes, incidents and minute SLI as the marts the asset reads."""
    episodes, vendor, minute_sli = scenario
    with workspace.warehouse() as con:
        replace_table(con, "marts.outage_episodes", episodes)
        replace_table(con, "marts.incidents", vendor)
        replace_table(con, "marts.provider_minute_sli", minute_sli)


def test_asset_reads_the_marts_and_writes_the_reconciliation(workspace, scenario):
    stage_marts(workspace, scenario)
    result = dg.materialize([incident_reconciliation], resources={"workspace": workspace})
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    with workspace.warehouse() as con:
        table = read_table(con, "marts.incident_reconciliation")
    assert table.height == 4
    assert sorted(table["classification"]) == [
        "matched",
        "severity_understated",
        "unreported_impact",
        "vendor_only",
    ]


def test_only_groups_overlapping_the_window_are_kept_whole(scenario):
    # Window 2 March 11:00 .. 4 March 00:00: A (10:00-12:00) straddles the start and stays whole, D (openai,
    # 08:00-09:30) ended before it, B (3 March 14:00) is inside, C (4 March 03:00) starts after its end.
    result = reconcile(*scenario, ReconciliationParams(), at("11:00"), at("00:00", 2))
    assert sorted(result["classification"]) == ["matched", "unreported_impact"]
    kept = by_incident(result, "inc-a")
    assert kept["started_at"] == at("10:00") and kept["crowd_started_at"] == at("10:00")
    assert result["window_start"].unique().to_list() == [at("11:00")]
    assert result["window_end"].unique().to_list() == [at("00:00", 2)]
    # no window: every group, window columns null
    everything = reconcile(*scenario)
    assert everything.height == 4 and everything["window_start"].null_count() == 4


def test_asset_reconciles_the_window_of_its_run(workspace, scenario):
    stage_marts(workspace, scenario)
    only_4_march = Window(dt.date(2026, 3, 4), dt.date(2026, 3, 4), "run").tags()
    result = dg.materialize([incident_reconciliation], resources={"workspace": workspace}, tags=only_4_march)
    assert result.success
    with workspace.warehouse() as con:
        table = read_table(con, "marts.incident_reconciliation")
    assert table["classification"].to_list() == ["vendor_only"]  # C, 4 March 03:00
    assert table["vendor_incident_ids"].to_list() == [["inc-c"]]
    assert table.select("window_start", "window_end").rows() == [(at("00:00", 2), at("00:00", 3))]


# -- acknowledgement lag per provider -----------------------------------------------------------------


def groups(*rows: tuple) -> pl.DataFrame:
    """marts.incident_reconciliation rows: (provider, observed_started_at, vendor_first_post_at)."""
    return pl.DataFrame(
        rows,
        schema={"provider": pl.String, "observed_started_at": UTC, "vendor_first_post_at": UTC},
        orient="row",
    )


def test_acknowledgement_lag_per_provider_by_hand():
    recon = groups(
        ("anthropic", at("10:00"), at("10:41")),  # 41 min late
        ("anthropic", at("12:00"), at("12:05")),  # 5 min late
        ("anthropic", at("14:00"), at("13:50")),  # posted before users saw it: 0, not -10
        ("anthropic", at("16:00"), None),  # never posted
        ("anthropic", None, at("18:00")),  # vendor only: nobody saw impact, not an acknowledgement
        ("openai", at("09:00"), at("09:20")),
    )
    lag = {
        r["provider"]: r
        for r in acknowledgement_lag(recon, ["google", "openai"], at("00:00"), at("00:00", 1)).to_dicts()
    }
    assert list(lag) == ["anthropic", "google", "openai"]  # configured or named, sorted
    anthropic = lag["anthropic"]
    assert (
        anthropic["observed_impacts"],
        anthropic["posted_impacts"],
        anthropic["never_posted_impacts"],
    ) == (4, 3, 1)
    assert anthropic["posted_first_impacts"] == 1
    assert anthropic["ack_lag_median_minutes"] == 5.0  # of 0, 5, 41
    assert anthropic["ack_lag_mean_minutes"] == pytest.approx(46 / 3)  # 15.33
    assert anthropic["ack_lag_graded_mean_minutes"] == pytest.approx((41 + 5 + 0 + 240) / 4)  # 71.5
    assert lag["openai"]["ack_lag_median_minutes"] == lag["openai"]["ack_lag_graded_mean_minutes"] == 20.0
    quiet = lag["google"]  # no observed impact: nothing to grade, not a perfect score
    assert quiet["observed_impacts"] == 0 and quiet["never_posted_impacts"] == 0
    assert quiet["ack_lag_median_minutes"] is None and quiet["ack_lag_graded_mean_minutes"] is None
    assert anthropic["window_start"] == at("00:00") and anthropic["window_end"] == at("00:00", 1)


def test_only_never_posted_impacts_grade_at_four_hours():
    lag = acknowledgement_lag(groups(("openai", at("09:00"), None)), []).row(0, named=True)
    assert lag["ack_lag_median_minutes"] is None and lag["ack_lag_mean_minutes"] is None  # no post, no lag
    assert lag["never_posted_impacts"] == 1 and lag["ack_lag_graded_mean_minutes"] == 240.0
    empty = acknowledgement_lag(pl.DataFrame(), ["openai"]).row(0, named=True)
    assert empty["observed_impacts"] == 0 and empty["ack_lag_graded_mean_minutes"] is None


def test_ack_lag_asset_reads_the_reconciliation(workspace, scenario):
    stage_marts(workspace, scenario)
    result = dg.materialize(
        [incident_reconciliation, acknowledgement_lag_mart], resources={"workspace": workspace}
    )
    assert result.success and all(c.passed for c in result.get_asset_check_evaluations())
    with workspace.warehouse() as con:
        recon = read_table(con, "marts.incident_reconciliation")
        lag = read_table(con, "marts.acknowledgement_lag")
    observed = recon.filter(pl.col("observed_started_at").is_not_null())
    anthropic = lag.filter(pl.col("provider") == "anthropic").row(0, named=True)
    mine = observed.filter(pl.col("provider") == "anthropic")
    assert anthropic["observed_impacts"] == mine.height >= 2
    assert anthropic["never_posted_impacts"] == mine["vendor_first_post_at"].null_count() >= 1
    assert set(lag["provider"]) >= {"anthropic", "openai", "google"}  # every configured provider has a row
