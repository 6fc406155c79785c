"""marts.incidents: one row per status-page incident with its lifecycle times and stage durations.

`lifecycle.incidents_mart(incidents, updates, affected, config)` is the pure function; the asset in
`assets.py` only reads staging, calls it and writes the mart. Column meanings: `columns.INCIDENT_COLUMNS`;
the "from 19:52-20:35 UTC" windows stated in update bodies: `stated_window`; components and impact read
from the words of incidents whose source lists none (history feeds): `inference`, with the status
words in `data/status_words.json`.
"""
