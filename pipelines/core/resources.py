"""The one resource every asset uses: where the data, reports and config live."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.core import gx_process
from pipelines.core.config import ProvidersConfig, load_providers
from pipelines.core.settings import Settings, get_settings
from pipelines.core.warehouse import connect


class Workspace(dg.ConfigurableResource):
    """Data dir, reports dir and providers file. Unset fields follow the INCIDENTS_* env vars, read when
    the run uses them (not when the code location is loaded), so one loaded definition serves any data dir."""

    data_dir: str | None = None
    reports_dir: str | None = None
    config_path: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """At run start: Great Expectations loads in its worker process while the first steps work."""
        gx_process.warm_up()

    @property
    def settings(self) -> Settings:
        env = get_settings()
        return Settings(
            Path(self.data_dir) if self.data_dir else env.data_dir,
            Path(self.reports_dir) if self.reports_dir else env.reports_dir,
            Path(self.config_path) if self.config_path else env.config_path,
        )

    def providers(self) -> ProvidersConfig:
        return load_providers(self.settings.config_path)

    def warehouse(self, read_only: bool = False) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return connect(self.settings.warehouse_path, read_only=read_only)
