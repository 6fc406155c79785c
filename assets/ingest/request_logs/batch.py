"""The day driver: every request-log file of one UTC day -> one Parquet file of accepted rows + rejects.

The whole day is first tried in one native query (the fast path); if any file is unusual, each file
goes on its own (native if clean, else line by line) into a stage file, and the stages are merged.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from assets.ingest.day_folders import SYMLINK_REFUSED, visible_files
from assets.ingest.request_logs.connection import connect, sql_literal
from assets.ingest.request_logs.exact_path import exact_file
from assets.ingest.request_logs.fast_path import try_fast
from assets.ingest.request_logs.fields import LAKE_COLUMNS, LAKE_PARQUET_OPTIONS, SOURCE
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.raw_files import RawFile, file_format
from assets.ingest.request_logs.results import DayResult, FileResult
from pipelines.core.config import ProvidersConfig
from pipelines.core.quarantine import REJECTED_SCHEMA, Rejects


def _inside(path: Path, data_dir: Path) -> bool:
    return data_dir.resolve() in path.resolve().parents


def _relative(path: Path, data_dir: Path) -> str:
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def ingest_day(
    raw_day_dir: Path | str,
    day: dt.date | str,
    output_path: Path | str,
    mapping: ProviderMapping | ProvidersConfig,
    *,
    data_dir: Path | str | None = None,
    now: dt.datetime | None = None,
    work_dir: Path | str | None = None,
    memory_limit: str = "1GB",
    threads: int | None = None,
    fast_path: bool = True,
) -> DayResult:
    """Parse every request-log file of one UTC day into one Parquet file of accepted rows.

    raw_day_dir: the day's folder (raw/request_logs/<YYYY-MM-DD>/); day: that UTC day.
    output_path: the Parquet file of accepted rows (zstd, columns LAKE_COLUMNS). It is written in
        place: callers that need atomicity (the lake writer) pass a temp path and rename it.
    mapping: the providers config or a ProviderMapping built from it.
    data_dir: `file` values are made relative to it (default: three levels above raw_day_dir).
    now: rows later than this are refused as "in the future" (default: the current time).
    work_dir: scratch space (staging files, DuckDB spill); default: a temp dir beside output_path,
        removed afterwards.
    memory_limit, threads: for the in-memory DuckDB that does the work.
    fast_path: False forces the exact line-by-line path for every file (tests compare the two).
    Returns per-file counts and the refused rows (quarantine schema); nothing touches the warehouse.
    """
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    if isinstance(mapping, ProvidersConfig):
        mapping = ProviderMapping.from_config(mapping)
    raw_day_dir, output_path = Path(raw_day_dir), Path(output_path)
    data_dir = Path(data_dir) if data_dir is not None else raw_day_dir.resolve().parents[2]
    now = now or dt.datetime.now(dt.UTC)
    listed = visible_files(raw_day_dir)
    # A symlink that leads out of the data dir is never read: it is refused whole, like an unreadable file.
    escaping = [p for p in listed if not _inside(p, data_dir)]
    files = [RawFile(p, _relative(p, data_dir), file_format(p)) for p in listed if p not in escaping]
    output_path.parent.mkdir(parents=True, exist_ok=True)
    work = (
        Path(work_dir)
        if work_dir is not None
        else Path(tempfile.mkdtemp(prefix=".work-", dir=output_path.parent))
    )
    work.mkdir(parents=True, exist_ok=True)
    result = DayResult(day=day, output_path=output_path)
    try:
        con = connect(work, memory_limit, threads)
        try:
            suspects: set[str] = set()
            rows = (
                try_fast(con, files, mapping, day, now, output_path, suspects=suspects)
                if fast_path and files
                else None
            )
            if rows is not None:
                for f in files:
                    n = rows[f.rel]
                    result.files.append(FileResult(f.rel, f.format, f.path.stat().st_size, "native", n, n, 0))
            else:
                _per_file(con, files, mapping, day, now, work, output_path, result, fast_path, suspects)
        finally:
            con.close()
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    if escaping:
        refused = Rejects(SOURCE)
        for p in escaping:
            link = _relative(raw_day_dir, data_dir) + "/" + p.name  # the link's own name, not its target
            result.files.append(FileResult(link, file_format(p) or "", 0, rows_in=1, rows_quarantined=1,
                                           error=SYMLINK_REFUSED))
            refused.add(link, 0, SYMLINK_REFUSED)
        result.rejects = pl.concat([result.rejects, refused.frame()])
    return result


def _per_file(
    con: duckdb.DuckDBPyConnection,
    files: list[RawFile],
    mapping: ProviderMapping,
    day: dt.date,
    now: dt.datetime,
    work: Path,
    output_path: Path,
    result: DayResult,
    fast_path: bool,
    suspects: set[str],
) -> None:
    """Each file on its own: native if it is clean, else line by line; then merge into output_path.

    suspects: files the day-wide native attempt already failed on; they go straight to the exact path.
    """
    stages: list[Path] = []
    whole_file_rejects = Rejects(SOURCE)
    for i, f in enumerate(files):
        fr = FileResult(f.rel, f.format, f.path.stat().st_size)
        stage = work / f"stage-{i:05d}.parquet"
        if f.kind is None:
            fr.error = (
                f"file: {f.path.name!r} is not a request log (expected .jsonl, .csv or .log, optionally .gz)"
            )
        elif (
            fast_path
            and f.kind in ("jsonl", "csv")
            and f.rel not in suspects
            and try_fast(con, [f], mapping, day, now, stage, stage=True) is not None
        ):
            fr.parser = "native"
        else:
            fr.error = exact_file(con, f, mapping, day, now, stage)
            fr.parser = "lines" if fr.error is None else ""
        if fr.error is None:
            stages.append(stage)
        else:
            fr.rows_in = fr.rows_quarantined = 1  # the file itself is the one refused record (record_no 0)
            whole_file_rejects.add(f.rel, 0, fr.error)
        result.files.append(fr)
    _merge_stages(con, stages, output_path, result)
    if whole_file_rejects:
        result.rejects = pl.concat([result.rejects, whole_file_rejects.frame()])


def _merge_stages(con: duckdb.DuckDBPyConnection, stages: list[Path], output_path: Path, result: DayResult) -> None:
    """Accepted rows of every stage file -> output_path; per-file counts and refused rows -> result."""
    target = sql_literal(output_path)
    if not stages:  # an empty file with the right schema, so the day still has its file set
        empty = ", ".join(f"NULL::{t} AS {c}" for c, t in LAKE_COLUMNS.items())
        con.execute(
            f"COPY (SELECT {empty} WHERE false) TO '{target}' (FORMAT parquet, {LAKE_PARQUET_OPTIONS})"
        ).fetchall()
        return
    lake_columns = ", ".join(f"{c}::{t} AS {c}" for c, t in LAKE_COLUMNS.items())
    stage_list = {"stages": [str(s) for s in stages]}
    source = "read_parquet($stages, union_by_name = true)"
    con.execute(
        f"COPY (SELECT {lake_columns} FROM {source} WHERE reason IS NULL) "
        f"TO '{target}' (FORMAT parquet, {LAKE_PARQUET_OPTIONS})",
        stage_list,
    ).fetchall()
    counts = {
        file: (int(total), int(refused))
        for file, total, refused in con.execute(
            f"SELECT file, count(*), count(reason) FROM {source} GROUP BY file", stage_list
        ).fetchall()
    }
    for fr in result.files:
        if fr.error is None:
            total, refused = counts.get(fr.file, (0, 0))
            fr.rows_in, fr.rows_quarantined, fr.rows_accepted = total, refused, total - refused
    frame = con.sql(
        f"SELECT $source AS source, file, record_no, reason, raw FROM {source} "
        "WHERE reason IS NOT NULL ORDER BY file, record_no",
        params={**stage_list, "source": SOURCE},
    ).pl()
    result.rejects = frame.select([pl.col(c).cast(t) for c, t in REJECTED_SCHEMA.items()])
