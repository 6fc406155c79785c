"""Gateway exports among the raw files: recognised from content, converted to our JSONL before the ingest.

LiteLLM, OpenRouter, Helicone, Portkey, Langfuse, OpenTelemetry GenAI, nginx JSON, Envoy and AWS ALB
logs are read by assets.ingest.gateways into our canonical JSONL in the work dir; the converted file
then goes through the same typing and validation as our own logs, under the original file's name.
Records the converter cannot map are refused with its record number and reason.
"""

from __future__ import annotations

from pathlib import Path

from assets.ingest import gateways
from assets.ingest.request_logs.fields import SOURCE
from assets.ingest.request_logs.lines import UNREADABLE
from assets.ingest.request_logs.providers import ProviderMapping
from assets.ingest.request_logs.raw_files import RawFile
from pipelines.core.quarantine import Rejects

HEAD_BYTES = 64 << 10  # enough for a first record of any gateway format, compressed or not


def _gateway_format(path: Path) -> str | None:
    try:
        with open(path, "rb") as stream:
            head = stream.read(HEAD_BYTES)
    except UNREADABLE:
        return None  # the ingest reports the unreadable file
    return gateways.detect(head, path.name)


def convert_gateway_files(
    files: list[RawFile], work: Path, mapping: ProviderMapping
) -> tuple[list[RawFile], Rejects]:
    """The files with each gateway export replaced by its canonical JSONL; the records it could not map."""
    converted, refused = [], Rejects(SOURCE)
    for i, f in enumerate(files):
        fmt = _gateway_format(f.path)
        if fmt is None:
            converted.append(f)
            continue
        out = work / f"gateway-{i:05d}.jsonl"
        for record_no, reason, raw in gateways.to_canonical_jsonl(f.path, fmt, out, mapping.provider_for):
            refused.add(f.rel, record_no, reason, raw)
        converted.append(RawFile(out, f.rel, "jsonl", gateway=fmt, original=f.path))
    return converted, refused
