"""The one atomic file write: a temp file in the target's directory, then os.replace (all or nothing)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, body: bytes, durable: bool = False, mode: int | None = None) -> None:
    """Write `body` to `path` so readers see the old file or the new one, never a part.

    `durable` also fsyncs before the rename (archived fetches, which are never refetched); `mode` sets the
    permissions before the rename (the temp file is created 0600), so the file never appears with others.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
