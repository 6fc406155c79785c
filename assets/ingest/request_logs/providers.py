"""How a log line names its provider (from data/config/providers.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.core.config import ProvidersConfig


@dataclass(frozen=True)
class ProviderMapping:
    """How a log line names its provider: `provider` field values, path prefixes, hosts in file names."""

    names: dict[str, str]  # lower-cased `provider` value -> provider key
    path_prefixes: dict[str, str]  # request path prefix (e.g. /anthropic/) -> provider key, longest first
    hosts: dict[str, str]  # virtual host in a combined-log file name -> provider key

    @classmethod
    def from_config(cls, config: ProvidersConfig) -> ProviderMapping:
        prefixes = {p: key for key, prov in config.providers.items() for p in prov.request_logs.path_prefixes}
        hosts = {h.lower(): key for key, prov in config.providers.items() for h in prov.request_logs.hosts}
        # longest prefix first, so /openai/v1/ would win over /openai/ if both were configured
        prefixes = dict(sorted(prefixes.items(), key=lambda kv: -len(kv[0])))
        return cls(names=config.provider_for_log_name(), path_prefixes=prefixes, hosts=hosts)

    @property
    def providers(self) -> set[str]:
        return set(self.names.values()) | set(self.path_prefixes.values()) | set(self.hosts.values())

    def provider_for_file_name(self, name: str) -> str | None:
        """`api.anthropic.com-access.log.gz` -> anthropic: a configured host standing alone in the name."""
        lowered = name.lower()
        for host, key in sorted(self.hosts.items(), key=lambda kv: -len(kv[0])):
            if re.search(rf"(?:^|[^a-z0-9]){re.escape(host)}(?:[^a-z0-9]|$)", lowered):
                return key
        return None
