"""One model of impact and cost: the price follows what we observed, never the vendor's label alone.

Planted: a *minor* incident our telemetry watched for 12 hours without a single failed request, and a
*critical* 2-hour outage that failed half of our requests. Under the old label-and-duration model the
minor one cost 32,400.00 (every labelled capability x 12 h) against 10,600.00; now the critical one
leads, to the cent.
"""

import datetime as dt

import dagster as dg
import polars as pl
import pytest
import yaml

from assets.marts.downtime_cost.mart import build_downtime_cost
from pipelines.core import tables
from pipelines.core.cost_model import CostModel, load_cost_model
from pipelines.core.warehouse import replace_table
from tests.marts.test_downtime_cost import hand_model

UTC = pl.Datetime("us", "UTC")
RECON_TIMES = (
    "triangulated_start",
    "vendor_resolved_at",
    "telemetry_recovered_at",
    "crowd_started_at",
    "crowd_recovered_at",
)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def group(group_id: str, incident_id: str | None, start: str, end: str | None, **times: str) -> dict:
    row = {
        "group_id": group_id,
        "provider": "anthropic",
        "classification": "matched",
        "vendor_incident_ids": [incident_id] if incident_id else [],
        "triangulated_start": ts(start),
        "vendor_resolved_at": ts(end) if end else None,
    }
    return row | {name: ts(value) for name, value in times.items()}


def recon(*rows: dict) -> pl.DataFrame:
    frame = pl.DataFrame(list(rows), schema_overrides={"vendor_incident_ids": pl.List(pl.String)})
    return frame.with_columns(
        [(pl.col(c) if c in frame.columns else pl.lit(None)).cast(UTC).alias(c) for c in RECON_TIMES]
    )


def minutes(start: str, count: int, requests: int, failed: int, provider: str = "anthropic") -> pl.DataFrame:
    first = ts(start)
    return pl.DataFrame(
        {
            "provider": provider,
            "minute": [first + dt.timedelta(minutes=i) for i in range(count)],
            "requests": requests,
            "errors_5xx": 0,
            "errors_529": failed,
            "timeouts": 0,
            "errors_429": 0,
        }
    ).with_columns(pl.col("minute").cast(UTC))


def incident_rows(result: pl.DataFrame, scenario: str = "base") -> dict[str, dict]:
    rows = result.filter((pl.col("level") == "incident") & (pl.col("scenario") == scenario))
    return {row["group_id"]: row for row in rows.iter_rows(named=True)}


def test_an_outage_with_half_our_requests_failing_outranks_a_minor_incident_without_impact():
    """Base scenario of the hand model (tests/marts/test_downtime_cost.py), by hand.

    minor: 2026-03-05 08:00-20:00 (720 min), labelled api + consumer_app + coding_agent; 10 requests a
      minute, none failed -> 0 of 7,200 failed -> 0 outage minutes: value 0, retries 0, productivity 0:
      0.00 (the old model: 10x100x0.5x12 + 100x50x0.2x12 + 40x120x0.25x12 = 32,400.00).
    critical: 2026-03-02 12:00-14:00 (120 min), labelled api + consumer_app; 10 requests a minute, 5 failed
      -> 600 of 1,200 (50 %) -> 60 outage minutes:
      value 600 x 0.10 = 60.00; retry tokens 600 x 2 x 1,000 = 1,200,000 -> 1,200 x 0.01 = 12.00;
      api 10 x 100 x 0.5 x 1 h = 500.00; consumer_app 100 x 50 x 0.2 x 1 h = 1,000.00; total 1,572.00.
    """
    incidents = pl.DataFrame(
        {
            "provider": "anthropic",
            "incident_id": ["MINOR", "CRIT"],
            "impact": ["minor", "critical"],
            "capabilities": [["api", "consumer_app", "coding_agent"], ["api", "consumer_app"]],
        }
    )
    groups = recon(
        group("minor", "MINOR", "2026-03-05 08:00", "2026-03-05 20:00"),
        group("critical", "CRIT", "2026-03-02 12:00", "2026-03-02 14:00"),
    )
    sli = pl.concat([minutes("2026-03-05 08:00", 720, 10, 0), minutes("2026-03-02 12:00", 120, 10, 5)])
    rows = incident_rows(build_downtime_cost(groups, incidents, sli, hand_model()))
    minor, critical = rows["minor"], rows["critical"]

    assert (minor["window_requests"], minor["failed_requests"], minor["observed_error_ratio"]) == (
        7_200,
        0,
        0.0,
    )
    assert minor["impact_basis"] == "telemetry" and minor["outage_equivalent_minutes"] == 0.0
    assert minor["total_cost_usd"] == pytest.approx(0.00, abs=0.005)

    assert (critical["window_requests"], critical["failed_requests"]) == (1_200, 600)
    assert critical["observed_error_ratio"] == 0.5 and critical["outage_equivalent_minutes"] == 60.0
    assert critical["failed_request_value_usd"] == pytest.approx(60.00, abs=0.005)
    assert critical["retry_token_cost_usd"] == pytest.approx(12.00, abs=0.005)
    assert critical["productivity_loss_api_usd"] == pytest.approx(500.00, abs=0.005)
    assert critical["productivity_loss_consumer_app_usd"] == pytest.approx(1_000.00, abs=0.005)
    assert critical["productivity_loss_coding_agent_usd"] == 0.0
    assert critical["total_cost_usd"] == pytest.approx(1_572.00, abs=0.005)
    assert "50.0% of our 1,200 requests failed over 120 min = 60.0 full-outage min" in critical["assumptions"]

    ranked = sorted(rows.values(), key=lambda r: -r["total_cost_usd"])
    assert [r["group_id"] for r in ranked] == ["critical", "minor"]


def test_crowd_only_impact_uses_the_crowd_share_and_no_evidence_is_not_priced():
    """crowd: no request of ours in 12:00-14:00, crowd reported 12:30-14:00 (90 min) x base share 0.5 = 45
    outage minutes of consumer_app: 100 x 50 x 0.2 x 0.75 h = 750.00 (low share 0.25 -> 22.5 min, 375.00 at
    base prices is not asserted: the low scenario also lowers seats and prices).
    unseen: no request, no crowd (before our logs began): not priced, null, counted in its month."""
    incidents = pl.DataFrame(
        {
            "provider": "anthropic",
            "incident_id": ["C", "U"],
            "capabilities": [["consumer_app"], ["api", "consumer_app"]],
        }
    )
    groups = recon(
        group(
            "crowd",
            "C",
            "2026-03-02 12:00",
            "2026-03-02 13:30",
            crowd_started_at="2026-03-02 12:30",
            crowd_recovered_at="2026-03-02 14:00",
        ),
        group("unseen", "U", "2025-08-21 08:00", "2025-08-22 08:00"),
    )
    sli = minutes("2026-03-01 00:00", 10, 10, 0)  # our telemetry exists, but not in these windows
    result = build_downtime_cost(groups, incidents, sli, hand_model())
    rows = incident_rows(result)

    crowd = rows["crowd"]
    assert crowd["window_end"] == ts("2026-03-02 14:00")  # the crowd saw it after the vendor resolved it
    assert (crowd["crowd_minutes"], crowd["crowd_outage_share"], crowd["impact_basis"]) == (
        90.0,
        0.5,
        "crowd",
    )
    assert crowd["failed_requests"] is None and crowd["observed_error_ratio"] is None
    assert crowd["outage_equivalent_minutes"] == 45.0
    assert crowd["total_cost_usd"] == pytest.approx(750.00, abs=0.005)

    unseen = rows["unseen"]
    assert unseen["impact_basis"] == "no_evidence"
    assert unseen["total_cost_usd"] is None and unseen["productivity_loss_usd"] is None
    assert unseen["assumptions"].startswith(
        "not priced: no request of ours in the window and no crowd reports"
    )
    month = result.filter(
        (pl.col("level") == "month")
        & (pl.col("scenario") == "base")
        & (pl.col("month") == dt.date(2025, 8, 1))
    ).row(0, named=True)
    assert (month["incidents_priced"], month["incidents_without_evidence"]) == (0, 1)


def test_a_provider_without_cost_terms_is_priced_with_the_documented_defaults():
    tracked = load_cost_model("data/config/cost_model.yaml")
    assert tracked.defaults is not None
    raw = tracked.model_dump()
    raw["providers"].pop("google")
    raw["failover"]["fallback"].pop("google")
    model = CostModel.model_validate(raw)
    model.check_covers(["anthropic", "google"])  # covered by the defaults: nothing to report
    incidents = pl.DataFrame({"provider": "google", "incident_id": ["G"], "capabilities": [["api"]]})
    groups = recon(group("g", "G", "2026-03-02 12:00", "2026-03-02 13:00")).with_columns(
        provider=pl.lit("google")
    )
    sli = minutes("2026-03-02 12:00", 60, 4, 1, provider="google")
    rows = result_rows = build_downtime_cost(groups, incidents, sli, model)
    row = incident_rows(rows)["g"]
    # 60 of 240 failed (25 %) -> 15 outage minutes; defaults: api 10 seats x 120 x 0.15 x 0.25 h = 45.00;
    # value 60 x 0.05 = 3.00; retries 60 x 2 x 2,000 = 240,000 tokens x 0.004 / 1k = 0.96 -> 48.96
    assert row["cost_terms_source"] == "default"
    assert row["total_cost_usd"] == pytest.approx(48.96, abs=0.005)
    assert "default terms" in row["assumptions"]
    month = result_rows.filter((pl.col("level") == "month") & (pl.col("scenario") == "base")).row(
        0, named=True
    )
    assert (month["cost_terms_source"], month["monthly_spend_usd"]) == ("default", 10_000)


def test_assets_run_for_a_provider_missing_from_the_cost_model(workspace, data_dir):
    """The run does not fail (it did, at step 19/23, with ConfigError): downtime cost and failover use the
    defaults block for google and say so."""
    from assets.marts.downtime_cost.assets import downtime_cost
    from assets.marts.failover.assets import failover_simulation

    path = data_dir / "config/cost_model.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["providers"].pop("google")
    raw["failover"]["fallback"] = {"anthropic": "openai", "openai": "anthropic", "google": "openai"}
    path.write_text(yaml.safe_dump(raw))
    # a fallback to or from a provider without terms is fine too: google -> openai is replayed at default prices
    sli = pl.concat([minutes("2026-03-02 12:00", 60, 4, 1, p) for p in ("google", "openai")]).with_columns(
        error_ratio=pl.col("errors_529") / pl.col("requests"), latency_p50_ms=pl.lit(900.0)
    )
    groups = recon(group("g", None, "2026-03-02 12:00", None, telemetry_recovered_at="2026-03-02 13:00"))
    with workspace.warehouse() as con:
        replace_table(con, tables.MINUTE_SLI, sli)
        replace_table(con, tables.RECONCILIATION, groups.with_columns(provider=pl.lit("google")))
    result = dg.materialize([downtime_cost, failover_simulation], resources={"workspace": workspace})
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    with workspace.warehouse(read_only=True) as con:
        cost = con.sql(
            "SELECT DISTINCT provider, cost_terms_source FROM marts.downtime_cost ORDER BY 1"
        ).fetchall()
        failover = con.sql(
            "SELECT provider, cost_terms_source FROM marts.failover_simulation WHERE policy = 'none' ORDER BY 1"
        ).fetchall()
    assert cost == [("google", "default"), ("openai", "provider")]
    assert failover == [("google", "default"), ("openai", "provider")]
