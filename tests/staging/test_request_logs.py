"""The request-log lake: materialising a day, the view over it, reruns, and surviving a kill mid-write."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from assets.ingest.request_logs import ProviderMapping
from assets.staging.request_logs import (
    LAKE,
    REQUEST_LOGS_CHECK,
    VIEW_COLUMNS,
    create_view,
    request_logs,
    write_day_partition,
)
from pipelines.core.lake import PART_FILE
from pipelines.core.warehouse import connect

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests/fixtures/request_logs"
DAY = "2026-03-02"


def _land(data_dir: Path, fixture_set: str, day: str = DAY) -> Path:
    raw = data_dir / "raw/request_logs" / day
    raw.mkdir(parents=True, exist_ok=True)
    for f in (FIXTURES / fixture_set / DAY).iterdir():
        shutil.copy(f, raw / f.name)
    return raw


def _materialize(workspace, partition_key: str = DAY) -> dg.ExecuteInProcessResult:
    result = dg.materialize([request_logs], resources={"workspace": workspace}, partition_key=partition_key)
    assert result.success
    return result


def _view_rows(workspace) -> list[tuple]:
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        return con.sql(
            "SELECT day, ts, provider, model, endpoint, status, latency_ms, tokens_in, tokens_out, client_id, "
            "region, error_type, file FROM staging.request_logs ORDER BY ALL"
        ).fetchall()


def test_materialize_a_day_then_query_the_view(workspace, data_dir):
    _land(data_dir, "good")
    _land(data_dir, "bad")  # same day: gateway.jsonl of the bad set replaces the good one
    result = _materialize(workspace)

    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    rows_in, accepted, quarantined = (
        metadata[k].value for k in ("rows_in", "rows_accepted", "rows_quarantined")
    )
    assert rows_in == accepted + quarantined
    assert metadata["files"].value == 6
    assert metadata["lake_paths"].value == [f"lake/request_logs/day={DAY}/{PART_FILE}"]
    per_file = {Path(f["file"]).name: f for f in metadata["per_file"].value}
    # 13, not 14: with the real clock the fixture's 23:00 row is no longer in the future
    assert per_file["gateway.jsonl"]["quarantined"] == 13
    assert per_file["export.csv"]["parser"] == "native"  # clean files keep the fast path on a mixed day
    assert per_file["edge-access.log"]["parser"] == "lines"
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == REQUEST_LOGS_CHECK and check.passed

    rows = _view_rows(workspace)
    assert len(rows) == accepted
    assert {r[0].isoformat() for r in rows} == {DAY}
    assert {r[-1] for r in rows} >= {f"raw/request_logs/{DAY}/api.anthropic.com-access.log"}
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        columns = [c[0] for c in con.sql("DESCRIBE staging.request_logs").fetchall()]
        assert columns == list(VIEW_COLUMNS)
        rejected = con.sql(
            "SELECT file, record_no, reason FROM quarantine.rejected_rows WHERE source = 'request_logs'"
        ).fetchall()
    assert len(rejected) == quarantined
    assert (
        f"raw/request_logs/{DAY}/gateway.jsonl",
        4,
        "status: 'abc' is not an integer HTTP code in 100-599",
    ) in rejected
    assert not (data_dir / "lake/.tmp").exists()


def test_rerun_replaces_the_day_with_identical_rows(workspace, data_dir):
    _land(data_dir, "good")
    _materialize(workspace)
    first = _view_rows(workspace)
    _materialize(workspace)
    assert _view_rows(workspace) == first and len(first) == 8
    assert sorted(p.name for p in LAKE.partition_dir(workspace.settings, DAY).iterdir()) == [PART_FILE]
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        assert con.sql("SELECT count(*) FROM quarantine.rejected_rows").fetchall() == [(0,)]


def test_view_is_empty_but_typed_before_any_day_exists(workspace):
    with connect(workspace.settings.warehouse_path) as con:
        assert create_view(con, workspace.settings) is False
        assert con.sql("SELECT count(*) FROM staging.request_logs").fetchall() == [(0,)]
        types = dict(
            con.sql("SELECT column_name, column_type FROM (DESCRIBE staging.request_logs)").fetchall()
        )
    assert (
        types["day"] == "DATE" and types["ts"] == "TIMESTAMP WITH TIME ZONE" and types["status"] == "INTEGER"
    )


def test_a_day_whose_files_are_gone_loses_its_partition(workspace, data_dir):
    mapping = ProviderMapping.from_config(workspace.providers())
    raw = _land(data_dir, "good")
    write_day_partition(workspace.settings, mapping, DAY)
    assert (LAKE.partition_dir(workspace.settings, DAY) / PART_FILE).is_file()
    shutil.rmtree(raw)
    result = write_day_partition(workspace.settings, mapping, DAY)
    assert result.files == [] and not LAKE.partition_dir(workspace.settings, DAY).exists()


_KILLABLE_INGEST = """
import sys
from assets.ingest.request_logs import ProviderMapping
from assets.staging.request_logs import write_day_partition
from pipelines.core.config import load_providers
from pipelines.core.settings import get_settings

settings = get_settings()
write_day_partition(settings, ProviderMapping.from_config(load_providers(settings.config_path)), sys.argv[1])
"""


def _big_day(raw: Path, lines: int) -> None:
    template = (
        '{{"ts": "2026-03-02T{h:02d}:{m:02d}:{s:02d}Z", "provider": "anthropic", "model": "claude-sonnet-4", '
        '"endpoint": "/v1/messages", "status": {status}, "latency_ms": {i}.5, "tokens_in": {i}, "tokens_out": 7, '
        '"client_id": "client-{c}", "region": "us-east-1", "error_type": null}}\n'
    )
    with open(raw / "gateway.jsonl", "w") as out:
        for i in range(lines):
            sec = i * 86_000 // lines
            out.write(
                template.format(
                    h=sec // 3600,
                    m=sec // 60 % 60,
                    s=sec % 60,
                    i=i,
                    c=i % 97,
                    status=529 if i % 10 == 0 else 200,
                )
            )


def test_a_kill_mid_write_leaves_the_previous_day_and_a_rerun_completes(workspace, data_dir):
    raw = data_dir / "raw/request_logs" / DAY
    raw.mkdir(parents=True)
    _big_day(raw, 1_000)
    _materialize(workspace)  # a complete earlier version of the day
    assert len(_view_rows(workspace)) == 1_000

    _big_day(raw, 300_000)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE_INGEST, DAY], cwd=REPO, env=env)
    tmp = data_dir / "lake/.tmp"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any(tmp.glob(f"request_logs-{DAY}-*/{PART_FILE}")):  # the new day is being written
                break
            time.sleep(0.002)
        assert proc.poll() is None, "the ingest finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert any(tmp.glob(f"request_logs-{DAY}-*")), "the killed run left its work behind, outside the view"

    with connect(workspace.settings.warehouse_path) as con:  # what a reader sees right after the crash
        create_view(con, workspace.settings)
        assert con.sql("SELECT count(*) FROM staging.request_logs").fetchall() == [(1_000,)]
    assert sorted(p.name for p in LAKE.partition_dir(workspace.settings, DAY).iterdir()) == [PART_FILE]

    _materialize(workspace)
    with connect(workspace.settings.warehouse_path, read_only=True) as con:
        assert con.sql("SELECT count(*), count(DISTINCT tokens_in) FROM staging.request_logs").fetchall() == [
            (300_000, 300_000)
        ]
    assert not tmp.exists(), "the rerun cleaned up after the killed run"


@pytest.mark.parametrize("bad_key", ["../2026-03-02", "2026-13-45"])
def test_partition_keys_cannot_escape_the_lake(workspace, bad_key):
    with pytest.raises(ValueError):
        LAKE.partition_dir(workspace.settings, bad_key)
