"""Every number a page quotes, traced to its mart cell.

`Figures` records each quoted number as (table, column, key, value, text) so a test (or a sceptical
reader) can look the very cell up again: `<page>.figures.json` sits beside every page.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assets.reports.formats import default_format
from assets.reports.marts_data import checked
from assets.reports.scope import publish
from pipelines.core.warehouse import Table

Format = Callable[[Any], str]


def json_value(value: Any) -> Any:
    """A mart value as JSON: timestamps ISO 8601 in UTC, dates ISO, NaN -> null."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


@dataclass
class Figures:
    """Every number a page quotes, with where it came from."""

    items: list[dict] = field(default_factory=list)

    def quote(
        self,
        table: Table,
        row: Mapping[str, Any],
        column: str,
        key_columns: Sequence[str],
        fmt: Format | None = None,
        label: str | None = None,
    ) -> str:
        """Format `row[column]` for the page and record (table, column, key, value, text)."""
        value = row.get(column)
        text = (fmt or default_format)(value)
        self.items.append(
            {
                "label": label or column,
                "table": checked(table),
                "column": column,
                "key": {k: json_value(row.get(k)) for k in key_columns},
                "value": json_value(value),
                "text": text,
            }
        )
        return text

    def quoter(self, table: Table, row: Mapping[str, Any], key_columns: Sequence[str]):
        """`q(column, fmt)` quoting `row[column]`, or "-" (nothing recorded) when the value is null."""

        def q(column: str, fmt: Format | None = None) -> str:
            if row.get(column) is None:
                return "-"
            return self.quote(table, row, column, key_columns, fmt)

        return q

    def write(self, path: Path) -> Path:
        body = json.dumps(self.items, indent=1, ensure_ascii=False, allow_nan=False)
        return publish(path, body.encode("utf-8"))
