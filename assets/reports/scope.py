"""What every page states about its own evidence: the analysed window as the run saw it, and whether the
data dir holds the bundled synthetic scenario (its planted truth, data/scenario/truth.json, is present)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.config import ProvidersConfig
from pipelines.core.files import write_atomic
from pipelines.core.window import Window, analysis_window

SOURCE_TEXT = {"run": "set by this run", "config": "from the config's analysis block"}


@dataclass(frozen=True)
class Scope:
    """The analysed window of this run and whether the data is the synthetic scenario."""

    window: Window
    synthetic: bool

    @property
    def text(self) -> str:
        """'<first day> to <last day> UTC (<n> days, set by this run)'."""
        days = f"{self.window.days} day{'s' if self.window.days != 1 else ''}"
        how = SOURCE_TEXT.get(self.window.source, self.window.source)
        return f"{self.window.start} to {self.window.end} UTC ({days}, {how})"

    def contains(self, at) -> bool:
        """Whether a UTC timestamp falls inside the window (None: no)."""
        return at is not None and self.window.start_ts <= at < self.window.end_ts


def report_scope(config: ProvidersConfig, run_tags: Mapping[str, str] | None, data_dir: Path) -> Scope:
    """The scope of a report run: `analysis_window(config, run tags)` and the synthetic-data flag."""
    return Scope(analysis_window(config, run_tags), (data_dir / "scenario" / "truth.json").is_file())


def workspace_scope(context, workspace) -> Scope:
    """The scope of the report asset running in `context` on `workspace`."""
    return report_scope(workspace.providers(), context.run.tags, workspace.settings.data_dir)


PAGE_FILE_MODE = 0o644  # pages are read by whoever serves or opens them, not only their writer


def publish(path: Path, body: bytes) -> Path:
    """Write a report file atomically, readable by others (the temp file of the atomic write is 0600)."""
    write_atomic(path, body, mode=PAGE_FILE_MODE)
    return path
