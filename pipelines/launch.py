"""The `incidents` command's entry point: Great Expectations starts loading before anything else does.

A command that runs checks and draws pages (`run`, `demo`) starts the GX worker process first (`gx_process`,
standard library only), so GX's ~2 CPU s of imports run on the other core while this process imports
Dagster and the code location, instead of after; and the chart worker (`chart_process`), whose vl-convert
engine is ready by the time the reports draw. Then the CLI runs as usual. `python -m pipelines` does the same.
"""

import sys

from pipelines.core import chart_process, gx_process

VALIDATING_COMMANDS = {"run", "demo"}


def main() -> None:
    if VALIDATING_COMMANDS & set(sys.argv[1:]):
        gx_process.warm_up()
        chart_process.warm_up()
    from pipelines.cli import entry

    entry()
