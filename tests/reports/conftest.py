"""Hand-made marts for the report tests, and one session-wide build of every report page over them.

The marts are small but shaped like the real ones (column names of assets/marts/*), with the
2 March 2026 Claude outage, an open incident, a maintenance window, an unreported-impact group and
incident titles that try to inject markup and script into the pages.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest

from assets.marts.reliability.daily import daily_uptime_mart
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import connect, replace_table, write_rejects
from pipelines.core.window import WINDOW_END_TAG, WINDOW_START_TAG

REPO = Path(__file__).resolve().parents[2]
UTC = pl.Datetime("us", "UTC")
SCRIPT_TITLE = "Elevated errors on claude.ai <script>alert(1)</script>"
IMG_TITLE = '"><img src=x onerror=alert(1)>'
FINDING = "Claude's rank rose 7 places as <b>errors</b> & 529s climbed </script><script>alert(2)</script>"
DAYS = ("2026-03-02", "2026-03-03")


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _frame(rows: list[dict], schema: dict) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


INCIDENT_SCHEMA = {
    "provider": pl.String,
    "incident_id": pl.String,
    "title": pl.String,
    "impact": pl.String,
    "started_at": UTC,
    "acknowledged_at": UTC,
    "identified_at": UTC,
    "monitoring_at": UTC,
    "resolved_at": UTC,
    "postmortem_at": UTC,
    "duration_minutes": pl.Float64,
    "components": pl.List(pl.String),
}


def incidents() -> pl.DataFrame:
    rows = [
        (
            "anthropic",
            "inc-a1",
            SCRIPT_TITLE,
            "major",
            t("2026-03-02 11:49"),
            t("2026-03-02 12:21"),
            t("2026-03-02 12:58"),
            t("2026-03-02 15:10"),
            t("2026-03-02 16:05"),
            t("2026-03-04 10:00"),
            256.0,
            ["claude.ai", "Claude Code"],
        ),
        (
            "anthropic",
            "inc-a2",
            "Login failures for Claude Code",
            "minor",
            t("2026-03-03 09:10"),
            t("2026-03-03 09:20"),
            None,
            None,
            t("2026-03-03 10:40"),
            None,
            90.0,
            ["Claude Code"],
        ),
        (
            "anthropic",
            "inc-a0",
            "Scheduled maintenance",
            "maintenance",
            t("2026-02-20 02:00"),
            t("2026-02-20 01:00"),
            None,
            None,
            t("2026-02-20 03:00"),
            None,
            60.0,
            [],
        ),
        (
            "openai",
            "inc-o1",
            IMG_TITLE,
            "critical",
            t("2026-03-02 18:00"),
            t("2026-03-02 18:12"),
            None,
            t("2026-03-02 19:00"),
            t("2026-03-02 19:30"),
            None,
            90.0,
            ["ChatGPT"],
        ),
        (
            "openai",
            "inc-o2",
            "ChatGPT degraded",
            "minor",
            t("2026-01-15 10:00"),
            t("2026-01-15 10:05"),
            None,
            None,
            t("2026-01-15 10:20"),
            None,
            20.0,
            ["ChatGPT"],
        ),
        (
            "google",
            "inc-g1",
            "Gemini API latency & errors",
            None,
            t("2026-02-10 08:00"),
            t("2026-02-10 08:30"),
            None,
            None,
            t("2026-02-10 09:00"),
            None,
            60.0,
            [],
        ),
        (
            "google",
            "inc-g2",
            "Gemini app: investigating",
            None,
            t("2026-03-03 20:00"),
            t("2026-03-03 20:10"),
            None,
            None,
            None,
            None,
            None,
            [],
        ),
    ]
    return _frame([dict(zip(INCIDENT_SCHEMA, r, strict=True)) for r in rows], INCIDENT_SCHEMA)


def component_reliability() -> pl.DataFrame:
    rows = []
    stats = {
        "anthropic": (3, 2.1, 1.5, 3.9, 12.5, 99.71),
        "openai": (2, 0.9, 0.9, 1.4, 30.0, 99.86),
        "google": (2, 1.0, 1.0, 1.0, 20.0, 99.93),
    }
    for provider, (n, mean, median, p90, mtbf, uptime) in stats.items():
        for period, start, end, incidents_n in (
            ("all", "2025-12-01", "2026-03-16", n),
            ("2026-02", "2026-02-01", "2026-03-01", 1),
            ("2026-03", "2026-03-01", "2026-03-16", n - 1),
        ):
            rows.append(
                {
                    "provider": provider,
                    "component": "(provider)",
                    "capability": None,
                    "period": period,
                    "period_start": t(start),
                    "period_end": t(end),
                    "incidents": incidents_n,
                    "mttr_mean_hours": mean,
                    "mttr_median_hours": median,
                    "mttr_p90_hours": p90,
                    "mtbf_mean_days": mtbf,
                    "uptime_pct": uptime,
                    "weighted_down_minutes": round((100 - uptime) / 100 * 151_200, 1),
                    "weight_partial": 0.3,
                    "uptime_pct_w0": uptime + 0.05,
                    "uptime_pct_w03": uptime,
                    "uptime_pct_w05": uptime - 0.04 * (provider == "google"),
                    "uptime_pct_w1": uptime - (0.2 if provider == "google" else 0.08),
                    "ranking_changes_with_policy": True,
                }
            )
        rows.append(
            {**rows[-1], "component": "claude.ai" if provider == "anthropic" else "API", "period": "all"}
        )
    return pl.DataFrame(rows).with_columns(pl.col("capability").cast(pl.String))


def minute_sli() -> pl.DataFrame:
    minutes = pl.datetime_range(
        t("2026-03-02 00:00"), t("2026-03-03 23:59"), "1m", eager=True, time_zone="UTC"
    )
    frames = []
    rng = np.random.default_rng(7)
    for provider, (bad_start, bad_end) in {
        "anthropic": (t("2026-03-02 11:45"), t("2026-03-02 16:00")),
        "openai": (t("2026-03-02 18:00"), t("2026-03-02 19:20")),
        "google": (t("2026-03-03 20:00"), t("2026-03-03 21:00")),
    }.items():
        n = len(minutes)
        bad = ((minutes >= bad_start) & (minutes < bad_end)).to_numpy()
        requests = np.full(n, 60)
        e529 = np.where(bad, 25, rng.integers(0, 2, n))
        e5xx = np.where(bad, 10, rng.integers(0, 2, n))
        e429 = rng.integers(0, 3, n)
        timeouts = np.where(bad, 2, 0)
        ok = requests - e529 - e5xx - e429 - timeouts
        frames.append(
            pl.DataFrame(
                {
                    "day": minutes.dt.date(),
                    "provider": provider,
                    "minute": minutes,
                    "requests": requests,
                    "ok": ok,
                    "errors_5xx": e5xx,
                    "errors_529": e529,
                    "errors_429": e429,
                    "errors_4xx_other": 0,
                    "timeouts": timeouts,
                    "errors_other": 0,
                    "error_ratio": (e5xx + e529 + timeouts) / requests,
                    "latency_p50_ms": 800.0,
                    "latency_p95_ms": 2400.0,
                }
            )
        )
    return pl.concat(frames)


def slo_budget() -> pl.DataFrame:
    rows = []
    for provider, used in {"anthropic": 240.0, "openai": 80.0, "google": 35.0}.items():
        for kind, period in (("month", "2026-02"), ("month", "2026-03"), ("window", "window")):
            pct = used if period != "2026-02" else used / 10
            requests = 172_800 if kind == "window" else 86_400
            rows.append(
                {
                    "provider": provider,
                    "period_kind": kind,
                    "period": period,
                    "requests": requests,
                    "bad_requests": round(requests * 0.005 * pct / 100),
                    "availability": 1 - 0.005 * pct / 100,
                    "availability_target": 0.995,
                    "error_budget": 0.005,
                    "budget_used_pct": pct,
                    "slo_met": pct <= 100,
                }
            )
    return pl.DataFrame(rows)


def slo_alerts() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "provider": "anthropic",
                "rule": "1h/5m@14.4",
                "severity": "page",
                "long_window": "1h",
                "short_window": "5m",
                "burn_rate_threshold": 14.4,
                "started_at": t("2026-03-02 11:52"),
                "ended_at": t("2026-03-02 16:10"),
                "peak_burn_rate": 123.3,
                "minutes": 258,
                "ongoing": False,
            },
        ],
        schema_overrides={"started_at": UTC, "ended_at": UTC},
    )


EPISODE_SCHEMA = {
    "episode_id": pl.String,
    "source": pl.String,
    "provider": pl.String,
    "service": pl.String,
    "country": pl.String,
    "started_at": UTC,
    "peak_at": UTC,
    "ended_at": UTC,
    "peak_value": pl.Float64,
    "baseline_value": pl.Float64,
    "level": pl.String,
    "source_ref": pl.String,
}


def outage_episodes() -> pl.DataFrame:
    rows = [
        (
            "e1",
            "crowd",
            "anthropic",
            "Claude",
            "us",
            t("2026-03-02 11:40"),
            t("2026-03-02 12:30"),
            t("2026-03-02 16:20"),
            4712.0,
            35.0,
            "problem",
            None,
        ),
        (
            "e2",
            "telemetry",
            "anthropic",
            "api",
            None,
            t("2026-03-02 11:45"),
            t("2026-03-02 13:00"),
            t("2026-03-02 16:00"),
            0.62,
            0.01,
            None,
            None,
        ),
        (
            "e3",
            "status",
            "anthropic",
            "claude.ai",
            None,
            t("2026-03-02 11:49"),
            t("2026-03-02 12:58"),
            t("2026-03-02 16:05"),
            3.0,
            None,
            None,
            "inc-a1",
        ),
        (
            "e4",
            "telemetry",
            "openai",
            "api",
            None,
            t("2026-03-02 18:00"),
            t("2026-03-02 18:30"),
            t("2026-03-02 19:20"),
            0.61,
            0.02,
            None,
            None,
        ),
        (
            "e5",
            "crowd",
            "google",
            "Google Gemini",
            "us",
            t("2026-03-02 05:00"),
            t("2026-03-02 05:20"),
            t("2026-03-02 05:45"),
            120.0,
            8.0,
            "problem",
            None,
        ),
    ]
    return _frame([dict(zip(EPISODE_SCHEMA, r, strict=True)) for r in rows], EPISODE_SCHEMA)


def crowd_baseline() -> pl.DataFrame:
    bins = pl.datetime_range(t("2026-03-02 00:00"), t("2026-03-03 23:55"), "5m", eager=True, time_zone="UTC")
    frames = []
    for provider, service, country in (
        ("anthropic", "Claude", "us"),
        ("anthropic", "Claude", "gb"),
        ("openai", "ChatGPT", "us"),
        ("google", "Google Gemini", "us"),
    ):
        spike = ((bins >= t("2026-03-02 11:40")) & (bins < t("2026-03-02 16:20"))).to_numpy()
        big = 4712 if country == "us" and service == "Claude" else 300
        reports = np.where(spike & (service == "Claude"), big, 30)
        frames.append(
            pl.DataFrame(
                {
                    "provider": provider,
                    "service": service,
                    "country": country,
                    "bin_start": bins,
                    "bin_minutes": 5,
                    "reports": reports,
                    "expected": 30.0,
                    "level": np.where(reports > 100, "problem", "no_problem"),
                }
            )
        )
    return pl.concat(frames).with_columns(pl.col("bin_minutes").cast(pl.Int32))


RECON_SCHEMA = {
    "group_id": pl.String,
    "provider": pl.String,
    "classification": pl.String,
    "started_at": UTC,
    "ended_at": UTC,
    "vendor_incident_ids": pl.List(pl.String),
    "titles": pl.List(pl.String),
    "triangulated_start": UTC,
    "crowd_lead_minutes": pl.Float64,
    "telemetry_lead_minutes": pl.Float64,
    "acknowledgement_lag_minutes": pl.Float64,
    "resolution_lag_minutes": pl.Float64,
    "under_reporting_minutes": pl.Int64,
    "peak_error_ratio": pl.Float64,
    "peak_crowd_reports": pl.Float64,
    "crowd_countries": pl.List(pl.String),
}


def reconciliation() -> pl.DataFrame:
    rows = [
        (
            "g-a1",
            "anthropic",
            "matched",
            t("2026-03-02 11:40"),
            t("2026-03-02 16:20"),
            ["inc-a1"],
            [SCRIPT_TITLE],
            t("2026-03-02 11:40"),
            41.0,
            36.0,
            41.0,
            5.0,
            9,
            0.6166666666666667,
            4712.0,
            ["us", "gb"],
        ),
        (
            "g-o1",
            "openai",
            "matched",
            t("2026-03-02 18:00"),
            t("2026-03-02 19:30"),
            ["inc-o1"],
            [IMG_TITLE],
            t("2026-03-02 18:00"),
            None,
            12.0,
            12.0,
            10.0,
            0,
            0.6,
            None,
            [],
        ),
        (
            "g-x",
            "google",
            "unreported_impact",
            t("2026-03-02 05:00"),
            t("2026-03-02 05:45"),
            [],
            [],
            t("2026-03-02 05:00"),
            None,
            None,
            None,
            None,
            45,
            None,
            120.0,
            ["us"],
        ),
    ]
    return _frame([dict(zip(RECON_SCHEMA, r, strict=True)) for r in rows], RECON_SCHEMA)


def migration_signals() -> pl.DataFrame:
    rows = []
    for i in range(-9, 10):
        day = t("2026-03-02 00:00") + dt.timedelta(days=i)
        for provider, rank in (
            ("anthropic", max(1, 8 - max(i, 0) * 3)),
            ("openai", 1 + (i >= 0)),
            ("google", 12),
        ):
            rows.append(
                {
                    "grain": "day",
                    "provider": provider,
                    "period_start": day,
                    "country": "us",
                    "chart": "top-free",
                    "requests": None,
                    "growth_pct": None,
                    "best_rank": rank,
                    "rank_change_1d": 3 if provider == "anthropic" and i > 0 else 0,
                }
            )
        rows.append(
            {
                "grain": "day",
                "provider": "anthropic",
                "period_start": day,
                "country": None,
                "chart": None,
                "requests": 86400,
                "growth_pct": 12.5,
                "best_rank": None,
                "rank_change_1d": None,
            }
        )
    return pl.DataFrame(
        rows, schema_overrides={"period_start": UTC, "requests": pl.Int64, "growth_pct": pl.Float64}
    )


# (provider, incident, group, month, window start, failed requests, observed minutes, base cost): the
# Google incident carries the largest cost on its vendor label alone (no request failed, no group), so it
# must not outrank incidents with observed impact when retrospectives are chosen.
COSTED = (
    ("anthropic", "inc-a1", "g-a1", "2026-03", t("2026-03-02 11:40"), 15000, 280.0, 182000.0),
    ("openai", "inc-o1", "g-o1", "2026-03", t("2026-03-02 18:00"), 4000, 90.0, 64000.0),
    ("anthropic", "inc-a2", None, "2026-03", t("2026-03-03 09:10"), 300, 90.0, 9000.0),
    ("google", "inc-g1", None, "2026-02", t("2026-02-10 08:00"), 0, 60.0, 200000.0),
    ("google", None, "g-x", "2026-03", t("2026-03-02 05:00"), 0, 45.0, 1500.0),
)
SCENARIO_FACTORS = (("low", 0.5), ("base", 1.0), ("high", 2.0))


def downtime_cost() -> pl.DataFrame:
    """marts.downtime_cost's layout: incident rows, then their sums per provider-month and provider."""
    rows = []
    for provider, incident_id, group_id, month, start, failed, minutes, base in COSTED:
        for scenario, factor in SCENARIO_FACTORS:
            total = base * factor
            rows.append(
                {
                    "level": "incident",
                    "scenario": scenario,
                    "provider": provider,
                    "month": dt.date.fromisoformat(f"{month}-01"),
                    "group_id": group_id or "-",
                    "incident_id": incident_id,
                    "window_start": start,
                    "window_end": start + dt.timedelta(minutes=minutes),
                    "impacted_minutes": minutes,
                    "failed_requests": failed,
                    "impact_basis": "telemetry" if failed else "no_evidence",
                    "assumptions": f"{failed:,} failed requests at the {scenario} value; seats x hourly cost x minutes",
                    "productivity_loss_usd": total * 0.75,
                    "failed_request_value_usd": total * 0.25,
                    "total_cost_usd": total,
                    "sla_credit_usd": None,
                }
            )
    incidents = pl.DataFrame(rows, schema_overrides={"window_start": UTC, "window_end": UTC})
    summed = [
        "impacted_minutes",
        "failed_requests",
        "productivity_loss_usd",
        "failed_request_value_usd",
        "total_cost_usd",
    ]
    months = (
        incidents.group_by("provider", "month", "scenario")
        .agg(pl.col(c).sum() for c in summed)
        .with_columns(level=pl.lit("month"), sla_credit_usd=pl.lit(250.0))
    )
    providers = (
        months.group_by("provider", "scenario")
        .agg(*(pl.col(c).sum() for c in [*summed, "sla_credit_usd"]))
        .with_columns(level=pl.lit("provider"))
    )
    return pl.concat([incidents, months, providers], how="diagonal_relaxed").with_columns(
        pl.col("group_id").fill_null("-")
    )


def failover_simulation() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "policy": "fail over to openai",
                "provider": "anthropic",
                "fallback_provider": "openai",
                "saved_requests": 15210,
                "downtime_cost_avoided_usd": 151000.0,
                "downtime_cost_avoided_usd_low": 75500.0,
                "downtime_cost_avoided_usd_high": 302000.0,
                "extra_cost_usd": 1200.0,
                "extra_latency_ms": 340.0,
                "correlated_failure_minutes": 12,
            },
            {
                "policy": "fail over to anthropic",
                "provider": "openai",
                "fallback_provider": "anthropic",
                "saved_requests": -961,
                "downtime_cost_avoided_usd": 52000.0,
                "downtime_cost_avoided_usd_low": 26000.0,
                "downtime_cost_avoided_usd_high": 104000.0,
                "extra_cost_usd": 800.0,
                "extra_latency_ms": 120.0,
                "correlated_failure_minutes": 12,
            },
        ]
    )


def migration_correlation() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider": ["anthropic", "openai"],
            "sentence": [FINDING, "OpenAI's rank did not move with its error ratio."],
            "significant": [True, False],
            "p_value": [0.01, 0.4],
        }
    )


def acknowledgement_lag() -> pl.DataFrame:
    """marts.acknowledgement_lag as the fixture's groups give it: Anthropic 41 min late once, OpenAI posted
    first (0), Google never posted its one impact; a provider nobody saw in trouble has null figures."""
    columns = ("provider", "observed_impacts", "posted_impacts", "never_posted_impacts",
               "ack_lag_median_minutes", "ack_lag_mean_minutes", "ack_lag_graded_mean_minutes")
    rows = [
        ("anthropic", 1, 1, 0, 41.0, 41.0, 41.0),
        ("openai", 1, 1, 0, 0.0, 0.0, 0.0),
        ("google", 1, 0, 1, None, None, 240.0),
        ("mistral", 0, 0, 0, None, None, None),
    ]
    return pl.DataFrame([dict(zip(columns, r, strict=True)) for r in rows])


def component_daily_uptime() -> pl.DataFrame:
    """marts.component_daily_uptime computed from the fixture's incidents over the fixture's window."""
    return daily_uptime_mart(incidents(), None, dt.datetime(2025, 12, 1, tzinfo=dt.UTC),
                             dt.datetime(2026, 3, 16, tzinfo=dt.UTC))


MARTS = {
    "marts.incidents": incidents,
    "marts.component_reliability": component_reliability,
    "marts.provider_minute_sli": minute_sli,
    "marts.slo_budget": slo_budget,
    "marts.slo_alerts": slo_alerts,
    "marts.outage_episodes": outage_episodes,
    "marts.crowd_baseline": crowd_baseline,
    "marts.incident_reconciliation": reconciliation,
    "marts.migration_signals": migration_signals,
    "marts.migration_correlation": migration_correlation,
    "marts.downtime_cost": downtime_cost,
    "marts.failover_simulation": failover_simulation,
    "marts.acknowledgement_lag": acknowledgement_lag,
    "marts.component_daily_uptime": component_daily_uptime,
}


def fill_warehouse(path: Path, skip: tuple[str, ...] = ()) -> None:
    with connect(path) as con:
        for table, build in MARTS.items():
            if table not in skip:
                replace_table(con, table, build())
        rejects = pl.DataFrame(
            {
                "source": ["crowd_reports"] * 2,
                "file": ["raw/x.csv"] * 2,
                "record_no": [3, 9],
                "reason": ["reports: '<b>' is not an integer"] * 2,
                "raw": ["<b>", "x"],
            }
        )
        write_rejects(con, "crowd_reports", ["raw/x.csv"], rejects)


def make_workspace(root: Path) -> Workspace:
    data = root / "data"
    (data / "config").mkdir(parents=True)
    shutil.copy(REPO / "data/config/providers.yaml", data / "config/providers.yaml")
    return Workspace(
        data_dir=str(data), reports_dir=str(root / "reports"), config_path=str(data / "config/providers.yaml")
    )


def report_assets() -> list:
    from assets.reports.daily.assets import daily_digest
    from assets.reports.index import index
    from assets.reports.retrospective.assets import retrospectives
    from assets.reports.vendor_review.assets import vendor_review

    return [retrospectives, vendor_review, daily_digest, index]


def materialize_reports(workspace: Workspace) -> dg.ExecuteInProcessResult:
    """Every report asset over DAYS in one single-run backfill (daily digest gets both days)."""
    return dg.materialize(
        report_assets(),
        resources={"workspace": workspace},
        tags={"dagster/asset_partition_range_start": DAYS[0], "dagster/asset_partition_range_end": DAYS[-1]},
    )


@dataclass
class Built:
    workspace: Workspace
    reports_dir: Path
    warehouse: Path
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="session")
def built_reports(tmp_path_factory: pytest.TempPathFactory) -> Built:
    workspace = make_workspace(tmp_path_factory.mktemp("reports_build"))
    fill_warehouse(workspace.settings.warehouse_path)
    result = materialize_reports(workspace)
    assert result.success
    return Built(workspace, workspace.settings.reports_dir, workspace.settings.warehouse_path, result)


EMPTY_DAYS = ("2024-06-03", "2024-06-04")  # a range in another year where no evidence exists


def fill_empty_warehouse(path: Path) -> None:
    """The marts of a range with no data: every mart empty but its columns, except the reliability rows
    an older mart wrote as 100% uptime with 0 incidents (the page must not believe them)."""
    with connect(path) as con:
        for table, build in MARTS.items():
            frame = build()
            if table == "marts.component_reliability":
                frame = frame.with_columns(
                    incidents=0, uptime_pct=100.0, weighted_down_minutes=0.0, mttr_median_hours=None
                )
            else:
                frame = frame.head(0)
            replace_table(con, table, frame)


@pytest.fixture(scope="session")
def empty_reports(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Every report over EMPTY_DAYS, the run's window set by its tags as `incidents run` sets them."""
    workspace = make_workspace(tmp_path_factory.mktemp("reports_empty"))
    fill_empty_warehouse(workspace.settings.warehouse_path)
    result = dg.materialize(
        report_assets(),
        resources={"workspace": workspace},
        tags={
            "dagster/asset_partition_range_start": EMPTY_DAYS[0],
            "dagster/asset_partition_range_end": EMPTY_DAYS[-1],
            WINDOW_START_TAG: EMPTY_DAYS[0],
            WINDOW_END_TAG: EMPTY_DAYS[-1],
        },
    )
    assert result.success
    return Built(workspace, workspace.settings.reports_dir, workspace.settings.warehouse_path, result)


@pytest.fixture(scope="session")
def kit():
    """This module (mart builders, titles, helpers) for tests: with --import-mode=importlib a test file
    cannot import its conftest, so it asks for it as a fixture."""
    return sys.modules[__name__]
