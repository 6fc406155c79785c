"""Daily UTC partitions shared by every time-series asset.

They cover any day a user may have evidence for: from the first day up to yesterday (Dagster offers a day
once it has ended in UTC). The first day is 2020-01-01 (no AI provider's API is older: OpenAI's opened in
June 2020) or $INCIDENTS_FIRST_DAY, read when the code location loads. Dagster lists every day of the range
before each step that reads all days; DailyPartitions makes that list once per newest day, not once per
step, and the range still starts no earlier than evidence can. The analysed window is chosen per run (CLI
flags or the config's `analysis` block), never here.
"""

import datetime as dt
import functools
import os
import re
from collections.abc import Sequence

import dagster as dg

FIRST_DAY_ENV = "INCIDENTS_FIRST_DAY"
DEFAULT_FIRST_DAY = dt.date(2020, 1, 1)
EARLIEST_FIRST_DAY = dt.date(1970, 1, 1)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def last_complete_day(now: dt.datetime | None = None) -> dt.date:
    """Yesterday in UTC: the newest day a partition exists for."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date() - dt.timedelta(days=1)


def first_day_from(value: str | None, now: dt.datetime | None = None) -> tuple[dt.date, str | None]:
    """The first partition day an $INCIDENTS_FIRST_DAY value names, and what is wrong with it (one line, for
    `incidents check`) or None; a wrong or unset value gives the default."""
    if not value:
        return DEFAULT_FIRST_DAY, None
    try:
        day = dt.date.fromisoformat(value) if _DAY.fullmatch(value) else None
    except ValueError:  # 2026-02-30
        day = None
    if day is None:
        problem = "not a day"
    elif day < EARLIEST_FIRST_DAY:
        problem = f"before {EARLIEST_FIRST_DAY}"
    elif day > last_complete_day(now):
        problem = f"after {last_complete_day(now)}, the newest complete UTC day"
    else:
        return day, None
    return DEFAULT_FIRST_DAY, (f"{FIRST_DAY_ENV}={value!r}: {problem}; set the first UTC day to partition as "
                               f"YYYY-MM-DD, or unset it for {DEFAULT_FIRST_DAY}")


FIRST_DAY, FIRST_DAY_PROBLEM = first_day_from(os.environ.get(FIRST_DAY_ENV))


class DailyPartitions(dg.DailyPartitionsDefinition):
    """Dagster's daily partitions, with the list of every day made once per newest day.

    Before each step, Dagster lists every partition key of each partitioned input read whole (an unpartitioned
    mart over all days): 2,500 days since 2020 took ~35 ms a time, some 16 times a run, only to find them too
    many to version one by one. The list depends only on the newest day, which this keys it by.
    """

    def get_partition_keys(self, current_time: dt.datetime | None = None,
                           dynamic_partitions_store: object = None) -> Sequence[str]:
        if current_time is not None or dynamic_partitions_store is not None:
            return super().get_partition_keys(current_time, dynamic_partitions_store)
        last = self.get_last_partition_window()
        return [] if last is None else list(_partition_keys(self, last.end))


@functools.lru_cache(maxsize=4)
def _partition_keys(partitions: DailyPartitions, newest_end: dt.datetime) -> tuple[str, ...]:
    """Every key up to the day that ends at `newest_end` (Dagster's own listing at that time)."""
    return tuple(dg.DailyPartitionsDefinition.get_partition_keys(partitions, current_time=newest_end))


daily_partitions = DailyPartitions(start_date=FIRST_DAY.isoformat(), timezone="UTC")

# A backfill of any range is one run, so each asset sees the whole range at once.
single_run = dg.BackfillPolicy.single_run()
