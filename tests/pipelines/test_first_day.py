"""The first partition day: 2020-01-01, or $INCIDENTS_FIRST_DAY read when the code location loads; a wrong
value is one line of `incidents check` (and the default meanwhile), never a crash on import."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.core import partitions, preflight
from pipelines.core.partitions import DEFAULT_FIRST_DAY, FIRST_DAY_ENV, first_day_from
from pipelines.core.settings import Settings

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)


def test_unset_is_2020_and_a_day_is_taken_as_given():
    assert first_day_from(None, NOW) == (dt.date(2020, 1, 1), None) == (DEFAULT_FIRST_DAY, None)
    assert first_day_from("", NOW) == (DEFAULT_FIRST_DAY, None)
    assert first_day_from("2012-05-01", NOW) == (dt.date(2012, 5, 1), None)
    assert first_day_from("2026-12-03", NOW) == (dt.date(2026, 12, 3), None)  # yesterday: the newest allowed


@pytest.mark.parametrize(("value", "why"), [
    ("2026-02-30", "not a day"),
    ("20120501", "not a day"),
    ("05/01/2012", "not a day"),
    ("1969-12-31", "before 1970-01-01"),
    ("2026-12-04", "after 2026-12-03, the newest complete UTC day"),
])
def test_a_wrong_value_gives_the_default_and_one_line_saying_why(value, why):
    day, problem = first_day_from(value, NOW)
    assert day == DEFAULT_FIRST_DAY
    assert problem == (f"{FIRST_DAY_ENV}={value!r}: {why}; set the first UTC day to partition as YYYY-MM-DD, "
                       "or unset it for 2020-01-01")


def test_the_env_var_moves_every_partitioned_asset_and_the_range_check(tmp_path):
    probe = (
        "import json, datetime as dt\n"
        "from pipelines.definitions import defs\n"
        "from pipelines.core.preflight import Evidence, check_range\n"
        "graph = defs.resolve_asset_graph()\n"
        "firsts = {n.partitions_def.get_first_partition_key() for n in graph.asset_nodes if n.partitions_def}\n"
        "ev = Evidence({'request_logs': [dt.date(2015, 6, 1)]}, 0)\n"
        "print(json.dumps({'firsts': sorted(firsts),\n"
        "                  'in': check_range(dt.date(2015, 6, 1), dt.date(2015, 6, 1), ev, dt.date(2026, 12, 4)),\n"
        "                  'before': check_range(dt.date(2012, 4, 30), dt.date(2012, 5, 1), ev, dt.date(2026, 12, 4))}))\n"
    )
    env = {**os.environ, FIRST_DAY_ENV: "2012-05-01", "DAGSTER_HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["firsts"] == ["2012-05-01"]
    assert seen["in"] is None
    assert seen["before"].startswith("--start 2012-04-30 is before 2012-05-01, the first day the pipeline partitions")


def test_check_reports_a_wrong_value_in_one_line(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True)
    for name in ("providers.yaml", "cost_model.yaml"):
        (data / "config" / name).write_text((REPO / "data/config" / name).read_text())
    settings = Settings(data, tmp_path / "reports", data / "config/providers.yaml")
    assert preflight.check_config(settings)[1] == []
    _, problem = first_day_from("2026-02-30", NOW)
    monkeypatch.setattr(preflight, "FIRST_DAY_PROBLEM", problem)  # what the import read from the env
    assert preflight.check_config(settings)[1] == [problem]
    assert partitions.FIRST_DAY == DEFAULT_FIRST_DAY  # this test process: the env var is not set
