"""Great Expectations 1.x suites run as Dagster asset checks.

There is no maintained dagster-ge for GX 1.x, so this is the small bridge: a suite is a list of
`Expect` values (`check_spec` turns the list into the check's description, so what the catalog says
is what runs), validated with an ephemeral GX context on a pandas copy of the frame (in a worker process that
loads GX on another core: `gx_process`, `gx_runner`), and turned into a `dg.AssetCheckResult` whose metadata
lists each failed expectation with a sample of bad values. A step starts its suite (`start_check`) before it
writes its table and reads the result (`.result()`) when it reports, so the two overlap.
"""

from __future__ import annotations

import io
from concurrent.futures import Future
from dataclasses import dataclass, field

import dagster as dg
import polars as pl

from pipelines.core import gx_process, gx_runner
from pipelines.core.side_process import settle

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


def _submit(frame: pl.DataFrame, expectations: list[Expect]) -> Future:
    """Start validating the prepared `frame`; the future's value is GX's raw results (gx_runner.run_suite).

    With a worker, the frame is serialised here and the suite runs on the other core while the step goes
    on (writes its table, computes its metadata); in place, it runs now."""
    requests = [(e.kind, e.kwargs) for e in expectations]
    if not gx_process.in_place():
        ipc = io.BytesIO()
        frame.write_ipc(ipc)
        return gx_process.submit(ipc.getvalue(), requests)
    return settle(Future(), lambda: gx_runner.run_suite(frame.to_pandas(), requests))  # in place: now


# GX's pandas `between` compares int64 and float64 columns vectorised and every other numeric type value by
# value in Python (3.3x the time of a 500,000-row suite for an Int32 status): widened first, values unchanged.
_WIDENED = {pl.Int8: pl.Int64, pl.Int16: pl.Int64, pl.Int32: pl.Int64, pl.UInt8: pl.Int64, pl.UInt16: pl.Int64,
            pl.UInt32: pl.Int64, pl.Float32: pl.Float64}


def _prepared(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame GX validates: an evenly spaced sample of large frames, nested columns flattened to text
    (GX validates scalar columns), narrow numbers widened (`_WIDENED`)."""
    if frame.height > MAX_VALIDATED_ROWS:
        frame = frame.gather_every(frame.height // MAX_VALIDATED_ROWS + 1)
    return frame.with_columns(
        [pl.col(c).list.eval(pl.element().cast(pl.String)).list.join(", ") for c, t in frame.schema.items()
         if isinstance(t, pl.List)]
        + [pl.col(c).struct.json_encode() for c, t in frame.schema.items() if isinstance(t, pl.Struct)]
        + [pl.col(c).cast(_WIDENED[t.base_type()]) for c, t in frame.schema.items() if t.base_type() in _WIDENED]
    )


def _outcome(results: list[dict], expectations: list[Expect]) -> list[dict]:
    pending = list(expectations)  # GX does not promise its results' order: matched back by type and kwargs
    return [
        {
            "expectation": result["type"],
            "description": _describe_result(result, pending),
            "column": result["kwargs"].get("column") or result["kwargs"].get("column_list"),
            "success": result["success"],
            "unexpected_count": result["unexpected_count"],
            "sample": result["sample"],
        }
        for result in results
    ]


def validate(frame: pl.DataFrame, expectations: list[Expect]) -> list[dict]:
    """Run the suite; return one dict per expectation with success, unexpected count and a sample."""
    return _outcome(_submit(_prepared(frame), expectations).result(), expectations)


def _describe_result(result: dict, pending: list[Expect]) -> str:
    """The description of the first not yet reported expectation that produced this GX result."""
    for expectation in pending:
        if _snake(expectation.kind) == result["type"] and all(
            result["kwargs"].get(k) == v for k, v in expectation.kwargs.items() if k != "value_set"
        ):
            pending.remove(expectation)
            return describe(expectation)
    return result["type"]


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


@dataclass(frozen=True)
class PendingCheck:
    """A suite started by `start_check`; `result()` waits for it and reports."""

    check_name: str
    rows: int
    expectations: list[Expect]
    results: Future

    def result(self) -> dg.AssetCheckResult:
        """Passed only when every expectation held; each expectation's outcome listed."""
        outcome = _outcome(self.results.result(), self.expectations)
        failed = [o for o in outcome if not o["success"]]
        return dg.AssetCheckResult(
            check_name=self.check_name,
            passed=not failed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "rows_validated": self.rows,
                "expectations": len(outcome),
                "failed": dg.MetadataValue.json(failed),
                "results": _results_table(outcome),
            },
        )


@dataclass(frozen=True)
class Checked:
    """A check whose result is known without running a suite (nothing to validate): `result()` returns it."""

    done: dg.AssetCheckResult

    def result(self) -> dg.AssetCheckResult:
        return self.done


Check = PendingCheck | Checked  # what a step holds between starting its suite and reporting it


def start_check(check_name: str, frame: pl.DataFrame, expectations: list[Expect]) -> Check:
    """Start the suite on the final frame, then write the table while it runs: `.result()` at the end.

    A frame without rows passes at once, without a suite: there is no row to judge, and a run without data
    for a table (a source with no files that day) should not wait on GX for each of its tables."""
    if frame.is_empty():
        return Checked(_nothing_to_validate(check_name, expectations))
    return PendingCheck(check_name, frame.height, list(expectations), _submit(_prepared(frame), expectations))


def _nothing_to_validate(check_name: str, expectations: list[Expect]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=True,
        severity=dg.AssetCheckSeverity.ERROR,
        description="no rows to validate: the suite was not run",
        metadata={"rows_validated": 0, "expectations": len(expectations), "failed": dg.MetadataValue.json([]),
                  "results": dg.MetadataValue.md("not run: no rows")},
    )


def check_result(check_name: str, frame: pl.DataFrame, expectations: list[Expect]) -> dg.AssetCheckResult:
    """Validate and report (start_check, then wait for it)."""
    return start_check(check_name, frame, expectations).result()
