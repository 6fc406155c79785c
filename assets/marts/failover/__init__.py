"""marts.failover_simulation: what a second vendor would have bought us.

Routing policies in policies.py, the minute-by-minute replay in replay.py, the asset in assets.py.
"""
