"""Shared fixtures: a throw-away data dir with the tracked providers config, and a Workspace over it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines.core.resources import Workspace

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    (data / "config").mkdir(parents=True)
    shutil.copy(REPO / "data/config/providers.yaml", data / "config/providers.yaml")
    if (REPO / "data/config/cost_model.yaml").exists():
        shutil.copy(REPO / "data/config/cost_model.yaml", data / "config/cost_model.yaml")
    monkeypatch.setenv("INCIDENTS_DATA_DIR", str(data))
    monkeypatch.setenv("INCIDENTS_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("INCIDENTS_CONFIG", str(data / "config/providers.yaml"))
    return data


@pytest.fixture
def workspace(data_dir: Path) -> Workspace:
    return Workspace(
        data_dir=str(data_dir),
        reports_dir=str(data_dir.parent / "reports"),
        config_path=str(data_dir / "config/providers.yaml"),
    )
