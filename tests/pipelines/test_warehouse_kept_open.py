"""`warehouse.kept_open`: one DuckDB instance for every connection of an in-process run, the file lock held
for the block only, writes committed or rolled back per connection as without it."""

from __future__ import annotations

import subprocess
import sys
from contextlib import nullcontext

import duckdb
import polars as pl
import pytest

from pipelines.core import warehouse
from pipelines.core.warehouse import connect, kept_open, read_table, replace_where, table_exists

_OTHER_PROCESS = (
    "import sys, duckdb\n"
    "try:\n"
    "    duckdb.connect(sys.argv[1], read_only=True).close()\n"
    "except duckdb.IOException as exc:\n"
    "    print('locked' if 'lock' in str(exc).lower() else exc)\n"
    "else:\n"
    "    print('opened')\n"
)


def _other_process_opens(path) -> str:
    return subprocess.run([sys.executable, "-c", _OTHER_PROCESS, str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_connections_inside_share_one_instance_and_the_lock_ends_with_the_block(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with kept_open(path):
        with connect(path) as con:
            replace_where(con, "staging.kept", pl.DataFrame({"n": [1, 2, 3]}), "n", [])
        with connect(path, read_only=True) as reader, connect(path) as other:
            # both are cursors of the kept instance: the same catalog, the UTC rule on each
            assert read_table(reader, "staging.kept")["n"].to_list() == [1, 2, 3]
            assert table_exists(other, "quarantine.rejected_rows")
            assert other.execute("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
        assert _other_process_opens(path) == "locked"
        with kept_open(path), connect(path) as con:  # nested: the same instance, still open after it
            assert read_table(con, "staging.kept").height == 3
        assert _other_process_opens(path) == "locked"
    assert not warehouse._kept_open
    assert _other_process_opens(path) == "opened"
    with connect(path, read_only=True) as con:  # committed to the file
        assert read_table(con, "staging.kept")["n"].to_list() == [1, 2, 3]


def test_a_path_through_a_symlink_gets_the_same_instance(tmp_path):
    # one DuckDB instance per file (kept_open keys by the real path; DuckDB's own instance cache agrees): a
    # second instance on the kept file would not see the first one's writes
    path = tmp_path / "data" / "warehouse.duckdb"
    path.parent.mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data")
    with kept_open(path):
        with connect(tmp_path / "link" / "warehouse.duckdb") as con:
            replace_where(con, "staging.linked", pl.DataFrame({"n": [7]}), "n", [])
        with connect(path) as con:
            assert read_table(con, "staging.linked")["n"].to_list() == [7]


def test_a_failed_write_inside_rolls_back_and_the_next_connection_works(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with kept_open(path):
        with connect(path) as con:
            replace_where(con, "staging.kept", pl.DataFrame({"day": [1, 2], "x": [1.5, 2.5]}), "day", [1, 2])
        # the DELETE runs, then the INSERT fails on a column the table lacks: the transaction rolls back
        with pytest.raises(duckdb.BinderException), connect(path) as con:
            replace_where(con, "staging.kept", pl.DataFrame({"day": [1], "y": [9.0]}), "day", [1])
        with connect(path) as con:
            assert read_table(con, "staging.kept").rows() == [(1, 1.5), (2, 2.5)]
            replace_where(con, "staging.kept", pl.DataFrame({"day": [2], "x": [3.5]}), "day", [2])
    with connect(path, read_only=True) as con:
        assert read_table(con, "staging.kept").rows() == [(1, 1.5), (2, 3.5)]


def test_a_read_only_connection_outside_still_needs_a_built_warehouse(tmp_path):
    with pytest.raises(FileNotFoundError, match="warehouse not built yet"), connect(tmp_path / "none.duckdb",
                                                                                     read_only=True):
        pass


@pytest.mark.parametrize("kept", [True, False])
def test_a_table_created_by_a_large_partition_write_reads_back_whole(tmp_path, kept):
    # DuckDB 2.0: an empty CREATE TABLE AS ... LIMIT 0 and an INSERT of more than a row group in one
    # transaction read back as an empty table until the database is reopened; replace_where creates the
    # table with its rows instead. Read on the writing connection and on a second one (a cursor when kept).
    path = tmp_path / "warehouse.duckdb"
    rows = 300_000
    frame = pl.DataFrame({"day": [i % 7 for i in range(rows)], "n": list(range(rows))})
    with kept_open(path) if kept else nullcontext():
        with connect(path) as writer:
            replace_where(writer, "staging.big", frame, "day", list(range(7)))
            assert writer.execute("SELECT count(*), max(n) FROM staging.big").fetchall() == [(rows, rows - 1)]
        with connect(path) as reader:
            assert reader.execute("SELECT count(*), max(n) FROM staging.big").fetchall() == [(rows, rows - 1)]
            assert reader.execute("SELECT count(*) FROM staging.big WHERE n >= ?", [10]).fetchall() == [(rows - 10,)]
            replace_where(reader, "staging.big", frame.filter(pl.col("day") == 0), "day", [0])
            assert reader.execute("SELECT count(*) FROM staging.big").fetchall() == [(rows,)]
