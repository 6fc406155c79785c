"""The crowd-report run: every file of the partition days read, then all records validated at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest import day_folders
from assets.ingest.crowd_reports.reading import read_file_records
from assets.ingest.crowd_reports.schema import RECORD_SCHEMA, SOURCE
from assets.ingest.crowd_reports.validate import validate_records
from assets.ingest.day_folders import FileRefused
from assets.ingest.day_sources import DayParse, listed_files
from pipelines.core.config import ProvidersConfig
from pipelines.core.quarantine import Rejects


@dataclass
class CrowdParse(DayParse):
    """What one run read: accepted rows (STAGING_SCHEMA), quarantined records, files seen, schema drift."""

    schema_drift: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def day_files(data_dir: Path, day: str) -> list[Path]:
    return day_folders.day_files(data_dir, day, SOURCE)


def configured_services(config: ProvidersConfig) -> dict[str, str]:
    """Crowd service names with their configured spelling -> provider key."""
    return {name: key for key, provider in config.providers.items() for name in provider.crowd_services}


def parse_crowd_days(
    data_dir: Path,
    days: Iterable[str],
    services: Mapping[str, str],
    countries: Sequence[str],
    now: dt.datetime | None = None,
) -> CrowdParse:
    """Read every crowd-report file of `days` (YYYY-MM-DD) and validate it.

    `services`: configured crowd service name -> provider key (see configured_services(); the lower-case
    config.provider_for_crowd_service() works too); `countries`: the configured country codes; `now`
    bounds "in the future" (default: now, UTC).
    """
    now = now or dt.datetime.now(dt.UTC)
    file_rejects = Rejects(SOURCE)
    frames: list[pl.DataFrame] = []
    files: list[str] = []
    drift: dict[str, dict[str, list[str]]] = {}
    for day in days:
        for listed in listed_files(data_dir, day, SOURCE):
            files.append(listed.rel)
            try:
                listed.ensure_inside()  # refuses a symlink out of the data dir before any read
                records, file_drift = read_file_records(listed.path, listed.rel, listed.partition_day)
            except FileRefused as exc:
                file_rejects.add(listed.rel, 0, str(exc), "")
                continue
            if file_drift:
                drift[listed.rel] = file_drift
            frames.append(records)
    records = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=RECORD_SCHEMA)
    accepted, row_rejects = validate_records(records, services, [c.lower() for c in countries], now)
    rejects = pl.concat([file_rejects.frame(), row_rejects], how="vertical")
    parsed = CrowdParse(accepted, rejects, files, records.height + len(file_rejects), drift)
    parsed.ensure_balanced("crowd reports", "records", "a record")
    return parsed
