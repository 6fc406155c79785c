"""The providers file (`INCIDENTS_CONFIG`), validated on load with errors that name file, key and expectation.

Its providers are picked from the shipped catalogue by name (pipelines/core/catalogue.py): `anthropic: {}`
takes the catalogue entry as it is, `openai: {slo: {availability_target: 0.999}}` changes one field.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from pipelines.core.catalogue import (
    MERGED_FIELDS,
    Capability,
    ColumnMap,
    Provider,
    StatusPage,
    Strict,
    close_names,
    load_catalogue,
)

# The provider schema lives with the catalogue; callers import it from here with the rest of the config.
__all__ = [
    "Analysis", "AppStore", "Capability", "ColumnMap", "ConfigError", "Provider", "ProvidersConfig",
    "RequestLogDefaults", "StatusPage", "load_providers", "load_yaml", "resolve_catalogue", "validate_model",
]

_SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")
_REQUIRED = [name for name, field in Provider.model_fields.items() if field.is_required()]


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or does not match its schema."""


class AppStore(Strict):
    """Which App Store charts to fetch and accept (optional: the defaults are the US, UK, India, Germany and
    Singapore top-free charts)."""

    countries: list[str] = Field(default_factory=lambda: ["us", "gb", "in", "de", "sg"])
    charts: list[str] = Field(default_factory=lambda: ["top-free"])
    feed_url: str = "https://rss.marketingtools.apple.com/api/v2/{country}/apps/{chart}/100/apps.json"


class Analysis(Strict):
    """The default analysed window: fixed dates, or else the trailing `last_days` up to yesterday (UTC).
    `incidents run --start/--end` overrides it for one run (pipelines/core/window.py)."""

    start: dt.date | None = None
    end: dt.date | None = None
    last_days: int = Field(default=90, ge=1, le=36600)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Analysis:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end, or neither (then the last `last_days` days are analysed)")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class RequestLogDefaults(Strict):
    column_map: ColumnMap = Field(
        default_factory=dict, description="our field -> the field in every CSV/JSONL request log"
    )


class ProvidersConfig(Strict):
    analysis: Analysis = Analysis()
    app_store: AppStore = AppStore()
    request_logs: RequestLogDefaults = RequestLogDefaults()
    providers: dict[str, Provider]

    @field_validator("providers")
    @classmethod
    def _slugs(cls, value: dict[str, Provider]) -> dict[str, Provider]:
        for key in value:
            if not _SLUG.match(key):
                raise ValueError(f"provider key {key!r} must be a lowercase slug (letters, digits, - or _)")
        if not value:
            raise ValueError("at least one provider is required")
        return value

    def provider_for_log_name(self) -> dict[str, str]:
        return {name.lower(): key for key, p in self.providers.items() for name in p.request_logs.names}

    def provider_for_crowd_service(self) -> dict[str, str]:
        return {name.lower(): key for key, p in self.providers.items() for name in p.crowd_services}

    def provider_for_app_id(self) -> dict[str, str]:
        return {app_id: key for key, p in self.providers.items() for app_id in p.apps.values()}

    def provider_for_model_prefix(self) -> dict[str, str]:
        """Lower-cased model-name prefix -> provider key, longest first (a line that names no provider)."""
        pairs = [(prefix.lower(), key) for key, p in self.providers.items()
                 for prefix in p.request_logs.model_prefixes]
        return dict(sorted(pairs, key=lambda pair: -len(pair[0])))

    def column_map_for(self, provider: str | None = None) -> dict[str, str]:
        """Our field -> the user's field name for a CSV/JSONL file: the top-level map, then the provider's."""
        own = self.providers[provider].request_logs.column_map if provider in self.providers else {}
        return {**self.request_logs.column_map, **own}


def _describe(error: dict) -> str:
    # pydantic marks a refused mapping key with a trailing "[key]" part: the key itself is the place
    where = ".".join(str(part) for part in error["loc"] if part != "[key]") or "<top level>"
    got = error.get("input")
    got_text = "" if isinstance(got, dict) else f" (got {got!r})"
    if error["type"] == "extra_forbidden":
        return f"key '{where}' is not allowed here (unknown key; check spelling)"
    if error["type"] == "missing":
        return f"key '{where}' is required but missing"
    return f"key '{where}': {error['msg']}{got_text}"


def load_yaml(path: Path) -> object:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (set INCIDENTS_CONFIG or create it)")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from exc


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's multi-line message as one line: what is wrong and where (1-based line and column)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def validate_model(model: type[BaseModel], path: Path, raw: object) -> BaseModel:
    """Validate `raw` against `model`, turning pydantic's errors into one message naming the file."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        details = "\n  ".join(_describe(err) for err in exc.errors())
        raise ConfigError(f"{path}: invalid configuration:\n  {details}") from exc


def _with_catalogue(key: str, entry: dict, path: Path) -> dict:
    """A provider entry of the file laid over the catalogue entry it names (by `catalogue:` or its key).

    Nested settings (status_page, request_logs, slo) merge field by field; any other field given replaces
    the catalogue's. A key outside the catalogue with every required field is a provider of the user's own.
    """
    entry = dict(entry)
    named = "catalogue" in entry
    name = entry.pop("catalogue", key)
    catalogue = load_catalogue()
    if not isinstance(name, str) or name not in catalogue:
        if not named and all(field in entry for field in _REQUIRED):
            return entry
        close = close_names(str(name))
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ConfigError(
            f"{path}: key 'providers.{key}': {name!r} is not in the provider catalogue; {hint}"
            f"pick one with `catalogue: <name>` (list: incidents providers) or give every field "
            f"({', '.join(_REQUIRED)})"
        )
    merged = catalogue[name].model_dump(include=set(Provider.model_fields))
    for field, value in entry.items():
        both_mappings = isinstance(value, dict) and isinstance(merged.get(field), dict)
        merged[field] = {**merged[field], **value} if field in MERGED_FIELDS and both_mappings else value
    return merged


def resolve_catalogue(raw: object, path: Path) -> object:
    """The parsed file with each provider completed from the catalogue (anything else left to validation)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("providers"), dict):
        return raw
    providers = {
        key: _with_catalogue(key, entry or {}, path) if isinstance(entry, dict | None) else entry
        for key, entry in raw["providers"].items()
    }
    return {**raw, "providers": providers}


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> ProvidersConfig:
    return validate_model(ProvidersConfig, Path(path), resolve_catalogue(load_yaml(Path(path)), Path(path)))


def load_providers(path: Path) -> ProvidersConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (set INCIDENTS_CONFIG or create it)")
    return _load_cached(str(path), path.stat().st_mtime_ns)
