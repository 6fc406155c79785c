"""Great Expectations loads once per process, on a background thread at run start, and checks still run."""

import threading

import polars as pl

from pipelines.core import quality


def test_warm_up_builds_one_context_that_every_thread_shares():
    quality.warm_up()
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(quality._batch_definition())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(batch) for _, batch in seen}) == 1  # built once, whoever asked first
    outcome = quality.validate(pl.DataFrame({"status": [200, 700]}), [quality.between("status", 100, 599)])
    assert [(o["success"], o["unexpected_count"]) for o in outcome] == [(False, 1)]


def test_warm_up_is_a_no_op_once_built():
    quality._batch_definition()
    before = threading.active_count()
    quality.warm_up()
    assert threading.active_count() == before
