"""The scenario's view of the providers config: the three providers it needs and what it takes from each."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.core.config import ProvidersConfig

PROVIDERS = ("anthropic", "openai", "google")
PROVIDER_CODE = {"anthropic": 1, "openai": 2, "google": 3}


class ScenarioConfigError(ValueError):
    """The providers config cannot host the bundled scenario (it needs anthropic, openai and google)."""


@dataclass(frozen=True)
class ProviderSetup:
    key: str
    components: tuple[tuple[str, str], ...]  # (name, capability) in config order
    app_name: str | None
    app_id: str | None
    crowd_service: str
    log_names: tuple[str, ...]
    hosts: tuple[str, ...]
    path_prefixes: tuple[str, ...]
    page_kind: str
    page_url: str
    display_name: str

    def component(self, capability: str) -> str | None:
        return next((name for name, cap in self.components if cap == capability), None)

    def capability_of(self, name: str) -> str:
        return dict(self.components)[name]


@dataclass(frozen=True)
class ScenarioSetup:
    providers: dict[str, ProviderSetup]
    countries: tuple[str, ...]
    charts: tuple[str, ...]


def setup_from_config(config: ProvidersConfig) -> ScenarioSetup:
    missing = [p for p in PROVIDERS if p not in config.providers]
    if missing:
        raise ScenarioConfigError(
            f"the bundled scenario needs providers {', '.join(PROVIDERS)} in the providers config; "
            f"missing: {', '.join(missing)} (restore data/config/providers.yaml or add them)"
        )
    providers = {}
    for key in PROVIDERS:
        p = config.providers[key]
        if not p.components:
            raise ScenarioConfigError(f"providers.{key}.components is empty; the scenario needs at least one")
        if not p.crowd_services:
            raise ScenarioConfigError(f"providers.{key}.crowd_services is empty; the scenario needs one")
        app_name, app_id = next(iter(p.apps.items()), (None, None))
        providers[key] = ProviderSetup(
            key=key,
            components=tuple(p.components.items()),
            app_name=app_name,
            app_id=app_id,
            crowd_service=p.crowd_services[0],
            log_names=tuple(p.request_logs.names),
            hosts=tuple(p.request_logs.hosts),
            path_prefixes=tuple(p.request_logs.path_prefixes),
            page_kind=p.status_page.kind,
            page_url=p.status_page.url,
            display_name=p.display_name,
        )
    return ScenarioSetup(providers, tuple(config.app_store.countries), tuple(config.app_store.charts))
