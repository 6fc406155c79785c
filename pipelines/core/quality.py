"""Great Expectations 1.x suites run as Dagster asset checks.

There is no maintained dagster-ge for GX 1.x, so this is the small bridge: a suite is a list of
`Expect` values, validated with an ephemeral GX context on a pandas copy of the frame, and turned into
a `dg.AssetCheckResult` whose metadata lists each failed expectation with a sample of bad values.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache

import dagster as dg
import polars as pl

MAX_VALIDATED_ROWS = 500_000  # larger frames are validated on an evenly spaced sample of this size


@dataclass(frozen=True)
class Expect:
    """One expectation: the GX class name (e.g. ExpectColumnValuesToNotBeNull) and its arguments."""

    kind: str
    kwargs: dict = field(default_factory=dict)


def not_null(column: str) -> Expect:
    return Expect("ExpectColumnValuesToNotBeNull", {"column": column})


def between(column: str, min_value=None, max_value=None) -> Expect:
    return Expect("ExpectColumnValuesToBeBetween", {"column": column, "min_value": min_value, "max_value": max_value})


def in_set(column: str, values) -> Expect:
    return Expect("ExpectColumnValuesToBeInSet", {"column": column, "value_set": sorted(values)})


def unique_together(*columns: str) -> Expect:
    return Expect("ExpectCompoundColumnsToBeUnique", {"column_list": list(columns)})


def has_columns(*columns: str) -> Expect:
    return Expect("ExpectTableColumnsToMatchSet", {"column_set": list(columns), "exact_match": False})


@lru_cache(maxsize=1)
def _batch_definition():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx  # imported lazily: it costs seconds and only checks need it
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("incidents").add_dataframe_asset("frame")
    return gx, asset.add_batch_definition_whole_dataframe("whole")


def validate(frame: pl.DataFrame, expectations: list[Expect]) -> list[dict]:
    """Run the suite; return one dict per expectation with success, unexpected count and a sample."""
    gx, batch_definition = _batch_definition()
    if frame.height > MAX_VALIDATED_ROWS:
        frame = frame.gather_every(frame.height // MAX_VALIDATED_ROWS + 1)
    # GX validates scalar columns; nested ones are flattened to text so the frame converts cleanly.
    frame = frame.with_columns(
        [pl.col(c).list.eval(pl.element().cast(pl.String)).list.join(", ") for c, t in frame.schema.items()
         if isinstance(t, pl.List)]
        + [pl.col(c).struct.json_encode() for c, t in frame.schema.items() if isinstance(t, pl.Struct)]
    )
    suite = gx.ExpectationSuite(name="suite")
    for expectation in expectations:
        suite.add_expectation(getattr(gx.expectations, expectation.kind)(**expectation.kwargs))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    outcome = []
    for result in batch.validate(suite).results:
        config = result.expectation_config
        outcome.append(
            {
                "expectation": config.type,
                "column": config.kwargs.get("column") or config.kwargs.get("column_list"),
                "success": bool(result.success),
                "unexpected_count": result.result.get("unexpected_count"),
                "sample": [str(v) for v in (result.result.get("partial_unexpected_list") or [])[:5]],
            }
        )
    return outcome


def check_result(check_name: str, frame: pl.DataFrame, expectations: list[Expect]) -> dg.AssetCheckResult:
    outcome = validate(frame, expectations)
    failed = [o for o in outcome if not o["success"]]
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "rows_validated": frame.height,
            "expectations": len(outcome),
            "failed": dg.MetadataValue.json(failed),
        },
    )


def unique(column: str) -> Expect:
    return Expect("ExpectColumnValuesToBeUnique", {"column": column})
