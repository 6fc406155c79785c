"""How a mart value reads on a page: plain text, units in the text, "n/a" for a missing number.

No data is not good news: a null or non-finite value is shown as "n/a" (or "-" in tables), never as 0.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


def default_format(value: Any) -> str:
    """Plain-text rendering of a mart value for tables."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return format_ts(value)
    if isinstance(value, list | tuple):
        return ", ".join(default_format(v) for v in value)
    return str(value)


def format_ts(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def fmt_minutes(value: Any) -> str:
    if _missing(value):
        return "n/a"
    return f"{value:,.0f} min" if abs(value) >= 10 else f"{value:.1f} min"


def fmt_hours(value: Any) -> str:
    if _missing(value):
        return "n/a"
    return f"{value:,.1f} h" if abs(value) >= 1 else f"{value:.2f} h"


def fmt_days(value: Any) -> str:
    if _missing(value):
        return "n/a"
    return f"{value:,.1f} days"


def fmt_pct(value: Any, digits: int = 3) -> str:
    """A value already in percent (uptime_pct, budget_used_pct)."""
    if _missing(value):
        return "n/a"
    return f"{value:,.{digits}f}%"


def fmt_share(value: Any, digits: int = 1) -> str:
    """A ratio in [0, 1] shown as percent (error_ratio, availability)."""
    if _missing(value):
        return "n/a"
    return f"{100.0 * value:,.{digits}f}%"


def fmt_money(value: Any) -> str:
    if _missing(value):
        return "n/a"
    return f"${value:,.0f}"


def fmt_count(value: Any) -> str:
    if _missing(value):
        return "n/a"
    return f"{value:,.0f}"


def fmt_ts(value: Any) -> str:
    return "n/a" if value is None else format_ts(value)


def fmt_yes_no(value: Any) -> str:
    return "yes" if value else "no"
