"""Great Expectations 1.x suites run as Dagster asset checks.

There is no maintained dagster-ge for GX 1.x, so this is the small bridge: a suite is a list of
`Expect` values (`check_spec` turns the list into the check's description, so what the catalog says
is what runs), validated with an ephemeral GX context on a pandas copy of the frame, and turned into
a `dg.AssetCheckResult` whose metadata lists each failed expectation with a sample of bad values.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field

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


_context_lock = threading.Lock()
_context: list = []  # [(gx module, batch definition)] once built


def _batch_definition():
    """GX and its ephemeral pandas batch definition, built once per process (thread-safe)."""
    with _context_lock:
        if not _context:
            os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
            import great_expectations as gx  # imported lazily: it costs seconds and only checks need it
            from great_expectations.data_context.types.base import ProgressBarsConfig

            logging.getLogger("great_expectations").setLevel(logging.ERROR)
            context = gx.get_context(mode="ephemeral")
            context.variables.progress_bars = ProgressBarsConfig(globally=False)
            asset = context.data_sources.add_pandas("incidents").add_dataframe_asset("frame")
            _context.append((gx, asset.add_batch_definition_whole_dataframe("whole")))
        return _context[0]


def warm_up() -> None:
    """Import GX and build its context on a background thread, so the seconds it takes overlap the run's
    first steps (the ingest steps spend them in DuckDB, outside the GIL) instead of delaying the first check."""
    if not _context:
        threading.Thread(target=_batch_definition, name="gx-warm-up", daemon=True).start()


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
    pending = list(expectations)  # GX does not promise its results' order: matched back by type and kwargs
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.to_pandas()})
    outcome = []
    for result in batch.validate(suite).results:
        config = result.expectation_config
        outcome.append(
            {
                "expectation": config.type,
                "description": _describe_result(config, pending),
                "column": config.kwargs.get("column") or config.kwargs.get("column_list"),
                "success": bool(result.success),
                "unexpected_count": result.result.get("unexpected_count"),
                "sample": [str(v) for v in (result.result.get("partial_unexpected_list") or [])[:5]],
            }
        )
    return outcome


def _describe_result(config, pending: list[Expect]) -> str:
    """The description of the first not yet reported expectation that produced this GX result."""
    for expectation in pending:
        if _snake(expectation.kind) == config.type and all(
            config.kwargs.get(k) == v for k, v in expectation.kwargs.items() if k != "value_set"
        ):
            pending.remove(expectation)
            return describe(expectation)
    return config.type


def _snake(kind: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in kind).lstrip("_")


def unique(column: str) -> Expect:
    return Expect("ExpectColumnValuesToBeUnique", {"column": column})


def _bounds(low, high) -> str:
    if low is not None and high is not None:
        return f"in [{low}, {high}]" if low != high else f"= {low}"
    return f">= {low}" if low is not None else f"<= {high}"


def _code(columns) -> str:
    return ", ".join(f"`{c}`" for c in ([columns] if isinstance(columns, str) else columns))


def describe(expectation: Expect) -> str:
    """One expectation in words, with its columns as code: "`error_ratio` in [0, 1]"."""
    args = expectation.kwargs
    match expectation.kind:
        case "ExpectColumnValuesToNotBeNull":
            return f"{_code(args['column'])} never null"
        case "ExpectColumnValuesToBeBetween":
            return f"{_code(args['column'])} {_bounds(args.get('min_value'), args.get('max_value'))}"
        case "ExpectColumnValuesToBeInSet":
            return f"{_code(args['column'])} one of {', '.join(map(str, args['value_set']))}"
        case "ExpectCompoundColumnsToBeUnique":
            return f"one row per ({_code(args['column_list'])})"
        case "ExpectColumnValuesToBeUnique":
            return f"{_code(args['column'])} unique"
        case "ExpectTableColumnsToMatchSet":
            return f"all {len(args['column_set'])} declared columns present"
    return f"{expectation.kind}({args})"


def check_spec(name: str, asset: dg.AssetKey, expectations: list[Expect], what: str = "") -> dg.AssetCheckSpec:
    """A blocking asset check whose description lists every expectation it runs (one per line)."""
    lines = "\n".join(f"- {describe(e)}" for e in expectations)
    intro = what or "Great Expectations suite run on every materialisation; bad data stops the run"
    return dg.AssetCheckSpec(name, asset=asset, blocking=True, description=f"{intro}:\n{lines}")


def _results_table(outcome: list[dict]) -> dg.MarkdownMetadataValue:
    rows = ["| expectation | passed | unexpected rows |", "|---|---|---|"]
    rows += [
        f"| {o['description']} | {'yes' if o['success'] else '**no**'} | {o['unexpected_count'] or 0} |"
        for o in outcome
    ]
    return dg.MetadataValue.md("\n".join(rows))


def check_result(check_name: str, frame: pl.DataFrame, expectations: list[Expect]) -> dg.AssetCheckResult:
    """Validate and report: passed only when every expectation held; each expectation's outcome listed."""
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
            "results": _results_table(outcome),
        },
    )
