"""The providers file (`INCIDENTS_CONFIG`), validated on load with errors that name file, key and expectation."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.core.platforms import StatusPageKind

Capability = Literal["api", "consumer_app", "coding_agent", "console", "other"]

_SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or does not match its schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StatusPage(_Strict):
    kind: StatusPageKind
    url: str = Field(description="Statuspage/incident.io: the page's base URL; atom/rss: the feed URL")
    token_env: str | None = Field(
        default=None, description="name of an env var holding a bearer token for a private page"
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class RequestLogMapping(_Strict):
    names: list[str] = Field(description="values of the `provider` field in JSONL/CSV logs")
    hosts: list[str] = Field(default_factory=list, description="virtual hosts in combined-log file names")
    path_prefixes: list[str] = Field(default_factory=list, description="request path prefixes in combined logs")


class Slo(_Strict):
    availability_target: float = Field(gt=0.5, lt=1.0)
    error_ratio_threshold: float = Field(default=0.05, gt=0, lt=1, description="telemetry episode threshold")


class Provider(_Strict):
    display_name: str
    status_page: StatusPage
    components: dict[str, Capability] = Field(description="status-page component name -> capability")
    apps: dict[str, str] = Field(default_factory=dict, description="App Store app name -> Apple app id")
    crowd_services: list[str] = Field(description="service names used in crowd-report exports")
    request_logs: RequestLogMapping
    slo: Slo


class AppStore(_Strict):
    countries: list[str]
    charts: list[str]
    feed_url: str = "https://rss.marketingtools.apple.com/api/v2/{country}/apps/{chart}/100/apps.json"


class Analysis(_Strict):
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


class ProvidersConfig(_Strict):
    analysis: Analysis = Analysis()
    app_store: AppStore
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


def _describe(error: dict) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "<top level>"
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


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> ProvidersConfig:
    return validate_model(ProvidersConfig, Path(path), load_yaml(Path(path)))


def load_providers(path: Path) -> ProvidersConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (set INCIDENTS_CONFIG or create it)")
    return _load_cached(str(path), path.stat().st_mtime_ns)
