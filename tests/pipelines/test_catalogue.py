import re
from collections import Counter

import pytest
import yaml

from pipelines.core.catalogue import (
    CATALOGUE_ONLY,
    CatalogueEntry,
    catalogue_rows,
    close_names,
    load_catalogue,
)
from pipelines.core.config import load_providers
from pipelines.core.platforms import PAGE_KINDS

# issue 14: the providers the catalogue must know at least
REQUIRED = {
    "anthropic", "openai", "google", "aws_bedrock", "azure_openai", "mistral", "cohere", "xai", "deepseek",
    "groq", "together", "fireworks", "perplexity", "openrouter", "huggingface", "replicate", "character_ai",
    "stability", "elevenlabs", "midjourney", "cerebras", "moonshot", "voyage", "assemblyai", "deepgram",
    "pinecone", "cursor", "github_copilot", "cloudflare_workers_ai", "modal",
}
# where a provider's status page lives and on what, as checked against public references (2026)
PLATFORMS = {
    "anthropic": ("statuspage", "https://status.claude.com"),
    "openai": ("incident_io", "https://status.openai.com"),
    "mistral": ("instatus", "https://status.mistral.ai"),
    "fireworks": ("betterstack", "https://status.fireworks.ai"),
    "replicate": ("incident_io", "https://www.replicatestatus.com"),
    "deepseek": ("flashduty", "https://status.deepseek.com"),
    "openrouter": ("onlineornot", "https://status.openrouter.ai"),
    "google": ("google_cloud", "https://status.cloud.google.com/incidents.json"),
    "azure_openai": ("azure_rss", "https://rssfeed.azure.status.microsoft/en-us/status/feed/"),
    "aws_bedrock": ("aws_health", "https://health.aws.amazon.com/public/currentevents"),
}


def test_at_least_30_entries_with_every_required_provider():
    catalogue = load_catalogue()
    assert len(catalogue) >= 30
    assert REQUIRED <= set(catalogue)


@pytest.mark.parametrize("name", sorted(load_catalogue()))
def test_each_entry_is_valid(name):
    entry = load_catalogue()[name]
    assert isinstance(entry, CatalogueEntry)
    assert entry.status_page.kind in PAGE_KINDS and entry.status_page.url.startswith("https://")
    assert entry.components, "every entry maps at least one component to a capability"
    assert all(re.fullmatch(r"\d{9,10}", app_id) for app_id in entry.apps.values())
    assert entry.notes.strip(), "say what was checked and what was not"
    assert all(name == name.lower() for name in entry.request_logs.names)


def test_platforms_and_moves_of_2026():
    catalogue = load_catalogue()
    for name, (kind, url) in PLATFORMS.items():
        assert (catalogue[name].status_page.kind, catalogue[name].status_page.url) == (kind, url), name
    unverified = {name for name, entry in catalogue.items() if not entry.verified}
    assert "midjourney" in unverified and not unverified & set(PLATFORMS)


def test_a_page_base_url_loses_its_slash_a_feed_url_keeps_it():
    page = CatalogueEntry.model_validate({**load_catalogue()["groq"].model_dump(),
                                          "status_page": {"kind": "incident_io", "url": "https://groqstatus.com/"}})
    assert page.status_page.url == "https://groqstatus.com"
    assert load_catalogue()["azure_openai"].status_page.url.endswith("/feed/")


@pytest.mark.parametrize("field", ["names", "hosts", "path_prefixes", "model_prefixes"])
def test_a_log_name_points_to_one_provider(field):
    values = Counter(v.lower() for e in load_catalogue().values() for v in getattr(e.request_logs, field))
    assert [value for value, count in values.items() if count > 1] == []


def test_app_ids_and_crowd_names_point_to_one_provider():
    catalogue = load_catalogue().values()
    app_ids = Counter(app_id for entry in catalogue for app_id in entry.apps.values())
    crowd = Counter(name.lower() for entry in catalogue for name in entry.crowd_services)
    assert max(app_ids.values()) == 1 and max(crowd.values()) == 1


def test_every_entry_loads_through_the_providers_file(tmp_path):
    path = tmp_path / "providers.yaml"
    names = sorted(load_catalogue())
    path.write_text(yaml.safe_dump({"app_store": {"countries": ["us"], "charts": ["top-free"]},
                                    "providers": {name: {} for name in names}}))
    config = load_providers(path)
    assert list(config.providers) == names
    for name in names:
        assert config.providers[name].model_dump() == load_catalogue()[name].model_dump(exclude=CATALOGUE_ONLY)
    assert config.provider_for_app_id()["6670324846"] == "xai"
    assert config.provider_for_log_name()["together_ai"] == "together"


def test_catalogue_rows_say_what_each_entry_supports():
    rows = {row["name"]: row for row in catalogue_rows()}
    assert len(rows) == len(load_catalogue())
    assert rows["anthropic"] == {
        "name": "anthropic", "display_name": "Anthropic", "platform": "statuspage",
        "status_url": "https://status.claude.com",
        "capabilities": ["api", "coding_agent", "console", "consumer_app"], "has_app": True,
        "crowd_names": ["Claude"], "log_names": ["anthropic"], "model_prefixes": ["claude-", "anthropic/"],
        "hosts": ["api.anthropic.com"], "verified": True,
    }
    assert rows["groq"]["has_app"] is False and rows["groq"]["capabilities"] == ["api"]
    assert rows["github_copilot"]["capabilities"] == ["coding_agent", "other"]
    assert rows["midjourney"]["verified"] is False
    assert sum(row["has_app"] for row in rows.values()) == 9


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("antropic", ["anthropic"]), ("ChatGPT", ["openai"]), ("grok", ["xai", "groq"]), ("Bedrock", ["aws_bedrock"]),
     ("qwertyuiop", [])],
)
def test_close_names(typed, expected):
    assert close_names(typed)[: max(len(expected), 1)] == expected
    assert len(close_names(typed)) <= 3
