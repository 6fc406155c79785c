"""What a provider is, and the AI providers we already know (pipelines/core/data/catalogue.yaml).

A provider entry says where its status page is and on which platform, which of its status-page
components serve which of our capabilities, its App Store apps, the service names crowd-report exports
give it, and the names its traffic carries in gateway logs. The providers file picks entries from the
catalogue by name and overrides what differs (pipelines/core/config.py); `incidents providers` lists it.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipelines.core.platforms import StatusPageKind

CATALOGUE_FILE = Path(__file__).parent / "data" / "catalogue.yaml"
# platforms whose URL is the feed or JSON document itself, not a page's base URL
DOCUMENT_KINDS = frozenset({"atom", "rss", "azure_rss", "google_cloud", "aws_health"})

Capability = Literal["api", "consumer_app", "coding_agent", "console", "other"]
# Our request-log fields (JSONL/CSV), the keys a `column_map` may rename: the ten every line carries and
# the optional error_type.
LogField = Literal[
    "ts", "provider", "model", "endpoint", "status", "latency_ms", "tokens_in", "tokens_out",
    "client_id", "region", "error_type",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatusPage(Strict):
    kind: StatusPageKind
    url: str = Field(
        description="what `incidents fetch` requests: the page's base URL for page platforms (statuspage, "
        "incident_io, instatus, betterstack, rootly, onlineornot, flashduty), the feed URL for atom/rss/"
        "azure_rss, the JSON document for google_cloud and aws_health"
    )
    token_env: str | None = Field(
        default=None, description="name of an env var holding a bearer token for a private page"
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _base_url_without_slash(self) -> StatusPage:
        # a page's base URL gets API paths appended; a feed or document URL is requested exactly as given
        if self.kind not in DOCUMENT_KINDS and self.url.endswith("/"):
            return self.model_copy(update={"url": self.url.rstrip("/")})
        return self


def _distinct_fields(value: dict[str, str]) -> dict[str, str]:
    """Their field names must be non-empty and distinct: one field of theirs cannot fill two of ours."""
    seen: dict[str, str] = {}
    for ours, theirs in value.items():
        if not theirs.strip():
            raise ValueError(f"{ours} maps to an empty name; give the field's name in your files")
        if theirs in seen:
            raise ValueError(f"your field {theirs!r} is mapped to both {seen[theirs]} and {ours}")
        seen[theirs] = ours
    return value


# our field -> the name of that field in the user's CSV/JSONL files (a header or a JSON key)
ColumnMap = Annotated[dict[LogField, str], AfterValidator(_distinct_fields)]


class RequestLogMapping(Strict):
    names: list[str] = Field(description="values of the `provider` field in JSONL/CSV and gateway logs")
    hosts: list[str] = Field(default_factory=list, description="request hosts (and hosts in combined-log file names)")
    path_prefixes: list[str] = Field(default_factory=list, description="request path prefixes in combined logs")
    model_prefixes: list[str] = Field(
        default_factory=list,
        description="model-name prefixes (claude-, anthropic/...): a fallback when a line names no provider",
    )
    column_map: ColumnMap = Field(
        default_factory=dict, description="our field -> the field in this provider's CSV/JSONL files"
    )


class Slo(Strict):
    availability_target: float = Field(gt=0.5, lt=1.0)
    error_ratio_threshold: float = Field(default=0.05, gt=0, lt=1, description="telemetry episode threshold")


class Provider(Strict):
    display_name: str
    status_page: StatusPage
    components: dict[str, Capability] = Field(description="status-page component name -> capability")
    apps: dict[str, str] = Field(default_factory=dict, description="App Store app name -> Apple app id")
    crowd_services: list[str] = Field(description="service names used in crowd-report exports")
    request_logs: RequestLogMapping
    slo: Slo


class CatalogueEntry(Provider):
    """A catalogue entry: a provider plus how far its data was checked against public sources."""

    verified: bool = Field(description="status URL and platform confirmed from a public reference")
    notes: str = Field(default="", description="what was checked where, and what was not")


CATALOGUE_ONLY = frozenset(CatalogueEntry.model_fields) - frozenset(Provider.model_fields)
# Nested settings that an override merges field by field; every other field is replaced whole (a
# `components` mapping given in the providers file is the provider's complete list).
MERGED_FIELDS = frozenset({"status_page", "request_logs", "slo"})


class CatalogueError(ValueError):
    """The shipped catalogue file does not match its schema (a packaging bug, never the user's)."""


@lru_cache(maxsize=1)
def load_catalogue() -> dict[str, CatalogueEntry]:
    """Every catalogue entry by name, with the file's `defaults` under each entry."""
    raw = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    defaults = raw.get("defaults", {})
    entries = {}
    for name, fields in raw["providers"].items():
        try:
            entries[name] = CatalogueEntry.model_validate({**defaults, **fields})
        except ValidationError as exc:
            raise CatalogueError(f"{CATALOGUE_FILE}: entry {name!r}: {exc}") from exc
    return entries


def close_names(name: str) -> list[str]:
    """Catalogue names that look like `name`: a typo, a display name, a product or log name ("grok")."""
    aliases: dict[str, str] = {}
    for key, entry in load_catalogue().items():
        for alias in (key, entry.display_name, *entry.crowd_services, *entry.request_logs.names):
            aliases.setdefault(alias.lower(), key)
    hits = difflib.get_close_matches(name.lower(), list(aliases), n=6, cutoff=0.6)
    return list(dict.fromkeys(aliases[hit] for hit in hits))[:3]


def catalogue_rows() -> list[dict]:
    """One row per catalogue entry for `incidents providers`: what each entry supports."""
    rows = []
    for name, entry in load_catalogue().items():
        rows.append(
            {
                "name": name,
                "display_name": entry.display_name,
                "platform": entry.status_page.kind,
                "status_url": entry.status_page.url,
                "capabilities": sorted(set(entry.components.values())),
                "has_app": bool(entry.apps),
                "crowd_names": list(entry.crowd_services),
                "log_names": list(entry.request_logs.names),
                "model_prefixes": list(entry.request_logs.model_prefixes),
                "hosts": list(entry.request_logs.hosts),
                "verified": entry.verified,
            }
        )
    return rows
