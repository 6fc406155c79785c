"""marts.downtime_cost: what each incident, provider and month cost us.

Incident windows in windows.py, cost terms in terms.py, the whole mart in mart.py, the asset in assets.py.
"""
