"""What the reliability marts read from the warehouse: marts.incidents, the transitions, the snapshot times."""

from dataclasses import dataclass

import dagster as dg
import duckdb
import polars as pl

from assets.marts.reliability.evidence import snapshot_times
from pipelines.core import tables
from pipelines.core.warehouse import read_table_if_exists


@dataclass(frozen=True)
class StatusInputs:
    incidents: pl.DataFrame  # marts.incidents
    affected: pl.DataFrame | None  # staging.status_affected_components (None: no transitions staged)
    snapshots: pl.DataFrame  # provider, snapshot_at: the evidence window's ends


def read_status_inputs(con: duckdb.DuckDBPyConnection) -> StatusInputs:
    """The inputs of both reliability marts; dg.Failure when marts.incidents was never built."""
    incidents = read_table_if_exists(con, tables.INCIDENTS)
    if incidents is None:
        raise dg.Failure("marts.incidents does not exist yet: materialize marts/incidents first")
    return StatusInputs(
        incidents,
        read_table_if_exists(con, tables.STATUS_AFFECTED),
        snapshot_times(
            read_table_if_exists(con, tables.STATUS_INCIDENTS),
            read_table_if_exists(con, tables.STATUS_COMPONENTS),
        ),
    )
