"""One measured benchmark step per process: `python benchmarks/steps.py STEP DATA_DIR RESULT_JSON`.

run.py starts every step in a fresh interpreter, so each step's peak RSS is its own. A step imports only
what it needs, times only its work (not the interpreter start or the imports) and writes a small JSON with
its peak RSS (VmHWM, so the parent's memory does not leak in; `rss_after_import_kb` is what the imports
alone cost). DATA_DIR holds raw/request_logs/<day>/ and config/providers.yaml. The steps themselves:
engines_ingest.py (raw files -> Parquet lake) and engines_sli.py (lake -> per-provider-minute SLI).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import clock
import engines_ingest
import engines_sli

STEPS = {
    name: getattr(module, name)
    for module in (engines_ingest, engines_sli)
    for name in dir(module)
    if name.startswith(("ingest_", "sli_"))
}


def main(argv: list[str]) -> None:
    step, data_dir, result_path = argv
    result = STEPS[step](Path(data_dir).resolve())
    result["peak_rss_kb"] = clock.rss_kb()
    result["cpu_seconds"] = clock.cpu_seconds()
    Path(result_path).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
