"""The scenario's data tables (app catalogue, incident texts, gateway catalogue): JSON files in data/."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"


@cache
def read_data(name: str) -> Any:
    """The parsed data/<name>.json, read once per process (shared: callers must not change it)."""
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
