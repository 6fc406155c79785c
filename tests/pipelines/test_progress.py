"""The `incidents run` progress bar: one tick per finished step, each poll reading only the new ones."""

import io
import threading
import time

import dagster as dg
from rich.console import Console

from pipelines import runs


@dg.op
def slow(x: int) -> int:
    time.sleep(0.3)  # longer than half the watcher's 0.5 s poll: the steps finish across several polls
    return x + 1


@dg.op
def first() -> int:
    time.sleep(0.3)
    return 0


@dg.job
def four_steps():
    slow(slow(slow(first())))


def test_the_bar_counts_every_finished_step_once_across_polls(monkeypatch):
    instance = dg.DagsterInstance.ephemeral()
    reads = []
    real_read = instance.get_records_for_run
    monkeypatch.setattr(instance, "get_records_for_run",
                        lambda *a, **k: reads.append(real_read(*a, **k)) or reads[-1])
    shown = io.StringIO()
    monkeypatch.setattr(runs, "console", Console(file=shown, width=120))
    done = threading.Event()
    watcher = threading.Thread(target=runs._watch, args=(instance, "inv-1", 4, done))
    watcher.start()
    assert four_steps.execute_in_process(instance=instance, tags={runs.INVOCATION_TAG: "inv-1"}).success
    done.set()
    watcher.join()
    assert "materialised" in shown.getvalue() and "4/4 steps" in shown.getvalue()
    assert len(reads) >= 3 and sum(len(r.records) for r in reads) == 4  # every step read once, in several polls
