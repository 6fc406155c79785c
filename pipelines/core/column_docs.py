"""Mart column documentation for Dagster, and list columns made checkable by the GX bridge."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import polars as pl


def column_schema(columns: Mapping[str, tuple[str, str]]) -> dg.TableSchema:
    """The `dagster/column_schema` of a mart from {column: (type, one-line meaning)}."""
    return dg.TableSchema(
        columns=[dg.TableColumn(name, type=kind, description=text) for name, (kind, text) in columns.items()]
    )


def lists_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """List-of-text columns joined into text for the GX checks (pipelines.core.quality casts lists to
    String, which Polars 2 refuses)."""
    return frame.with_columns(
        pl.col(name).list.join(", ")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.List) and dtype.inner == pl.String
    )
