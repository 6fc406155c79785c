"""The clocks of a measured step: wall and CPU time of its work, peak RSS of its own process."""

from __future__ import annotations

import resource
import time
from pathlib import Path

_CLOCK: dict[str, float] = {}


def start() -> float:
    """Start the step's clocks: wall time (returned) and CPU time of all its threads."""
    _CLOCK["cpu_start"] = time.process_time()
    return time.perf_counter()


def stop(started: float) -> float:
    """Stop both clocks; the wall seconds since `started` (CPU seconds: `cpu_seconds()`)."""
    _CLOCK["cpu_seconds"] = time.process_time() - _CLOCK["cpu_start"]
    return time.perf_counter() - started


def cpu_seconds() -> float:
    return _CLOCK["cpu_seconds"]


def rss_kb() -> int:
    """Peak RSS of this process so far, in KB: VmHWM of its own address space.

    Not getrusage(): Linux carries ru_maxrss across exec, so a child would report at least the RSS its
    parent had when it forked (the generator's frames), whatever the step itself used.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: best effort

