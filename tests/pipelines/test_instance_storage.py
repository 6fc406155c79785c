"""Run history under $DAGSTER_HOME is written without fsync (every other SQLite file keeps its default), and
the event log keeps one connection per file open while writing the same files Dagster's own storage reads."""

import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.storage.event_log import SqliteEventLogStorage

from pipelines.instance_storage import KEPT_SHARDS, KeptOpenSqliteEventLogStorage, relax_instance_sync

REPO = Path(__file__).resolve().parents[2]


def _synchronous(connection) -> int:
    return connection.execute(sa.text("PRAGMA synchronous")).scalar()


def test_instance_files_skip_fsync_and_others_do_not(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    relax_instance_sync()
    relax_instance_sync()  # idempotent: one listener
    with dg.DagsterInstance.from_config(str(home)) as instance:
        with instance.run_storage.connect() as connection:
            assert _synchronous(connection) == 0  # OFF
        run = instance.create_run_for_job(dg.GraphDefinition("g").to_job(), run_config={})
        assert instance.get_run_by_id(run.run_id) is not None
    elsewhere = sa.create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with elsewhere.connect() as connection:
        assert _synchronous(connection) == 2  # FULL, SQLite's default
    elsewhere.dispose()


@dg.asset
def upstream() -> int:
    return 1


@dg.asset
def downstream(upstream: int) -> int:
    return upstream + 1


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A DAGSTER_HOME with the repository's dagster.yaml, as `make` and `incidents run` set it up."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


class _Connects:
    """Counts the SQLite connections SQLAlchemy opens to the event log's files (not the run storage's)."""

    def __init__(self):
        self.count = 0

    def __call__(self, dbapi_connection, _record):
        file = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
        self.count += Path(file).parent.name == "runs"

    def __enter__(self):
        sa.event.listen(sa.engine.Engine, "connect", self)
        return self

    def __exit__(self, *_):
        sa.event.remove(sa.engine.Engine, "connect", self)


def test_dagster_yaml_names_the_kept_open_event_log_in_dagster_s_default_place(home):
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        assert type(storage) is KeptOpenSqliteEventLogStorage
        assert Path(storage._base_dir) == home / "history" / "runs"


def test_a_run_opens_one_connection_per_file_and_dagster_s_own_storage_reads_it(home):
    with dg.DagsterInstance.get() as instance, _Connects() as connects:
        result = dg.materialize([upstream, downstream], instance=instance)
        assert result.success
        storage = instance.event_log_storage
        events = len(storage.get_logs_for_run(result.run_id))
        assert events > 10
        # the run file and the index, each opened once (Dagster's own storage opens one per use: > events)
        assert connects.count == 2
        assert set(storage._engines) == {"index", result.run_id}
    plain = SqliteEventLogStorage(str(home / "history" / "runs"))
    assert len(plain.get_logs_for_run(result.run_id)) == events
    [record] = plain.get_asset_records([dg.AssetKey("downstream")])
    assert record.asset_entry.last_materialization_record.run_id == result.run_id
    plain.dispose()


def test_two_storages_on_the_same_files_see_each_other_s_writes(home):
    """Two processes on one instance (a run and the webserver): kept-open connections do not hide commits."""
    with dg.DagsterInstance.get() as first, dg.DagsterInstance.get() as second:
        one = dg.materialize([upstream], instance=first)
        assert second.get_latest_materialization_event(dg.AssetKey("upstream")).run_id == one.run_id
        two = dg.materialize([upstream], instance=second)
        assert first.get_latest_materialization_event(dg.AssetKey("upstream")).run_id == two.run_id


def test_only_the_latest_files_stay_open_and_wipe_closes_them(home):
    storage = KeptOpenSqliteEventLogStorage(str(home / "history" / "runs"))
    for n in range(KEPT_SHARDS + 3):
        with storage.run_connection(f"run-{n}") as connection:
            connection.execute(sa.text("SELECT 1"))
    with storage.index_connection() as connection:
        connection.execute(sa.text("SELECT 1"))
    assert len(storage._engines) == KEPT_SHARDS
    assert list(storage._engines)[-2:] == [f"run-{KEPT_SHARDS + 2}", "index"]  # least recently used first out
    storage.wipe()
    assert list(storage._engines) == ["index"]  # reopened to empty it; the deleted run files are closed
    assert storage.get_all_run_ids() == []
    with storage.run_connection("after") as connection:  # a wiped storage works on
        assert connection.execute(sa.text("SELECT count(*) FROM event_logs")).scalar() == 0
    storage.dispose()
    assert storage._engines == {}


def test_schema_answers_are_remembered_once_true_and_asked_again_while_false(home, monkeypatch):
    storage = KeptOpenSqliteEventLogStorage(str(home / "history" / "runs"))
    asked = []
    real = SqliteEventLogStorage.has_secondary_index
    monkeypatch.setattr(SqliteEventLogStorage, "has_secondary_index",
                        lambda self, name: asked.append(name) or real(self, name))
    assert storage.has_secondary_index("no such migration") is False
    assert storage.has_secondary_index("no such migration") is False
    storage.enable_secondary_index("no such migration")
    assert storage.has_secondary_index("no such migration") is True
    assert storage.has_secondary_index("no such migration") is True
    assert asked == ["no such migration"] * 3  # the fourth answer was remembered
    assert storage.has_table("event_logs") and storage.has_asset_key_col("last_materialization_timestamp")
    storage.dispose()


def test_a_forked_child_opens_its_own_connections_and_the_parent_keeps_its_own(home):
    storage = KeptOpenSqliteEventLogStorage(str(home / "history" / "runs"))
    with storage.index_connection() as connection:
        connection.execute(sa.text("SELECT 1"))
    parent_engine = storage._engines["index"]
    pid = os.fork()
    if pid == 0:  # the child: nothing inherited, and a connection of its own works
        code = 0 if not storage._engines else 1
        with storage.index_connection() as connection:
            code |= 0 if connection.execute(sa.text("SELECT 1")).scalar() == 1 else 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert storage._engines["index"] is parent_engine
    with storage.index_connection() as connection:  # the parent's connection still works after the child's exit
        assert connection.execute(sa.text("SELECT count(*) FROM event_logs")).scalar() == 0
    storage.dispose()
