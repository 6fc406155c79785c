"""The daily partitions list their days once per newest day, and list exactly what Dagster's own do."""

import datetime as dt

import dagster as dg

from pipelines.core.partitions import DailyPartitions, _partition_keys


def test_the_keys_are_dagsters_and_listed_once_per_newest_day():
    ours = DailyPartitions(start_date="2024-01-30", timezone="UTC")
    plain = dg.DailyPartitionsDefinition(start_date="2024-01-30", timezone="UTC")
    assert ours == plain  # one partitions definition to Dagster: backfills, snapshots and the UI see no difference
    for now, last in ((dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC), "2024-02-29"),
                      (dt.datetime(2024, 3, 2, 0, 0, 1, tzinfo=dt.UTC), "2024-03-01")):
        with dg.partition_loading_context(effective_dt=now):
            misses = _partition_keys.cache_info().misses
            keys = ours.get_partition_keys()
            assert keys == plain.get_partition_keys()
            assert (keys[0], keys[-1], len(keys)) == ("2024-01-30", last, 31 + (last == "2024-03-01"))
            assert _partition_keys.cache_info().misses == misses + 1  # a new newest day: listed again
            keys.append("mutated by a caller")
            assert ours.get_partition_keys() == plain.get_partition_keys()  # the kept list is not the caller's
            assert _partition_keys.cache_info().misses == misses + 1  # the same newest day: not listed again
    # a time passed in is Dagster's own listing for that time
    assert ours.get_partition_keys(current_time=dt.datetime(2024, 2, 2, tzinfo=dt.UTC)) == ["2024-01-30", "2024-01-31",
                                                                                          "2024-02-01"]
    with dg.partition_loading_context(effective_dt=dt.datetime(2024, 1, 30, 6, tzinfo=dt.UTC)):
        assert ours.get_partition_keys() == []  # the first day has not ended yet
