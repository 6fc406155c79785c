"""The crowd-report run: the files with rows for the run's days read, each record placed on its own UTC day,
then all records of those days validated at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.ingest import day_folders
from assets.ingest.crowd_reports.reading import read_file_records
from assets.ingest.crowd_reports.schema import RECORD_SCHEMA, SOURCE
from assets.ingest.crowd_reports.timestamps import utc_timestamp
from assets.ingest.crowd_reports.validate import validate_records
from assets.ingest.day_folders import FileRefused, parse_day
from assets.ingest.day_sources import CHARGED_SCHEMA, DayParse, ListedFile, files_for_days
from pipelines.core.config import ProvidersConfig
from pipelines.core.quarantine import Rejects


@dataclass
class CrowdParse(DayParse):
    """What one run read: accepted rows (STAGING_SCHEMA), quarantined records, files seen, schema drift."""

    schema_drift: dict[str, dict[str, list[str]]] = field(default_factory=dict)


@dataclass
class _FileRead:
    """One file's records (RECORD_SCHEMA plus `own_day`, the UTC day of its timestamp) or why it is refused."""

    records: pl.DataFrame
    drift: dict[str, list[str]]
    refused: str | None = None

    @property
    def days(self) -> set[str | None]:
        return {None} if self.refused else set(self.records["own_day"].unique().to_list())


def day_files(data_dir: Path, day: str) -> list[Path]:
    return day_folders.day_files(data_dir, day, SOURCE)


def configured_services(config: ProvidersConfig) -> dict[str, str]:
    """Crowd service names with their configured spelling -> provider key."""
    return {name: key for key, provider in config.providers.items() for name in provider.crowd_services}


def _read(listed: ListedFile) -> _FileRead:
    try:
        listed.ensure_inside()  # refuses a symlink out of the data dir before any read
        records, drift = read_file_records(listed.path, listed.rel, listed.home_day)
    except FileRefused as exc:
        return _FileRead(pl.DataFrame(schema=RECORD_SCHEMA), {}, str(exc))
    own_day = utc_timestamp(pl.col("timestamp").str.strip_chars()).dt.date().cast(pl.String)
    return _FileRead(records.with_columns(own_day.alias("own_day")), drift)


def _placed(records: pl.DataFrame, first_day: dt.date, last_day: dt.date) -> pl.DataFrame:
    """`partition_day` = the record's own UTC day when a partition covers it, else the file's home day."""
    own = pl.col("own_day").str.to_date()
    placeable = own.is_between(pl.lit(first_day), pl.lit(last_day)).fill_null(False)
    return records.with_columns(pl.when(placeable).then(own).otherwise(pl.col("partition_day")).alias("partition_day"))


def parse_crowd_days(
    data_dir: Path,
    days: Iterable[str],
    services: Mapping[str, str],
    countries: Sequence[str],
    now: dt.datetime | None = None,
    first_day: dt.date = dt.date.min,
) -> CrowdParse:
    """Read every crowd-report record of `days` (YYYY-MM-DD), from whichever day folder its file sits in.

    A record belongs to the UTC day of its timestamp. A record that cannot be placed (no valid timestamp,
    before `first_day` (the first partition), or after today) stays with its file's folder day and is quarantined there.
    `services`: configured crowd service name -> provider key (see configured_services()); `countries`: the
    configured country codes; `now` bounds "in the future" (default: now, UTC).
    """
    now = now or dt.datetime.now(dt.UTC)
    days = list(days)
    wanted = {parse_day(d) for d in days}
    reads: dict[str, _FileRead] = {}

    def row_days(listed: ListedFile) -> set[str | None]:
        reads[listed.rel] = _read(listed)
        return reads[listed.rel].days

    run = files_for_days(data_dir, SOURCE, days, row_days, first_day, now.date())
    reads = {f.rel: reads[f.rel] for f in run.files if f.rel in reads}  # files read to index them only: dropped
    file_rejects = Rejects(SOURCE)
    frames: list[pl.DataFrame] = []
    drift: dict[str, dict[str, list[str]]] = {}
    for listed in run.files:
        read = reads.pop(listed.rel, None) or _read(listed)  # each file's records held once, as its run rows
        if read.refused:
            file_rejects.add(listed.rel, 0, read.refused, "")
            continue
        if read.drift:
            drift[listed.rel] = read.drift
        frames.append(_placed(read.records, first_day, now.date()).filter(pl.col("partition_day").is_in(wanted)))
    # made one chunk here, while the files' frames are let go (validate_records needs one chunk)
    records = (pl.concat(frames, how="vertical", rechunk=True).drop("own_day") if frames
               else pl.DataFrame(schema=RECORD_SCHEMA))
    frames.clear()
    accepted, row_rejects = validate_records(records, services, [c.lower() for c in countries], now, first_day)
    charged = pl.concat(
        [records.select("file", "record_no"), file_rejects.frame().select("file", "record_no")], how="vertical"
    ).cast(CHARGED_SCHEMA)
    parsed = CrowdParse(
        accepted,
        pl.concat([file_rejects.frame(), row_rejects], how="vertical"),
        [f.rel for f in run.files],
        records.height + len(file_rejects),
        charged,
        run.outdated,
        run.index,
        drift,
    )
    parsed.ensure_balanced("crowd reports", "records", "a record")
    return parsed
