"""Where things live. Every path comes from the contract env vars, resolved at call time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class UnsafePathError(ValueError):
    """A path built from data (provider name, file name, partition key) would leave its base dir."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    reports_dir: Path
    config_path: Path

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def cost_model_path(self) -> Path:
        return self.config_path.parent / "cost_model.yaml"


def get_settings() -> Settings:
    """From the contract env vars: INCIDENTS_DATA_DIR (./data), INCIDENTS_REPORTS_DIR (./reports) and
    INCIDENTS_CONFIG ($INCIDENTS_DATA_DIR/config/providers.yaml)."""
    data_dir = Path(os.environ.get("INCIDENTS_DATA_DIR", "./data")).resolve()
    config = os.environ.get("INCIDENTS_CONFIG")
    return Settings(
        data_dir=data_dir,
        reports_dir=Path(os.environ.get("INCIDENTS_REPORTS_DIR", "./reports")).resolve(),
        config_path=Path(config).resolve() if config else data_dir / "config" / "providers.yaml",
    )


def safe_path(base: Path, *parts: str) -> Path:
    """Join `parts` (which may come from data) under `base`, refusing anything that escapes it.

    Absolute parts, `..` segments and NUL bytes are refused outright rather than normalised away, so a
    provider called `../../etc` is an error, not a silently different directory.
    """
    base = Path(base).resolve()
    for part in parts:
        text = str(part)
        if not text or "\x00" in text or Path(text).is_absolute() or ".." in Path(text).parts:
            raise UnsafePathError(f"refusing path component {text!r}: it would leave {base}")
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise UnsafePathError(f"refusing path {target}: it is outside {base}")
    return target
