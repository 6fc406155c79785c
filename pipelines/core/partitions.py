"""Daily UTC partitions shared by every time-series asset.

They cover any day a user may have evidence for: from FIRST_DAY up to yesterday (Dagster offers a day once
it has ended in UTC). The analysed window is chosen per run (CLI flags or the config's `analysis` block),
never here.
"""

import datetime as dt

import dagster as dg

FIRST_DAY = dt.date(2010, 1, 1)

daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(), timezone="UTC")

# A backfill of any range is one run, so each asset sees the whole range at once.
single_run = dg.BackfillPolicy.single_run()


def last_complete_day(now: dt.datetime | None = None) -> dt.date:
    """Yesterday in UTC: the newest day a partition exists for."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date() - dt.timedelta(days=1)
