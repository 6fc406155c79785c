"""marts.migration_signals: are users moving between providers?

Formulas in signals.py, DuckDB aggregates in inputs.py, the asset in assets.py.
"""
