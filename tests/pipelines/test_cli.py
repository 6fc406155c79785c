"""The CLI refuses what cannot work before any Dagster run starts: one line per mistake, exit code 2."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.core.preflight import Evidence, check_range
from pipelines.core.settings import get_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    shutil.copytree(REPO / "data/config", data / "config")
    monkeypatch.delenv("INCIDENTS_CONFIG", raising=False)
    monkeypatch.setenv("INCIDENTS_DATA_DIR", str(data))
    monkeypatch.setenv("INCIDENTS_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return data


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error:")]


def test_config_defaults_to_the_data_dirs_config_folder(data):
    assert get_settings().config_path == data / "config/providers.yaml"


def test_check_passes_on_the_tracked_config(data):
    result = invoke("check")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output


def test_check_reports_each_config_mistake_once_in_one_line(data):
    text = (data / "config/providers.yaml").read_text()
    (data / "config/providers.yaml").write_text(text.replace("analysis:", "analysis:\n  colour: blue", 1)
                                                .replace("crowd_services:", "crowd_service:", 1))
    result = invoke("check")
    assert result.exit_code == 2
    lines = error_lines(result.output)
    # the unknown key and the misspelt one (the catalogue entry still supplies crowd_services)
    assert len(lines) == 2, result.output
    assert all("providers.yaml" in line for line in lines)
    assert any("'analysis.colour' is not allowed" in line for line in lines)
    assert any("crowd_service' is not allowed" in line for line in lines)


def test_check_reports_bad_yaml_and_a_bad_layout(data):
    (data / "config/cost_model.yaml").write_text("providers: [unclosed\n")
    (data / "raw/crowd_reports/March").mkdir(parents=True)
    (data / "raw/logs").mkdir(parents=True)
    (data / "raw/status_pages/mistral").mkdir(parents=True)
    result = invoke("check")
    assert result.exit_code == 2
    lines = error_lines(result.output)
    assert len(lines) == 4, result.output
    assert "cost_model.yaml: not valid YAML" in lines[0]
    assert any("raw/logs: not a source folder" in line for line in lines)
    assert any("March: day folders are named YYYY-MM-DD" in line for line in lines)
    assert any("'mistral' is not a provider" in line for line in lines)


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2019-12-31", "2020-01-02", "is before 2020-01-01, the first day the pipeline partitions"),
    ("2026-03-01", "2099-01-01", "is in the future or today"),
    ("2026-03-02", "2026-03-01", "is before --start"),
    ("2021-01-01", "2021-01-31", "no evidence for 2021-01-01 .. 2021-01-31"),
])
def test_run_refuses_an_impossible_or_empty_range_in_one_line_before_starting(data, start, end, expected):
    result = invoke("run", "--start", start, "--end", end)
    assert result.exit_code == 2, result.output
    lines = error_lines(result.output)
    assert len(lines) == 1 and expected in lines[0], result.output
    assert not (data.parent / "dagster_home").exists()  # no Dagster instance was even created


def test_run_refuses_a_config_mistake_before_starting(data):
    (data / "config/providers.yaml").write_text("analysis: {start: 2026-01-01}\n")
    result = invoke("run", "--start", "2026-03-01", "--end", "2026-03-02")
    assert result.exit_code == 2
    assert len(error_lines(result.output)) >= 2  # analysis.end, app_store, providers missing: one line each
    assert not (data.parent / "dagster_home").exists()


def test_dates_are_typed_and_flags_override_the_env(data, tmp_path):
    result = invoke("run", "--start", "2026-03-xx", "--end", "2026-03-02")
    assert result.exit_code == 2 and "--start" in result.output and "2026-03-xx" in result.output
    other = tmp_path / "other"
    result = invoke("--data-dir", str(other), "check")
    assert result.exit_code == 2 and str(other / "config/providers.yaml") in result.output


def test_check_range_accepts_any_past_window_with_evidence():
    evidence = Evidence(days={"request_logs": [dt.date(2021, 6, 1)], "crowd_reports": [], "app_rankings": []},
                        status_snapshots=0)
    today = dt.date(2026, 12, 4)
    assert check_range(dt.date(2021, 5, 30), dt.date(2021, 6, 2), evidence, today) is None
    assert check_range(dt.date(2026, 12, 3), dt.date(2026, 12, 3), Evidence({}, True), today) is None
    assert "in the future" in check_range(dt.date(2026, 12, 3), dt.date(2026, 12, 4), Evidence({}, True), today)
    assert "no evidence" in check_range(dt.date(2022, 1, 1), dt.date(2022, 1, 2), evidence, today)


def test_evidence_of_a_range_looks_only_at_its_days(tmp_path):
    from pipelines.core.lake import DayLake
    from pipelines.core.preflight import find_evidence
    from pipelines.core.settings import Settings

    settings = Settings(tmp_path, tmp_path / "reports", tmp_path / "config/providers.yaml")
    raw = settings.raw_dir
    for folder in ("crowd_reports/2026-03-01", "crowd_reports/2026-03-05", "app_rankings/2026-03-02",
                   "request_logs/2026-02-27"):
        (raw / folder).mkdir(parents=True)
        (raw / folder / "export.csv").write_text("x")
    (raw / "app_rankings/2026-03-03").mkdir()  # empty: no evidence
    (raw / "crowd_reports/2026-13-45").mkdir()  # not a day: not ours
    (raw / "crowd_reports/notes").mkdir()
    DayLake("request_logs").update_index(settings, {"raw/request_logs/2026-02-27/gw.jsonl": {"days": ["2026-02-27",
                                                                                              "2026-03-02"]}})
    ranged = find_evidence(settings, dt.date(2026, 3, 2), dt.date(2026, 3, 4))
    assert ranged.days == {"crowd_reports": [], "app_rankings": [dt.date(2026, 3, 2)],
                           "request_logs": [dt.date(2026, 3, 2)]}
    assert ranged.status_snapshots is False
    everything = find_evidence(settings)
    assert everything.days["crowd_reports"] == [dt.date(2026, 3, 1), dt.date(2026, 3, 5)]
    assert everything.days["request_logs"] == [dt.date(2026, 2, 27), dt.date(2026, 3, 2)]
    (raw / "status_pages/anthropic").mkdir(parents=True)
    (raw / "status_pages/anthropic/20260302T120000Z.json").write_text("{}")
    assert find_evidence(settings, dt.date(2020, 1, 1), dt.date(2020, 1, 1)).status_snapshots is True


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("incidents ")


@pytest.mark.parametrize(
    ("args", "code", "stream", "text"),
    [(["--version"], 0, "stdout", "incidents 0.1.0"),
     (["run", "--start", "2026-03-05", "--end", "2026-03-02"], 2, "stdout", "is before --start")],
)
def test_the_command_exits_quickly_with_its_code_output_and_exit_handlers(data, args, code, stream, text):
    """`entry` skips the interpreter's teardown but keeps what a normal exit gives: the code, every line
    written, a running non-daemon thread's end, and the exit handlers (here one a library would register)."""
    import subprocess
    import sys

    program = ("import atexit, sys, threading, time; from pipelines.cli import entry; "
               "atexit.register(lambda: print('handler ran', file=sys.stderr)); "
               "threading.Thread(target=lambda: (time.sleep(1), print('thread done', file=sys.stderr))).start(); "
               "sys.argv[0] = 'incidents'; entry()")
    done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, cwd=REPO,
                          timeout=120, check=False)
    assert done.returncode == code, done.stderr
    assert text in getattr(done, stream)
    assert done.stderr.rstrip().endswith("thread done\nhandler ran")  # the thread first, as at a normal exit


def test_providers_lists_the_catalogue():
    result = CliRunner().invoke(app, ["providers"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert int(re.search(r"^(\d+) providers$", result.output, re.MULTILINE)[1]) >= 30
    for name in ("anthropic", "openai", "mistral", "deepseek", "cerebras", "modal"):
        assert name in result.output
