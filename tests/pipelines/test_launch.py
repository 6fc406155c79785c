"""How the command starts: the garbage collector paused while it imports, then what the imports built frozen;
OpenBLAS on one thread."""

import gc
import os
import subprocess
import sys

import pytest

from pipelines.core import collector


@pytest.fixture(autouse=True)
def _collector_as_found():
    was_on = gc.isenabled()
    yield
    gc.unfreeze()  # frozen objects of this test process go back to the oldest generation
    gc.enable() if was_on else gc.disable()


def test_no_collection_in_the_block_and_what_it_built_is_frozen_after_it():
    gc.enable()
    gc.unfreeze()
    collections = []
    callback = lambda phase, info: collections.append(info["generation"]) if phase == "start" else None
    gc.callbacks.append(callback)
    try:
        with collector.paused():
            assert not gc.isenabled()
            built = [[n] for n in range(200_000)]
            assert collections == []
        assert gc.isenabled()
        assert gc.get_freeze_count() >= len(built)
        more = [[n] for n in range(200_000)]  # the same with the collector on: collections
        assert len(more) == len(built) and collections
    finally:
        gc.callbacks.remove(callback)


def test_the_collector_comes_back_after_an_error_and_stays_off_if_it_was_off():
    gc.enable()
    with pytest.raises(ImportError), collector.paused():
        raise ImportError("a module that failed to import")
    assert gc.isenabled()
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_a_validating_command_imports_the_code_location_with_the_collector_paused():
    # `incidents run`: the CLI and the definitions are imported before the command runs, then frozen
    code = (
        "import gc, sys; from pipelines.core import chart_process, gx_process; "
        "gx_process.warm_up = chart_process.warm_up = lambda: None; "
        "import pipelines.cli as cli; "
        "cli.entry = lambda: print(gc.isenabled(), gc.get_freeze_count() > 100_000, 'pipelines.definitions' in sys.modules); "
        "sys.argv = ['incidents', *sys.argv[1:]]; from pipelines import launch; launch.main()"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout.split()
        for args in (["run", "--start", "2026-03-02"], ["status"])
    ]
    assert runs[0] == ["True", "True", "True"]
    assert runs[1][0] == "True" and runs[1][2] == "False"  # other commands: the CLI only, the collector back on


def test_a_worker_loads_with_the_collector_paused_and_answers_with_it_on():
    code = (
        "import gc, sys; from pipelines.core import side_process; "
        "side_process.serve(lambda r: None, load=lambda: print('load', gc.isenabled(), file=sys.stderr)); "
        "print('after', gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], input=b"", capture_output=True, check=True)
    assert done.stderr.decode().split() == ["load", "False", "after", "True", "True"]


def test_the_command_gives_openblas_one_thread_unless_told_otherwise():
    # the CLI replaced by a stand-in that imports numpy and scipy (OpenBLAS starts its threads then) and reports
    code = (
        "import os, sys, types; "
        "report = lambda: (__import__('numpy'), __import__('scipy.special'), "
        "print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))); "
        "sys.modules['pipelines.cli'] = types.SimpleNamespace(entry=report); "
        "sys.argv = ['incidents', 'status']; from pipelines import launch; launch.main()"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    alone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert alone.stdout.split() == ["1", "1"]  # no OpenBLAS threads beside the main one
    told = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**env, "OPENBLAS_NUM_THREADS": "2"})
    assert told.stdout.split()[0] == "2"
