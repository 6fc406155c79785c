"""Helpers of the robustness suite: throw-away data dirs shared by a module, warehouse reads, table digests.

The bad-input and rerun modules materialise once per source and assert many cases against that one run,
so their data dirs are module-scoped (built here from tmp_path_factory) instead of the function-scoped
`data_dir` fixture of tests/conftest.py. Assets get every path from the Workspace resource, so no env var
is needed for them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from pipelines.core.resources import Workspace
from pipelines.core.snapshot import table_digest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fresh_workspace(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Workspace]:
    """`fresh_workspace("crowd")` -> a Workspace over a new data dir holding the tracked providers config."""

    def make(name: str) -> Workspace:
        root = tmp_path_factory.mktemp(name)
        data = root / "data"
        (data / "config").mkdir(parents=True)
        for config in ("providers.yaml", "cost_model.yaml"):
            if (REPO / "data/config" / config).exists():
                shutil.copy(REPO / "data/config" / config, data / "config" / config)
        return Workspace(data_dir=str(data), reports_dir=str(root / "reports"),
                         config_path=str(data / "config/providers.yaml"))

    return make


def query(workspace: Workspace, sql: str, params: list | None = None) -> list[dict]:
    with duckdb.connect(str(workspace.settings.warehouse_path), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def digest(workspace: Workspace, relation: str) -> str:
    """md5 of a table's rows sorted on every column, written as CSV (types and values, not row order)."""
    with duckdb.connect(str(workspace.settings.warehouse_path), read_only=True) as con:
        return table_digest(con, relation)


@pytest.fixture(scope="session")
def warehouse() -> SimpleNamespace:
    """`warehouse.query(workspace, sql, params)` -> rows as dicts; `warehouse.digest(workspace, table)` -> md5."""
    return SimpleNamespace(query=query, digest=digest)
