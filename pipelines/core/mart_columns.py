"""A mart frame in its declared columns: the one select-and-cast shared by marts that build rows in parts."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl


def conform_to(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast `schema`'s columns in its order, adding the ones `frame` lacks as nulls."""
    return frame.select(
        [(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in schema.items()]
    )
