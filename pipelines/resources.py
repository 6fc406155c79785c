"""The one resource every asset uses: where the data, reports and config live."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.config import ProvidersConfig, load_providers
from pipelines.settings import Settings, get_settings
from pipelines.warehouse import connect


class Workspace(dg.ConfigurableResource):
    """Data dir, reports dir and providers file; defaults come from the INCIDENTS_* env vars."""

    data_dir: str
    reports_dir: str
    config_path: str

    @classmethod
    def from_env(cls) -> Workspace:
        s = get_settings()
        return cls(data_dir=str(s.data_dir), reports_dir=str(s.reports_dir), config_path=str(s.config_path))

    @property
    def settings(self) -> Settings:
        return Settings(Path(self.data_dir), Path(self.reports_dir), Path(self.config_path))

    def providers(self) -> ProvidersConfig:
        return load_providers(Path(self.config_path))

    def warehouse(self, read_only: bool = False) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return connect(self.settings.warehouse_path, read_only=read_only)
