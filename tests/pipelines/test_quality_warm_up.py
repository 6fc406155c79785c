"""Great Expectations runs in one worker process per run process, started at run start, and checks still run."""

import os
import signal
import subprocess
import sys
import threading

import polars as pl
import pytest

from pipelines.core import gx_process, quality

STATUS_SUITE = [quality.between("status", 100, 599), quality.not_null("status")]


def _outcome(frame: pl.DataFrame) -> list[tuple]:
    return [(o["description"], o["success"], o["unexpected_count"], o["sample"])
            for o in quality.validate(frame, STATUS_SUITE)]


def test_threads_share_one_worker_and_get_their_own_answers():
    gx_process.warm_up()
    (worker,) = gx_process._workers
    frames = [pl.DataFrame({"status": [200] * n + [700 + n]}) for n in range(6)]
    seen: dict[int, list[tuple]] = {}
    threads = [threading.Thread(target=lambda n=n: seen.__setitem__(n, _outcome(frames[n]))) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gx_process._workers == [worker]  # started once, whoever asked first
    for n in range(6):
        assert sorted(seen[n]) == [("`status` in [100, 599]", False, 1, [str(700 + n)]),
                                   ("`status` never null", True, 0, [])]


def test_warm_up_is_a_no_op_while_the_worker_lives():
    gx_process.warm_up()
    before = gx_process._workers[0].process.pid
    gx_process.warm_up()
    assert gx_process._workers[0].process.pid == before
    assert "great_expectations" not in sys.modules  # GX stays out of the run's process


def test_nested_columns_and_a_sampled_frame_reach_the_worker_intact():
    frame = pl.DataFrame({"status": list(range(200, 300)) * 6_000, "tags": [["a", "b"]] * 600_000})
    outcome = quality.validate(frame, [quality.between("status", 200, 250), quality.not_null("tags")])
    by_description = {o["description"]: o for o in outcome}
    # 600,000 rows > MAX_VALIDATED_ROWS: every 2nd row is validated, i.e. 300,000 rows with status 200, 202, ...
    assert by_description["`status` in [200, 250]"]["unexpected_count"] == 6_000 * 24
    assert by_description["`tags` never null"]["success"] is True


@pytest.mark.parametrize("dtype", [pl.Int8, pl.Int16, pl.Int32, pl.UInt16, pl.UInt32, pl.Float32, pl.Int64])
def test_narrow_numbers_are_validated_as_the_same_values(dtype):
    # GX compares only int64/float64 vectorised; the others are widened first, which must not change a verdict
    frame = pl.DataFrame({"status": pl.Series([100, 120, 99, None, 121], dtype=dtype)})
    widened = quality._prepared(frame)
    assert widened["status"].dtype in (pl.Int64, pl.Float64) and widened["status"].to_list() == [100, 120, 99, None, 121]
    outcome = {o["description"]: o for o in quality.validate(frame, [quality.between("status", 100, 120),
                                                                      quality.not_null("status")])}
    between = outcome["`status` in [100, 120]"]
    assert (between["success"], between["unexpected_count"], [float(v) for v in between["sample"]]) == (False, 2, [99, 121])
    assert (outcome["`status` never null"]["success"], outcome["`status` never null"]["unexpected_count"]) == (False, 1)


def test_a_suite_that_passes_reports_what_a_detailed_validation_reports():
    # judged for verdicts only; a passed row-by-row expectation still says 0 unexpected rows, a table-level one
    # has no row count, as GX's detailed (BASIC) results say
    frame = pl.DataFrame({"provider": ["anthropic", "openai"], "minute": [1, 2], "requests": [3, 4]})
    suite = [quality.has_columns("provider", "minute"), quality.not_null("provider"), quality.between("requests", 0),
             quality.in_set("provider", ["anthropic", "openai"]), quality.unique_together("provider", "minute"),
             quality.unique("minute")]
    outcome = {o["description"]: (o["success"], o["unexpected_count"], o["sample"]) for o in quality.validate(frame, suite)}
    assert outcome == {
        "all 2 declared columns present": (True, None, []),
        "`provider` never null": (True, 0, []),
        "`requests` >= 0": (True, 0, []),
        "`provider` one of anthropic, openai": (True, 0, []),
        "one row per (`provider`, `minute`)": (True, 0, []),
        "`minute` unique": (True, 0, []),
    }
    frame = frame.with_columns(minute=pl.lit(1), requests=pl.Series([-3, 4]))  # now two fail: details for all
    outcome = {o["description"]: (o["success"], o["unexpected_count"], o["sample"]) for o in quality.validate(frame, suite)}
    assert outcome["`requests` >= 0"] == (False, 1, ["-3"]) and outcome["`minute` unique"] == (False, 2, ["1", "1"])
    assert outcome["`provider` never null"] == (True, 0, []) and outcome["all 2 declared columns present"][:2] == (True, None)


GX_ON_FIRST_USE = """
import sys
import pandas as pd
from pipelines.core import gx_runner
gx_runner.batch_definition()
loaded = lambda: ["scipy.stats._stats_py" in sys.modules, "altair.vegalite" in sys.modules]
between = gx_runner.run_suite(pd.DataFrame({"a": [1, 2]}), [("ExpectColumnValuesToBeBetween", {"column": "a", "min_value": 0})])
print(between[0]["success"], *loaded())
kl = {"column": "a", "partition_object": {"values": ["x", "y"], "weights": [0.5, 0.5]}, "threshold": 0.1}
even = gx_runner.run_suite(pd.DataFrame({"a": list("xyxy")}), [("ExpectColumnKLDivergenceToBeLessThan", kl)])
skewed = gx_runner.run_suite(pd.DataFrame({"a": list("xxxy")}), [("ExpectColumnKLDivergenceToBeLessThan", kl)])
print(even[0]["success"], skewed[0]["success"], *loaded())
"""


def test_gx_loads_without_what_only_unused_expectations_need_and_imports_it_when_one_runs():
    # a process of its own: this one must not import GX (the other tests expect a worker)
    lines = subprocess.run([sys.executable, "-c", GX_ON_FIRST_USE], capture_output=True, text=True, check=True,
                           env={**os.environ, "GX_ANALYTICS_ENABLED": "false"}).stdout.split("\n")
    assert lines[0] == "True False False"  # validated, and neither scipy.stats nor altair imported
    # the KL test needs scipy.stats (imported then, and the verdicts are right); only its charts need altair
    assert lines[1] == "True False True False"


CONFIGURATIONS_KEPT = """
import contextlib, json
import pandas as pd
from great_expectations.expectations.expectation import Expectation
from pipelines.core import gx_runner
gx_runner.batch_definition()
build = Expectation.__dict__["configuration"]
builds = []
def counted(expectation):
    builds.append(expectation)
    return build.fget(expectation)
suite = [("ExpectTableColumnsToMatchSet", {"column_set": ["p", "m", "r"], "exact_match": False}),
         ("ExpectColumnValuesToNotBeNull", {"column": "p"}),
         ("ExpectColumnValuesToBeBetween", {"column": "r", "min_value": 0, "max_value": 10}),
         ("ExpectColumnValuesToBeInSet", {"column": "p", "value_set": ["a", "b"]}),
         ("ExpectCompoundColumnsToBeUnique", {"column_list": ["p", "m"]}),
         ("ExpectColumnValuesToBeUnique", {"column": "m"})]
frames = {"good": pd.DataFrame({"p": ["a", "b", "a"], "m": [1, 2, 3], "r": [0, 5, 10]}),
          "bad": pd.DataFrame({"p": ["a", None, "c"], "m": [1, 1, 3], "r": [-1, 5, 11]})}
kept_once = gx_runner._configurations_built_once
out = {}
for name, frame in frames.items():
    Expectation.configuration = property(counted)  # counts GX's own builds, under the kept ones
    runs = []
    for keep in (kept_once, contextlib.nullcontext):
        gx_runner._configurations_built_once = keep
        builds.clear()
        runs.append((gx_runner.run_suite(frame, suite), len(builds), len({id(e) for e in builds})))
    gx_runner._configurations_built_once = kept_once
    (kept, kept_builds, kept_objects), (rebuilt, builds_every_read, _) = runs
    out[name] = [kept == rebuilt, kept_builds == kept_objects, kept_builds, builds_every_read,
                 sorted(r["type"] for r in kept if not r["success"])]
    Expectation.configuration = build
out["restored"] = Expectation.__dict__["configuration"] is build
print(json.dumps(out))
"""


def test_a_validated_suite_builds_each_configuration_once_and_reports_the_same_results():
    # GX's Expectation.configuration serialises the expectation anew on each of its ~70 reads per validation; kept
    # once built while a suite is validated, the results must not change (a process of its own: GX stays out of this one)
    import json

    out = json.loads(subprocess.run([sys.executable, "-c", CONFIGURATIONS_KEPT], capture_output=True, text=True,
                                    check=True, env={**os.environ, "GX_ANALYTICS_ENABLED": "false"}).stdout)
    for name in ("good", "bad"):
        same_results, once_per_object, kept_builds, builds_every_read, _ = out[name]
        assert same_results  # identical result dicts: types, kwargs, verdicts, counts, samples
        assert once_per_object  # no expectation object built twice
        assert builds_every_read > 5 * kept_builds
    assert out["good"][4] == []
    # r -1 and 11, p None and c, m 1 twice; (p, m) pairs stay unique (GX leaves out rows with a null)
    assert out["bad"][4] == ["expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
                             "expect_column_values_to_be_unique", "expect_column_values_to_not_be_null"]
    assert out["restored"] is True  # GX's own property back once validated


WORKER_WITHOUT_SQL = """
import io, runpy, sys
import polars as pl
from pipelines.core import side_process
def serve(answer, load):
    load()
    ipc = io.BytesIO()
    pl.DataFrame({"status": [200, 700]}).write_ipc(ipc)
    (result,) = answer((ipc.getvalue(), [("ExpectColumnValuesToBeBetween", {"column": "status", "max_value": 599})]))
    print(sys.modules["sqlalchemy"], "great_expectations" in sys.modules, result["success"], result["unexpected_count"])
side_process.serve = serve
runpy.run_module("pipelines.core.gx_runner", run_name="__main__")
"""


def test_the_worker_loads_gx_without_sqlalchemy_and_validates():
    # the worker's own entry point (its `serve` replaced to answer one request here): GX's SQL support left out
    done = subprocess.run([sys.executable, "-c", WORKER_WITHOUT_SQL], capture_output=True, text=True, check=True,
                          env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    assert done.stdout.split() == ["None", "True", "False", "1"]


NO_FINGERPRINT = """
import polars as pl
from pipelines.core import gx_runner
gx, _ = gx_runner.batch_definition()
from great_expectations.execution_engine import pandas_execution_engine
def refuse(frame):
    raise AssertionError("GX hashed the frame")
pandas_execution_engine.hash_pandas_dataframe = refuse
frame = pl.DataFrame({"status": [200, 700] * 1000}).to_pandas()
(result,) = gx_runner.run_suite(frame, [("ExpectColumnValuesToBeBetween", {"column": "status", "max_value": 599})])
print(result["success"], result["unexpected_count"])
"""


def test_suites_do_not_fingerprint_the_frame():
    # GX's batch marker (an MD5 over every row) cost two thirds of a 500,000-row suite and nothing reads it
    done = subprocess.run([sys.executable, "-c", NO_FINGERPRINT], capture_output=True, text=True, check=True,
                          env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    assert done.stdout.split() == ["False", "1000"]


def test_a_dead_worker_is_a_clear_error_once_and_the_next_check_starts_a_new_one():
    gx_process.warm_up()
    worker = gx_process._workers[0]
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    with pytest.raises(RuntimeError, match=r"worker process exited \(code -9\)"):
        worker.ask((b"", []))
    assert sorted(_outcome(pl.DataFrame({"status": [200]}))) == [("`status` in [100, 599]", True, 0, []),
                                                          ("`status` never null", True, 0, [])]
    assert gx_process._workers[0] is not worker


def test_a_suite_that_gx_rejects_comes_back_as_an_error_with_its_traceback():
    with pytest.raises(RuntimeError, match="ExpectColumnValuesToBeFrobnicated"):
        quality.validate(pl.DataFrame({"status": [200]}), [quality.Expect("ExpectColumnValuesToBeFrobnicated")])
    assert _outcome(pl.DataFrame({"status": [99]}))[0][1] is False  # the worker lives on


def test_a_process_that_preloaded_gx_validates_in_place_without_a_worker():
    # what a multiprocess step forked from the forkserver (or a Celery worker started with -i) does
    code = ("import great_expectations, polars as pl\n"
            "from pipelines.core import gx_process, quality\n"
            "gx_process.warm_up()\n"
            "out = quality.validate(pl.DataFrame({'status': [700]}), [quality.between('status', 100, 599)])\n"
            "print(gx_process._workers, [(o['success'], o['unexpected_count']) for o in out])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "GX_ANALYTICS_ENABLED": "false"})
    assert done.stdout.strip() == "[] [(False, 1)]"


def test_checks_started_before_a_write_report_what_a_check_after_it_would():
    # A step starts its suite, writes while the worker validates, then reads the result: same report, and
    # several started checks come back each with its own frame's result.
    frames = [pl.DataFrame({"status": [200] * (n + 1) + [700 + n]}) for n in range(4)]
    started = [quality.start_check(f"check_{n}", frame, STATUS_SUITE) for n, frame in enumerate(frames)]
    for n, (pending, frame) in enumerate(zip(reversed(started), reversed(frames), strict=True)):
        result, direct = pending.result(), quality.check_result(pending.check_name, frame, STATUS_SUITE)
        assert (result.check_name, result.passed) == (f"check_{3 - n}", False)
        assert result.metadata == direct.metadata and result.metadata["rows_validated"].value == 5 - n
        assert result.metadata["failed"].value[0]["sample"] == [str(703 - n)]


def test_a_started_check_raises_where_its_result_is_read():
    gx_process.warm_up()
    pending = quality.start_check("bad", pl.DataFrame({"status": [200]}), [quality.Expect("ExpectNoSuchThing")])
    with pytest.raises(RuntimeError, match="Great Expectations failed in the worker process"):
        pending.result()
    assert quality.check_result("ok", pl.DataFrame({"status": [200]}), STATUS_SUITE).passed  # the worker lives on


def test_the_command_exits_after_a_started_check():
    # `incidents` ends by joining the threads that are not daemons: the one that talks to the worker is one.
    code = ("import polars as pl, sys; from pipelines.core import quality; "
            "assert quality.start_check('c', pl.DataFrame({'a': [1]}), [quality.not_null('a')]).result().passed; "
            "sys.argv = ['incidents', '--help']; from pipelines.cli import entry; entry()")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Incident analytics" in done.stdout


@pytest.mark.parametrize(("args", "started"), [(["run", "--help"], "[False]"), (["check", "--help"], "[]")])
def test_the_command_starts_gx_before_dagster_when_it_will_validate(args, started):
    code = ("import atexit, sys; from pipelines.core import gx_process; seen = []; "
            "gx_process.warm_up = lambda: seen.append('dagster' in sys.modules); "
            "atexit.register(lambda: print('started', seen)); "
            f"sys.argv = ['incidents', *{args!r}]; from pipelines import launch; launch.main()")
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"started {started}")


def test_a_frame_without_rows_passes_without_a_suite(monkeypatch):
    def no_suite(*_):
        raise AssertionError("a suite was started for no rows")

    monkeypatch.setattr(quality, "_submit", no_suite)
    result = quality.start_check("empty_check", pl.DataFrame(schema={"status": pl.Int32}), STATUS_SUITE).result()
    assert (result.check_name, result.passed, result.metadata["rows_validated"].value) == ("empty_check", True, 0)
    assert result.metadata["expectations"].value == 2 and result.metadata["failed"].value == []
    with pytest.raises(AssertionError, match="a suite was started"):
        quality.start_check("one_row", pl.DataFrame({"status": [200]}), STATUS_SUITE)
