"""Run history under $DAGSTER_HOME is written without fsync; every other SQLite file keeps its default."""

import dagster as dg
import sqlalchemy as sa

from pipelines.instance_storage import relax_instance_sync


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
