"""marts.migration_correlation and marts.load_error_curve: do errors follow migration? (formulas in mart.py
and saturation.py; the lag engine in lagged.py and significance.py; assets in assets.py)"""
