"""staging.request_log_clients: each client's first request per UTC day, kept by the request-log staging step.

The migration mart's "new client ids" must stay what a scan of the whole lake gives, through reruns of old
days, removed files and warehouses written before the table existed. Second world: 0.1x traffic, two
years before the demo, with planted clients on top.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.marts.migration.inputs import read_inputs
from assets.staging.request_logs import publish_clients, request_logs
from pipelines.core.frames import to_utc
from pipelines.core.warehouse import connect

DAYS = ["2023-12-04", "2023-12-05", "2023-12-06", "2023-12-07"]

# The definition the table replaces: each client's first request over every lake row, by UTC hour.
LAKE_SCAN_FIRST_SEEN = """
SELECT provider, date_trunc('hour', first_ts) AS period_start, count(*) AS new_clients
FROM (
    SELECT provider, client_id, timezone('UTC', min(ts)) AS first_ts
    FROM staging.request_logs
    WHERE provider IS NOT NULL AND client_id IS NOT NULL AND ts IS NOT NULL
    GROUP BY provider, client_id
)
GROUP BY ALL
ORDER BY ALL
"""


def _at(day: str, hh_mm: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hh_mm}:00+00:00")


def _plant(data_dir: Path, day: str, name: str, requests: list[tuple[str, str, dt.datetime]]) -> None:
    """A gateway JSONL file in day's folder: one request per (provider, client_id, ts)."""
    fields = {"model": "m", "endpoint": "/v1/x", "status": 200, "latency_ms": 100, "tokens_in": 1, "tokens_out": 1,
              "region": "us-east-1"}
    lines = [json.dumps({"ts": ts.isoformat(), "provider": provider, "client_id": client, **fields})
             for provider, client, ts in requests]
    (data_dir / "raw/request_logs" / day / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run(workspace, days: list[str]) -> None:
    tags = {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]}
    assert dg.materialize([request_logs], resources={"workspace": workspace}, tags=tags).success


def _first_seen(workspace) -> dict[tuple[str, str], dt.datetime]:
    """(provider, client_id) -> first request, from the table."""
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        rows = con.sql("SELECT provider, client_id, min(first_ts) FROM staging.request_log_clients "
                       "GROUP BY ALL").fetchall()
    return {(p, c): ts for p, c, ts in rows}


def _table(workspace) -> pl.DataFrame:
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        return con.sql("SELECT * FROM staging.request_log_clients ORDER BY ALL").pl()


def _assert_mart_input_equals_the_lake_scan(workspace) -> pl.DataFrame:
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        from_table = read_inputs(con)["first_seen"]
        from_lake = to_utc(con.sql(LAKE_SCAN_FIRST_SEEN).pl())
        per_day = con.sql("SELECT day, provider, client_id, min(ts) AS first_ts FROM staging.request_logs "
                          "WHERE client_id IS NOT NULL GROUP BY ALL ORDER BY ALL").pl()
    assert from_table.equals(from_lake), (from_table, from_lake)
    assert _table(workspace).equals(per_day)
    return from_table


@pytest.fixture
def world(workspace, data_dir):
    """Four generated days (every table built in one run) plus planted clients."""
    from pipelines.scenario import generate

    generate(data_dir, start=DAYS[0], end=DAYS[-1], scale=0.1, sources=["request_logs"], shift_days=-728)
    _plant(data_dir, DAYS[1], "planted.jsonl", [("anthropic", "shared-id", _at(DAYS[1], "10:15")),
                                                ("openai", "shared-id", _at(DAYS[1], "09:40")),
                                                ("openai", "shared-id", _at(DAYS[2], "01:00"))])
    _plant(data_dir, DAYS[2], "planted.jsonl", [("anthropic", "late-client", _at(DAYS[2], "18:00"))])
    _plant(data_dir, DAYS[3], "planted.jsonl", [("google", "last-day-only", _at(DAYS[3], "06:30"))])
    _run(workspace, DAYS)
    return workspace


def test_first_seen_equals_the_lake_scan_and_providers_keep_their_own_clients(world):
    first_seen = _assert_mart_input_equals_the_lake_scan(world)
    table, seen = _table(world), _first_seen(world)
    assert sorted({d.isoformat() for d in table["day"]}) == DAYS
    assert len(seen) > 100 and table.height > len(seen)  # clients come back on later days
    assert first_seen["new_clients"].sum() == len(seen)
    # one client_id at two providers is two clients; openai's later request (DAYS[2], 01:00) is not new
    assert seen[("anthropic", "shared-id")] == _at(DAYS[1], "10:15")
    assert seen[("openai", "shared-id")] == _at(DAYS[1], "09:40")
    assert seen[("anthropic", "late-client")] == _at(DAYS[2], "18:00")


def test_an_old_day_rerun_with_an_extra_file_moves_a_first_request_earlier(world, data_dir):
    before = _table(world)
    _plant(data_dir, DAYS[0], "late-arrival.jsonl", [("anthropic", "late-client", _at(DAYS[0], "03:00"))])
    _run(world, [DAYS[0]])
    _assert_mart_input_equals_the_lake_scan(world)
    assert _first_seen(world)[("anthropic", "late-client")] == _at(DAYS[0], "03:00")
    after = _table(world)
    # only DAYS[0] was rewritten: it gained the one row, every other day (DAYS[2]'s 18:00 too) is unchanged
    others = pl.col("day") != dt.date.fromisoformat(DAYS[0])
    assert after.filter(others).equals(before.filter(others))
    assert after.height == before.height + 1


def test_a_day_whose_files_are_removed_loses_its_clients(world, data_dir):
    assert ("google", "last-day-only") in _first_seen(world)
    shutil.rmtree(data_dir / "raw/request_logs" / DAYS[3])
    _run(world, [DAYS[3]])
    _assert_mart_input_equals_the_lake_scan(world)
    assert ("google", "last-day-only") not in _first_seen(world)
    assert sorted({d.isoformat() for d in _table(world)["day"]}) == DAYS[:3]


def test_a_warehouse_without_the_table_gets_it_built_from_every_lake_day(world):
    before = _table(world)
    with connect(world.settings.warehouse_path) as con:
        con.execute("DROP TABLE staging.request_log_clients")  # as a warehouse written before it existed
    _run(world, [DAYS[1]])
    assert _table(world).equals(before)
    _assert_mart_input_equals_the_lake_scan(world)


def test_a_failed_write_leaves_the_earlier_table_intact(world):
    before = _table(world)
    bad = pl.DataFrame({"day": [dt.date.fromisoformat(DAYS[1])], "provider": ["openai"], "client_id": ["x"],
                        "first_ts": ["not a time"]})
    with connect(world.settings.warehouse_path) as con, pytest.raises(Exception, match="(?i)conver|cast"):
        publish_clients(con, world.settings, [DAYS[1]], bad)
    assert _table(world).equals(before)
