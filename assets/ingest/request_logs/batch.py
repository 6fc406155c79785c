"""The batch driver: a set of request-log files -> Parquet files per UTC day of their rows, plus rejects.

Real files are not cut at UTC midnight: a file may hold rows of several days and sit in any day folder,
so every accepted row goes to the day of its own `ts` (out_dir/day=YYYY-MM-DD/). The whole batch is
first tried in one native query (the fast path); if any file is unusual, each file goes on its own
(native if clean, else line by line) into a stage file, and the stages are split by day.
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
from assets.ingest.request_logs.gateway_files import convert_gateway_files
from assets.ingest.request_logs.inflated_files import inflate_files
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.raw_files import RawFile, file_format
from assets.ingest.request_logs.results import BatchResult, FileResult
from pipelines.core.config import ProvidersConfig
from pipelines.core.partitions import FIRST_DAY
from pipelines.core.quarantine import REJECTED_SCHEMA, Rejects


def _inside(path: Path, data_dir: Path) -> bool:
    return data_dir.resolve() in path.resolve().parents


def _relative(path: Path, data_dir: Path) -> str:
    try:
        return path.resolve().relative_to(data_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def list_folder(folder: Path, data_dir: Path) -> tuple[list[RawFile], list[str]]:
    """The files of one raw day folder, and the symlinks in it that leave the data dir (never read).

    A refused link is named by its own path under the data dir, not by its target.
    """
    listed = visible_files(folder)
    escaping = [p for p in listed if not _inside(p, data_dir)]
    files = [RawFile(p, _relative(p, data_dir), file_format(p)) for p in listed if p not in escaping]
    links = [f"{_relative(folder, data_dir)}/{p.name}" for p in escaping]
    return files, links


def ingest_files(
    files: list[RawFile],
    out_dir: Path | str,
    mapping: ProviderMapping | ProvidersConfig,
    *,
    refused_links: list[str] = (),
    now: dt.datetime | None = None,
    earliest: dt.date = FIRST_DAY,
    work_dir: Path | str | None = None,
    memory_limit: str = "1GB",
    threads: int | None = None,
    fast_path: bool = True,
    one_day: str | None = None,
) -> BatchResult:
    """Parse `files` into out_dir/day=YYYY-MM-DD/*.parquet (zstd, LAKE_COLUMNS), one folder per UTC day.

    refused_links: symlinks leaving the data dir (list_folder), each refused whole as record 0.
    now: rows later than this are refused as "in the future" (default: the current time);
    earliest: rows before this UTC day are refused (default: the first partition day).
    work_dir: scratch space (stage files, inflated gzip copies, DuckDB spill); default: a temp dir beside
    out_dir, removed after.
    memory_limit, threads: for the in-memory DuckDB that does the work (a one-day native write streams
    under fast_path.ONE_DAY_MEMORY_LIMIT instead).
    fast_path: False forces the exact line-by-line path for every file (tests compare the two).
    one_day: the UTC day the rows probably lie on (their folder's): a cheaper write is tried first.
    Returns per-file counts (accepted rows per day) and the refused rows; nothing touches the warehouse.
    """
    if isinstance(mapping, ProvidersConfig):
        mapping = ProviderMapping.from_config(mapping)
    out_dir = Path(out_dir)
    now = now or dt.datetime.now(dt.UTC)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(work_dir) if work_dir is not None else Path(tempfile.mkdtemp(prefix=".work-", dir=out_dir.parent))
    work.mkdir(parents=True, exist_ok=True)
    result = BatchResult(out_dir=out_dir)
    try:
        files, unmapped = convert_gateway_files(files, work, mapping)
        if fast_path:
            files = inflate_files(files, work)
        con = connect(work, memory_limit, threads)
        try:
            suspects: set[str] = set()
            rows = (
                try_fast(con, files, mapping, (earliest, now), out_dir, one_day=one_day, suspects=suspects,
                         memory_limit=memory_limit)
                if fast_path and files
                else None
            )
            if rows is not None:
                for f in files:
                    size = f.stored.stat().st_size
                    result.files.append(FileResult(f.rel, f.format, size, "native", rows_by_day=rows[f.rel]))
            else:
                _per_file(con, files, mapping, (earliest, now), work, result, fast_path, suspects)
        finally:
            con.close()
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    if unmapped:  # gateway records the converter could not map
        for fr in result.files:
            fr.rows_quarantined += sum(1 for row in unmapped.rows if row["file"] == fr.file)
        result.rejects = pl.concat([unmapped.frame(), result.rejects]).sort("file", "record_no", maintain_order=True)
    if refused_links:
        refused = Rejects(SOURCE)
        for link in refused_links:
            result.files.append(FileResult(link, file_format(Path(link)) or "", 0, rows_quarantined=1,
                                           error=SYMLINK_REFUSED))
            refused.add(link, 0, SYMLINK_REFUSED)
        result.rejects = pl.concat([result.rejects, refused.frame()])
    return result


def ingest_day(
    raw_day_dir: Path | str, day: dt.date | str, output_path: Path | str, mapping, **options
) -> BatchResult:
    """One folder's files -> one Parquet file (output_path) of their rows that lie on `day` (UTC).

    The batch's other days are counted in the result (rows_by_day) but not written. Options as for
    ingest_files; data_dir defaults to three levels above the folder.
    """
    raw_day_dir, output_path = Path(raw_day_dir), Path(output_path)
    day = day if isinstance(day, str) else day.isoformat()
    data_dir = Path(options.pop("data_dir", None) or raw_day_dir.resolve().parents[2])
    files, links = list_folder(raw_day_dir, data_dir)
    out_dir = Path(tempfile.mkdtemp(prefix=".batch-", dir=output_path.parent if output_path.parent.is_dir() else None))
    try:
        result = ingest_files(files, out_dir / "days", mapping, refused_links=links, one_day=day, **options)
        merge_day(result.day_files(day), output_path)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return result


def merge_day(pieces: list[Path], target: Path) -> None:
    """One day's Parquet pieces -> target (moved when there is one, else rewritten; empty but typed if none)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if len(pieces) == 1:
        shutil.move(pieces[0], target)
        return
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        if pieces:
            source = "SELECT * FROM read_parquet($pieces)"
            params = {"pieces": [str(p) for p in pieces]}
        else:
            source = "SELECT " + ", ".join(f"NULL::{t} AS {c}" for c, t in LAKE_COLUMNS.items()) + " WHERE false"
            params = {}
        con.execute(
            f"COPY ({source}) TO '{sql_literal(target)}' (FORMAT parquet, {LAKE_PARQUET_OPTIONS})", params
        ).fetchall()


def _per_file(
    con: duckdb.DuckDBPyConnection,
    files: list[RawFile],
    mapping: ProviderMapping,
    limits: tuple[dt.date, dt.datetime],
    work: Path,
    result: BatchResult,
    fast_path: bool,
    suspects: set[str],
) -> None:
    """Each file on its own: native if it is clean, else line by line; then split the stages by day.

    limits: (earliest day, now). suspects: files the batch-wide native attempt already failed on; they go
    straight to the exact path.
    """
    earliest, now = limits
    stages: list[Path] = []
    whole_file_rejects = Rejects(SOURCE)
    for i, f in enumerate(files):
        fr = FileResult(f.rel, f.format, f.stored.stat().st_size)
        stage = work / f"stage-{i:05d}.parquet"
        if f.kind is None:
            fr.error = (
                f"file: {f.path.name!r} is not a request log (expected .jsonl, .csv or .log, optionally .gz)"
            )
        elif (
            fast_path
            and f.kind in ("jsonl", "csv")
            and f.rel not in suspects
            and try_fast(con, [f], mapping, limits, stage, stage=True) is not None
        ):
            fr.parser = "native"
        else:
            fr.error = exact_file(con, f, mapping, earliest, now, stage)
            fr.parser = "lines" if fr.error is None else ""
        if fr.error is None:
            stages.append(stage)
        else:
            fr.rows_quarantined = 1  # the file itself is the one refused record (record_no 0)
            whole_file_rejects.add(f.rel, 0, fr.error)
        result.files.append(fr)
    _split_stages(con, stages, result)
    if whole_file_rejects:
        result.rejects = pl.concat([result.rejects, whole_file_rejects.frame()])


def _split_stages(con: duckdb.DuckDBPyConnection, stages: list[Path], result: BatchResult) -> None:
    """Accepted rows of every stage file -> out_dir/day=*/; per-file counts and refused rows -> result."""
    if not stages:
        return
    lake_columns = ", ".join(f"{c}::{t} AS {c}" for c, t in LAKE_COLUMNS.items())
    stage_list = {"stages": [str(s) for s in stages]}
    source = "read_parquet($stages, union_by_name = true)"
    con.execute(
        f"COPY (SELECT {lake_columns}, day FROM {source} WHERE reason IS NULL) "
        f"TO '{sql_literal(result.out_dir)}' (FORMAT parquet, {LAKE_PARQUET_OPTIONS}, PARTITION_BY (day))",
        stage_list,
    ).fetchall()
    accepted: dict[str, dict[str, int]] = {}
    refused: dict[str, int] = {}
    for file, day, rows in con.execute(
        f"SELECT file, CASE WHEN reason IS NULL THEN day::VARCHAR END AS d, count(*) FROM {source} GROUP BY ALL",
        stage_list,
    ).fetchall():
        if day is None:
            refused[file] = int(rows)
        else:
            accepted.setdefault(file, {})[day] = int(rows)
    for fr in result.files:
        if fr.error is None:
            fr.rows_by_day, fr.rows_quarantined = accepted.get(fr.file, {}), refused.get(fr.file, 0)
    frame = con.sql(
        f"SELECT $source AS source, file, record_no, reason, raw FROM {source} "
        "WHERE reason IS NOT NULL ORDER BY file, record_no",
        params={**stage_list, "source": SOURCE},
    ).pl()
    result.rejects = frame.select([pl.col(c).cast(t) for c, t in REJECTED_SCHEMA.items()])
