"""Analytics over staging tables: pure Polars/DuckDB functions beside thin assets that write marts."""
