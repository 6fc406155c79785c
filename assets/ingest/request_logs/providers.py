"""How a log line names its provider (from data/config/providers.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.core.config import ProvidersConfig


@dataclass(frozen=True)
class ProviderMapping:
    """How a log line names its provider: `provider` field values, path prefixes, hosts in file names."""

    names: dict[str, str]  # lower-cased `provider` value -> provider key
    path_prefixes: dict[str, str]  # request path prefix (e.g. /anthropic/) -> provider key, longest first
    hosts: dict[str, str]  # virtual host in a combined-log file name -> provider key
    # CSV/JSONL fields named differently (config `column_map`): None -> every file's map, key -> the map
    # of files whose name names that provider (a configured host, log name or the key itself)
    column_maps: dict[str | None, dict[str, str]] = field(default_factory=dict)
    model_prefixes: dict[str, str] = field(default_factory=dict)  # lower-cased model prefix -> key, longest first

    @classmethod
    def from_config(cls, config: ProvidersConfig) -> ProviderMapping:
        prefixes = {p: key for key, prov in config.providers.items() for p in prov.request_logs.path_prefixes}
        hosts = {h.lower(): key for key, prov in config.providers.items() for h in prov.request_logs.hosts}
        # longest prefix first, so /openai/v1/ would win over /openai/ if both were configured
        prefixes = dict(sorted(prefixes.items(), key=lambda kv: -len(kv[0])))
        column_maps: dict[str | None, dict[str, str]] = {None: dict(config.request_logs.column_map)}
        for key, prov in config.providers.items():
            if prov.request_logs.column_map:
                column_maps[key] = config.column_map_for(key)
        # a provider's own key names it too (gateway exports are converted to keys)
        names = {key: key for key in config.providers} | config.provider_for_log_name()
        return cls(names=names, path_prefixes=prefixes, hosts=hosts, column_maps=column_maps,
                   model_prefixes=config.provider_for_model_prefix())

    def provider_for(self, value: str) -> str | None:
        """A provider name, host or model -> provider key (names, then hosts, then model prefixes)."""
        value = value.lower()
        by_prefix = (key for prefix, key in self.model_prefixes.items() if value.startswith(prefix))
        return self.names.get(value) or self.hosts.get(value) or next(by_prefix, None)

    @property
    def providers(self) -> set[str]:
        return set(self.names.values()) | set(self.path_prefixes.values()) | set(self.hosts.values())

    def provider_for_file_name(self, name: str) -> str | None:
        """`api.anthropic.com-access.log.gz` -> anthropic: a configured host standing alone in the name."""
        return _named_in(name, self.hosts)

    def column_map_for_file(self, name: str) -> dict[str, str]:
        """Our field -> the field's name in this CSV/JSONL file: the config's column_map, then the map of
        the provider the file name names (`openai-export.csv`, `api.openai.com.jsonl`)."""
        own = {k: v for k, v in self.column_maps.items() if k is not None}
        if own:
            words = {**{key: key for key in own}, **self.names, **self.hosts}
            provider = _named_in(name, {w: k for w, k in words.items() if k in own})
            if provider is not None:
                return own[provider]
        return self.column_maps.get(None, {})


def _named_in(name: str, words: dict[str, str]) -> str | None:
    """The value of the longest of `words` that stands alone in the file name (case-insensitive)."""
    lowered = name.lower()
    for word, key in sorted(words.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"(?:^|[^a-z0-9]){re.escape(word.lower())}(?:[^a-z0-9]|$)", lowered):
            return key
    return None
