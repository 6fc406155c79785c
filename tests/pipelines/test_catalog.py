"""The Dagster catalog as users read it: descriptions that render, described checks, standard table
metadata on mart materialisations, raw sources as external assets, scale-out jobs only where deployed."""

from __future__ import annotations

import datetime as dt
import re

import dagster as dg
import polars as pl
import pytest

from assets.marts.correlation.assets import load_error_curve
from assets.marts.failover.assets import failover_simulation
from assets.marts.slo.assets import SLO_BUDGET_CHECK, budget_expectations, slo_budget
from pipelines.celery_executor import BROKER_ENV
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata, table_preview
from pipelines.core.minute_sli import MINUTE_SLI_SCHEMA
from pipelines.core.quality import between, check_result, describe, in_set, not_null
from pipelines.core.warehouse import read_table, replace_table
from pipelines.definitions import build_defs, defs
from pipelines.jobs import SCALE_OUT_ENV

CELERY_JOBS = {"celery_backfill_job", "celery_main_job"}
# `<day>` outside a code span: Markdown swallows it as an HTML tag
BARE_PLACEHOLDER = re.compile(r"<[a-z][a-z_-]*>")


def _outside_code(text: str) -> str:
    return re.sub(r"`[^`]*`", "", text)


def _graph():
    return defs.resolve_asset_graph()


def test_every_asset_has_a_description_that_renders():
    graph = _graph()
    for key in graph.get_all_asset_keys():
        description = graph.get(key).description or ""
        assert description.strip(), f"{key.to_user_string()} has no description"
        assert not BARE_PLACEHOLDER.search(_outside_code(description)), key.to_user_string()


def test_every_check_has_a_description_listing_its_expectations():
    graph = _graph()
    checks = list(graph.asset_check_keys)
    assert len(checks) >= 20
    for check in checks:
        assert (graph.get_check_spec(check).description or "").strip(), check.name
    budget = graph.get_check_spec(dg.AssetCheckKey(tables.SLO_BUDGET, SLO_BUDGET_CHECK)).description
    listed = [line for line in budget.splitlines() if line.startswith("- ")]
    assert listed == [f"- {describe(e)}" for e in budget_expectations()]
    assert "- `availability` in [0, 1]" in listed


def test_expectations_in_words():
    assert describe(between("error_ratio", 0, 1)) == "`error_ratio` in [0, 1]"
    assert describe(between("requests", 1, None)) == "`requests` >= 1"
    assert describe(between("unclassified", 0, 0)) == "`unclassified` = 0"
    assert describe(in_set("severity", {"ticket", "page"})) == "`severity` one of page, ticket"


def test_check_results_name_each_expectation_and_its_outcome():
    frame = pl.DataFrame({"provider": ["a", None, "c"], "error_ratio": [0.5, 0.2, 1.5]})
    result = check_result("x", frame, [not_null("provider"), between("error_ratio", 0, 1)])
    assert not result.passed
    rows = result.metadata["results"].value.splitlines()[2:]
    assert sorted(rows) == ["| `error_ratio` in [0, 1] | **no** | 1 |", "| `provider` never null | **no** | 1 |"]
    assert check_result("x", frame.drop_nulls().head(1), [not_null("provider")]).passed


def test_raw_sources_are_external_described_and_partitioned():
    graph = _graph()
    for name in ("status_pages", "app_rankings", "crowd_reports", "request_logs"):
        node = graph.get(dg.AssetKey(["raw", name]))
        assert node.is_external and not node.is_materializable
        assert f"`raw/{name}/" in node.description
        assert (node.partitions_def is not None) == (name != "status_pages")


def test_schedule_and_sensor_say_they_are_off_and_how_to_start_them():
    schedule = defs.resolve_schedule_def("daily_materialisation")
    sensor = defs.resolve_sensor_def("raw_files_sensor")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert "Off by default" in schedule.description and "dagster schedule start" in schedule.description
    assert "Off by default" in sensor.description and "dagster sensor start" in sensor.description


@pytest.mark.parametrize(
    ("environ", "has_celery"),
    [({}, False), ({BROKER_ENV: "redis://127.0.0.1:6399/0"}, True), ({SCALE_OUT_ENV: "1"}, True),
     ({SCALE_OUT_ENV: "0", BROKER_ENV: ""}, False)],
)
def test_celery_jobs_only_where_deployed(environ, has_celery):
    names = {job.name for job in build_defs(environ).resolve_all_job_defs()}
    assert {"main_job", "backfill_job"} <= names
    assert names & CELERY_JOBS == (CELERY_JOBS if has_celery else set())


def test_preview_and_schema_from_a_frame():
    frame = pl.DataFrame({"provider": ["a|b", "c"], "minute": [dt.datetime(2026, 3, 2, tzinfo=dt.UTC)] * 2})
    metadata = table_metadata(frame, {"provider": "provider key"})
    assert metadata["dagster/row_count"] == 2
    columns = metadata["dagster/column_schema"].columns
    assert [(c.name, c.type, c.description) for c in columns] == [
        ("provider", "string", "provider key"), ("minute", "timestamptz", "")]
    assert "a\\|b" in metadata["preview"].value
    assert table_preview(frame.clear()).value == "*No rows.*"


def _minute_sli() -> pl.DataFrame:
    """Two providers, three minutes each: anthropic fails 50 of 300 requests, openai 0 of 300."""
    start = dt.datetime(2026, 3, 2, 11, 50, tzinfo=dt.UTC)
    rows = []
    for provider, errors in (("anthropic", [0, 40, 10]), ("openai", [0, 0, 0])):
        for i, failed in enumerate(errors):
            rows.append({"day": start.date(), "provider": provider, "minute": start + dt.timedelta(minutes=i),
                         "requests": 100, "ok": 100 - failed, "errors_5xx": failed, "errors_529": 0,
                         "errors_429": 0, "errors_4xx_other": 0, "timeouts": 0, "errors_other": 0,
                         "error_ratio": failed / 100, "latency_p50_ms": 400.0, "latency_p95_ms": 900.0})
    return pl.DataFrame(rows, schema=MINUTE_SLI_SCHEMA)


def test_mart_materialisations_carry_row_count_schema_and_preview(workspace):
    with workspace.warehouse() as con:
        replace_table(con, tables.MINUTE_SLI, _minute_sli())
    marts = [slo_budget, failover_simulation, load_error_curve]
    result = dg.materialize(marts, resources={"workspace": workspace})
    assert result.success
    with workspace.warehouse(read_only=True) as con:
        stored = {m.key: read_table(con, m.key) for m in marts}
    for mart in marts:
        [event] = result.asset_materializations_for_node(mart.op.name)
        metadata = event.metadata
        assert metadata["dagster/row_count"].value == stored[mart.key].height > 0
        columns = metadata["dagster/column_schema"].schema.columns
        assert [c.name for c in columns] == stored[mart.key].columns
        assert all(c.description for c in columns), mart.key
        assert "anthropic" in metadata["preview"].value
    budget = stored[tables.SLO_BUDGET]
    # one month row and one window row per provider; anthropic's 50 failures of 300 requests
    assert budget.height == 4
    window = budget.filter((pl.col("provider") == "anthropic") & (pl.col("period_kind") == "window"))
    assert window["bad_requests"].item() == 50
    assert window["availability"].item() == pytest.approx(250 / 300)
    [check] = [c for c in result.get_asset_check_evaluations() if c.check_name == SLO_BUDGET_CHECK]
    assert check.passed and "`availability` in [0, 1] | yes" in check.metadata["results"].value
