"""Headline tiles: a label, a value with its unit and one sentence saying what it means.

A tile whose evidence is missing says "no data" and why (state "missing"); it never shows 0 or 100%.
"""

from __future__ import annotations

from typing import Literal

State = Literal["ok", "good", "bad", "missing"]
NO_DATA = "no data"


LONG_VALUE = 24  # characters; a longer value (a list of components) is set smaller so it fits its tile


def tile(label: str, value: str, sentence: str, state: State = "ok") -> dict:
    return {
        "label": label,
        "value": value,
        "sentence": sentence,
        "state": state,
        "long": len(value) > LONG_VALUE,
    }


def missing(label: str, reason: str) -> dict:
    """A tile for evidence this window does not have."""
    return tile(label, NO_DATA, reason, "missing")
