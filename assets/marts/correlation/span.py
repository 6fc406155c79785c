"""The hours a window's correlation looks at: the analysed window widened by the largest lag on both sides."""

import datetime as dt

from pipelines.core.window import Window


def lagged_span(window: Window, max_lag_hours: int) -> tuple[dt.datetime, dt.datetime] | None:
    """[start, end) of the hours to read for a window `incidents run` named (its tags): every hour of the window
    can be paired at every lag, and a run over the whole history reads all of it. None (every hour) for a run
    without a named window (a schedule, `dagster asset materialize`), as before."""
    if window.source != "run":
        return None
    lag = dt.timedelta(hours=max_lag_hours)
    return window.start_ts - lag, window.end_ts + lag

