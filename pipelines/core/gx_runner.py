"""Great Expectations suites on a pandas frame: the one module that imports GX, and the process that runs it.

Importing GX costs about 1.2 CPU s bound to the GIL in the worker (3 before `ON_FIRST_USE`,
`LEFT_OUT_OF_THE_WORKER` and the paused collector of `side_process.serve`): loaded in the run's own
process, it would stall every step while it loads. So `quality` runs suites in a worker process (`python -m pipelines.core.gx_runner`, started
and stopped by `gx_process`, by the `incidents` command before it imports Dagster) that loads GX on another
core while the run imports its code and ingests. A process that has GX imported
already (the multiprocess executor's forkserver and the Celery workers preload it) runs suites in place.

A request is `(Arrow IPC bytes of the frame, [(GX class name, kwargs)])`, its answer `run_suite`'s results
(`side_process.serve`).
"""

from __future__ import annotations

import importlib
import io
import logging
import os
import sys
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager

# A suite is validated first for its verdicts only (BOOLEAN_ONLY: a quarter less of a small suite's time in
# GX); only a suite with a failure is validated again for what a failure report needs (BASIC: unexpected_count
# and partial_unexpected_list, without the SUMMARY default's counts of unexpected values).
VERDICTS, DETAILS = "BOOLEAN_ONLY", "BASIC"
_lock = threading.Lock()
_built: list = []  # [(gx module, batch definition)] once built

# GX imports these at its own import for expectations this pipeline never runs (KL divergence and KS tests, and
# the KL charts): ~0.9 s of GX's 2.4 s import. Imported on first use instead (`_OnFirstUse`).
ON_FIRST_USE = ("scipy.stats", "altair")


class _OnFirstUse(types.ModuleType):
    """A stand-in in sys.modules that imports the real module when any of its attributes is first asked for."""

    def __getattr__(self, attribute: str):
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)
        return getattr(real, attribute)


def _import_on_first_use(names: tuple[str, ...]) -> None:
    """Stand-ins for the modules not imported yet (one already imported stays as it is)."""
    for name in names:
        if name not in sys.modules:
            sys.modules[name] = _OnFirstUse(name)


def batch_definition():
    """GX and its ephemeral pandas batch definition, built once per process (thread-safe)."""
    with _lock:
        if not _built:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            if "great_expectations" not in sys.modules:
                _import_on_first_use(ON_FIRST_USE)
            import great_expectations as gx
            from great_expectations.data_context.types.base import ProgressBarsConfig
            from great_expectations.execution_engine import pandas_execution_engine

            logging.getLogger("great_expectations").setLevel(logging.ERROR)
            # GX fingerprints every frame under this size (an MD5 of pandas' hash of each row) as a batch marker,
            # which nothing here reads: two thirds of a 500,000-row suite's time. 0 turns the fingerprint off.
            pandas_execution_engine.HASH_THRESHOLD = 0
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            asset = context.data_sources.add_pandas("incidents").add_dataframe_asset("frame")
            _built.append((gx, asset.add_batch_definition_whole_dataframe("whole")))
        return _built[0]


def _plain(kwargs) -> dict:
    """An expectation's arguments as plain Python values (GX's own types do not unpickle without GX)."""
    return {k: v for k, v in kwargs.items() if v is None or isinstance(v, str | int | float | bool | list | tuple)}


def run_suite(frame, expectations: list[tuple[str, dict]]) -> list[dict]:
    """Validate the pandas `frame` against the expectations; one dict per GX result (in GX's order):
    type, kwargs, success, unexpected_count and up to five unexpected values as text. A passed expectation
    has what GX reports for it in detail: 0 unexpected rows if it checks rows, else None."""
    gx, batch_def = batch_definition()
    suite = gx.ExpectationSuite(name="suite")
    for kind, kwargs in expectations:
        suite.add_expectation(getattr(gx.expectations, kind)(**kwargs))
    batch = batch_def.get_batch(batch_parameters={"dataframe": frame})
    with _configurations_built_once():
        results = batch.validate(suite, result_format=VERDICTS).results
        if not all(result.success for result in results):
            results = batch.validate(suite, result_format=DETAILS).results
    return [_reported(result) for result in results]


@contextmanager
def _configurations_built_once() -> Iterator[None]:
    """While a built suite is validated, each expectation's `configuration` is built once, not on every read.

    GX's `Expectation.configuration` is a property that serialises the expectation (a pydantic `dict()`) anew
    on each read, and validating reads it ~70 times an expectation: 40 % of a small suite's time. The suite
    does not change while it is validated, so the first configuration built is the one every read gets. The
    property is restored afterwards; suites are validated one at a time (the worker answers one request at a
    time; in place, under `_validating`).
    """
    from great_expectations.expectations.expectation import Expectation

    build = Expectation.__dict__["configuration"]
    built: dict[int, tuple[object, object]] = {}

    def configuration(expectation):
        kept = built.get(id(expectation))
        if kept is None or kept[0] is not expectation:
            kept = built[id(expectation)] = (expectation, build.fget(expectation))
        return kept[1]

    with _validating:
        Expectation.configuration = property(configuration)
        try:
            yield
        finally:
            Expectation.configuration = build


_validating = threading.Lock()


def _reported(result) -> dict:
    """One GX result as plain values; a passed row-by-row (map) expectation judged for its verdict only counts
    0 unexpected rows, as its detailed result would."""
    unexpected = result.result.get("unexpected_count")
    if unexpected is None and result.success and _counts_rows(result):
        unexpected = 0
    return {
        "type": result.expectation_config.type,
        "kwargs": _plain(result.expectation_config.kwargs),
        "success": bool(result.success),
        "unexpected_count": unexpected,
        "sample": [str(v) for v in (result.result.get("partial_unexpected_list") or [])[:5]],
    }


def _counts_rows(result) -> bool:
    """Whether the expectation judges rows one by one (a map expectation: its details count unexpected rows)."""
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    from great_expectations.expectations.registry import get_expectation_impl

    kind = get_expectation_impl(result.expectation_config.type)  # the class, without building an expectation
    return issubclass(kind, ColumnMapExpectation | ColumnPairMapExpectation | MulticolumnMapExpectation)


def _answer(request: tuple[bytes, list[tuple[str, dict]]]) -> list[dict]:
    import polars as pl

    ipc, expectations = request
    return run_suite(pl.read_ipc(io.BytesIO(ipc)).to_pandas(), expectations)


# The worker validates pandas frames only. GX's SQL data sources need SQLAlchemy (~0.2 s of GX's load): the worker
# leaves it out, and GX's compatibility layer then treats it as not installed, as it is meant to.
LEFT_OUT_OF_THE_WORKER = ("sqlalchemy",)


if __name__ == "__main__":
    from pipelines.core.side_process import serve

    for name in LEFT_OUT_OF_THE_WORKER:
        sys.modules.setdefault(name, None)  # None: `import` raises ImportError
    serve(_answer, load=batch_definition)  # GX loads now, before the first request
