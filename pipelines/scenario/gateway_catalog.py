"""What our gateway calls at each provider (data/gateway.json): endpoints per capability, models over time,
error types and user agents."""

from __future__ import annotations

import datetime as dt
from functools import cache

from pipelines.scenario.datafiles import read_data

CAPS = ("api", "coding_agent", "consumer_app")
Endpoint = tuple[str, float, str]  # path (google: with a `{model}` placeholder), share in the capability, kind
# kind: gen generates tokens, count / embed / batch give no output, auth is a login


@cache
def endpoints(provider: str, capability: str) -> tuple[Endpoint, ...]:
    return tuple((e["path"], e["share"], e["kind"]) for e in read_data("gateway")["endpoints"][provider][capability])


def endpoint_capability() -> dict[str, dict[str, str]]:
    """provider -> endpoint (with `{model}` placeholders) -> capability."""
    catalog = read_data("gateway")["endpoints"]
    return {p: {e["path"]: cap for cap, items in caps.items() for e in items} for p, caps in catalog.items()}


def embedding_model(provider: str) -> str:
    return read_data("gateway")["embedding_model"][provider]


@cache
def model_mix(provider: str, day: dt.date) -> tuple[tuple[str, float], ...]:
    """(model, share) of the provider's requests on `day`: the last mix that started on or before it."""
    periods = read_data("gateway")["model_mix"][provider]
    mix = periods[0]["models"]
    for period in periods:
        if day >= dt.date.fromisoformat(period["from"]):
            mix = period["models"]
    return tuple(mix.items())


@cache
def error_types(provider: str) -> dict[int, str]:
    """HTTP status -> the provider's error_type text."""
    return {int(status): text for status, text in read_data("gateway")["error_type"][provider].items()}


def user_agent(provider: str, capability: str) -> str:
    return read_data("gateway")["user_agent"][provider][capability]
