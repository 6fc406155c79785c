"""What the warehouse says exists: tables and views by schema and name, columns in their order."""

import duckdb

from assets.reports.marts_data import table_columns
from pipelines.core.warehouse import table_exists


def test_tables_and_views_exist_by_schema_and_name_and_list_their_columns_in_order():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA staging")
    con.execute("CREATE TABLE marts.slo_burn (provider VARCHAR, minute TIMESTAMP, burn DOUBLE)")
    con.execute("CREATE VIEW staging.request_logs AS SELECT 1 AS day, 'x' AS provider")
    con.execute("CREATE VIEW marts.daily AS SELECT 1 AS day, 'x' AS provider")
    con.execute("CREATE TABLE main.slo_alerts (z INTEGER)")  # same name space, another schema
    assert table_exists(con, "marts.slo_burn") and table_exists(con, "staging.request_logs")
    assert not table_exists(con, "marts.slo_alerts") and not table_exists(con, "staging.slo_burn")
    assert table_columns(con, "marts.slo_burn") == ["provider", "minute", "burn"]
    assert table_columns(con, "marts.daily") == ["day", "provider"]
    assert table_columns(con, "marts.slo_alerts") == []
