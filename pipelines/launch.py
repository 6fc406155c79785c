"""The `incidents` command's entry point: Great Expectations starts loading before anything else does.

A command that runs checks and draws pages (`run`, `demo`) starts the GX worker process first (`gx_process`,
standard library only), so GX's ~1.2 CPU s of imports run on the other core while this process imports
Dagster and the code location, instead of after; and the chart worker (`chart_process`), whose vl-convert
engine is ready by the time the reports draw. The CLI and, for those commands, the code location are imported
with Python's garbage collector paused (`collector`). Then the CLI runs as usual. `python -m pipelines` does
the same.

OpenBLAS (numpy's and scipy's) gets one thread: the pipeline's matrices are tiny (least squares over a few
hundred points), and OpenBLAS's extra threads only spin after each call, taking CPU from the run and its
workers (a one-day run: 4.68 -> 4.51 s). Set before numpy is imported, here and in the workers (inherited).
"""

import os
import sys

from pipelines.core import chart_process, collector, gx_process

VALIDATING_COMMANDS = {"run", "demo"}


def main() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    validating = bool(VALIDATING_COMMANDS & set(sys.argv[1:]))
    if validating:
        gx_process.warm_up()
        chart_process.warm_up()
    with collector.paused():
        from pipelines.cli import entry

        if validating:
            import pipelines.definitions  # noqa: F401 - the code location its run loads anyway
    entry()
