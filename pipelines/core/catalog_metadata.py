"""What the Dagster catalog shows for a table: its row count, its columns with their meanings, its first rows.

Every mart attaches `table_metadata(frame, column_docs)` to its materialisation, so the catalog lists
row counts (`dagster/row_count`), the column schema (`dagster/column_schema`, one line of meaning per
column) and a small preview, under the standard keys the Dagster UI renders.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import polars as pl

PREVIEW_ROWS = 5
PREVIEW_CELL_CHARS = 40


def polars_type_name(dtype: pl.DataType) -> str:
    """A short SQL-like name for a Polars type: `timestamptz`, `list<string>`, `double`, ..."""
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    if isinstance(dtype, pl.List):
        return f"list<{polars_type_name(dtype.inner)}>"
    names = {pl.String: "string", pl.Float64: "double", pl.Float32: "float", pl.Int64: "bigint",
             pl.Int32: "integer", pl.UInt32: "uinteger", pl.Boolean: "boolean", pl.Date: "date"}
    return names.get(dtype.base_type(), str(dtype).lower())


def table_schema(frame: pl.DataFrame, column_docs: Mapping[str, str]) -> dg.TableSchema:
    """The frame's columns in order, typed from Polars, each with its one-line meaning (empty if undocumented)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, type=polars_type_name(dtype), description=column_docs.get(name, ""))
            for name, dtype in frame.schema.items()
        ]
    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > PREVIEW_CELL_CHARS:
        text = text[: PREVIEW_CELL_CHARS - 1] + "…"
    return text.replace("|", "\\|").replace("\n", " ")


def table_preview(frame: pl.DataFrame, rows: int = PREVIEW_ROWS) -> dg.MarkdownMetadataValue:
    """The first `rows` rows as a Markdown table (long cells cut); an empty table says so."""
    if frame.height == 0:
        return dg.MetadataValue.md("*No rows.*")
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * frame.width]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in frame.head(rows).iter_rows()]
    return dg.MetadataValue.md("\n".join(lines))


def table_metadata(frame: pl.DataFrame, column_docs: Mapping[str, str] | None = None) -> dict:
    """`dagster/row_count`, `dagster/column_schema` and `preview` of a table as materialised."""
    return {
        "dagster/row_count": frame.height,
        "dagster/column_schema": table_schema(frame, column_docs or {}),
        "preview": table_preview(frame),
    }


def docs_of(columns: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """{column: meaning} from the {column: (type, meaning)} documentation some marts keep."""
    return {name: text for name, (_kind, text) in columns.items()}
