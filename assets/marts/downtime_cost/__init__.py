"""marts.downtime_cost: what each incident, provider and month cost us.

Incident windows in windows.py, observed impact in impact.py (the price follows what we observed, not
the vendor's label), cost terms in terms.py, the whole mart in mart.py, the asset in assets.py.
"""
