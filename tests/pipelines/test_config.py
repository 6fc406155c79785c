import json
from pathlib import Path

import pytest
import yaml

from pipelines.core.config import ConfigError, load_providers
from pipelines.core.settings import UnsafePathError, safe_path

REPO = Path(__file__).resolve().parents[2]
TRACKED = REPO / "data/config/providers.yaml"
APP_STORE = {"countries": ["us"], "charts": ["top-free"]}


def _provider(display, kind, url, components, apps, crowd, names, hosts, prefixes):
    return {
        "display_name": display,
        "status_page": {"kind": kind, "url": url, "token_env": None},
        "components": components,
        "apps": apps,
        "crowd_services": crowd,
        "request_logs": {"names": names, "hosts": hosts, "path_prefixes": prefixes},
        "slo": {"availability_target": 0.995, "error_ratio_threshold": 0.05},
    }


# The tracked file's values before the catalogue (the demo's numbers rest on them), in their order.
TODAY = {
    "analysis": {"start": "2025-12-01", "end": "2026-03-15", "last_days": 90},
    "app_store": {
        "countries": ["us", "gb", "in", "de", "sg"],
        "charts": ["top-free"],
        "feed_url": "https://rss.marketingtools.apple.com/api/v2/{country}/apps/{chart}/100/apps.json",
    },
    "providers": {
        "anthropic": _provider(
            "Anthropic", "statuspage", "https://status.claude.com",
            {"claude.ai": "consumer_app", "Claude API (api.anthropic.com)": "api", "Claude Code": "coding_agent",
             "platform.claude.com": "console"},
            {"Claude by Anthropic": "6473753684"}, ["Claude"], ["anthropic"], ["api.anthropic.com"], ["/anthropic/"],
        ),
        "openai": _provider(
            "OpenAI", "incident_io", "https://status.openai.com",
            {"ChatGPT": "consumer_app", "API": "api", "Codex": "coding_agent", "Platform": "console"},
            {"ChatGPT": "6448311069"}, ["ChatGPT"], ["openai"], ["api.openai.com"], ["/openai/"],
        ),
        "google": _provider(
            "Google", "atom", "https://status.cloud.google.com/en/feed.atom",
            {"Gemini app": "consumer_app", "Gemini API": "api", "Gemini Code Assist": "coding_agent",
             "AI Studio": "console"},
            {"Google Gemini": "6477489729"}, ["Google Gemini"], ["google", "gemini"],
            ["generativelanguage.googleapis.com"], ["/google/"],
        ),
    },
}
NEW_LOG_FIELDS = ("model_prefixes", "column_map")


def _todays_fields(config) -> dict:
    dump = config.model_dump(mode="json", exclude={"request_logs"})
    for provider in dump["providers"].values():
        for field in NEW_LOG_FIELDS:
            provider["request_logs"].pop(field)
    return dump


def _write(tmp_path: Path, providers: dict, **top) -> Path:
    path = tmp_path / "providers.yaml"
    path.write_text(yaml.safe_dump({"app_store": APP_STORE, **top, "providers": providers}, sort_keys=False))
    return path


def test_tracked_config_loads(data_dir):
    config = load_providers(data_dir / "config/providers.yaml")
    assert {"anthropic", "openai", "google"} <= set(config.providers)
    assert config.providers["anthropic"].status_page.kind == "statuspage"
    assert config.provider_for_crowd_service()["claude"] == "anthropic"


def test_tracked_config_loads_to_exactly_todays_values():
    config = load_providers(TRACKED)
    # order matters too: the scenario takes the first component, app and crowd name of each provider
    assert json.dumps(_todays_fields(config)) == json.dumps(TODAY)
    assert config.request_logs.column_map == {}
    assert config.providers["openai"].request_logs.model_prefixes[0] == "gpt-"  # new fields come from the catalogue
    assert all(p.request_logs.column_map == {} for p in config.providers.values())


def test_tracked_file_is_shorter_for_the_providers_it_picks():
    raw = yaml.safe_load(TRACKED.read_text())["providers"]
    assert set(raw["openai"]) == {"components"}
    assert "apps" not in raw["google"] and "slo" not in raw["google"]


def test_empty_entry_takes_the_catalogue_entry_as_it_is(tmp_path):
    picked = load_providers(_write(tmp_path, {"anthropic": {}, "mistral": None}))
    written_out = load_providers(TRACKED).providers["anthropic"]
    assert picked.providers["anthropic"] == written_out
    mistral = picked.providers["mistral"]
    assert (mistral.status_page.kind, mistral.status_page.url) == ("instatus", "https://status.mistral.ai")
    assert mistral.apps == {"Le Chat by Mistral AI": "6740410176"} and mistral.slo.availability_target == 0.995


def test_an_override_changes_one_field_and_keeps_the_rest(tmp_path):
    config = load_providers(_write(tmp_path, {
        "openai": {"slo": {"availability_target": 0.999}},
        "cohere": {"slo": {"error_ratio_threshold": 0.1}},
        "groq": {"status_page": {"url": "https://groq.example.com/"}, "request_logs": {"names": ["groq-eu"]}},
        "anthropic": {"components": {"Claude Code": "coding_agent"}, "crowd_services": []},
    }))
    openai = config.providers["openai"]
    assert (openai.slo.availability_target, openai.slo.error_ratio_threshold) == (0.999, 0.05)
    assert openai.status_page.kind == "incident_io" and "Responses" in openai.components
    assert config.providers["cohere"].slo.availability_target == 0.995
    groq = config.providers["groq"]
    assert (groq.status_page.kind, groq.status_page.url) == ("incident_io", "https://groq.example.com")
    assert groq.request_logs.names == ["groq-eu"] and groq.request_logs.hosts == ["api.groq.com"]
    anthropic = config.providers["anthropic"]  # components and lists are replaced whole, never merged
    assert anthropic.components == {"Claude Code": "coding_agent"} and anthropic.crowd_services == []
    assert anthropic.apps == {"Claude by Anthropic": "6473753684"}


def test_a_catalogue_entry_under_another_key(tmp_path):
    config = load_providers(_write(tmp_path, {"claude": {"catalogue": "anthropic", "display_name": "Claude"}}))
    assert config.providers["claude"].display_name == "Claude"
    assert config.provider_for_log_name() == {"anthropic": "claude"}


def test_a_provider_outside_the_catalogue_gives_every_field(tmp_path):
    own = {key: value for key, value in TODAY["providers"]["openai"].items()}
    config = load_providers(_write(tmp_path, {"inhouse": own}))
    assert config.providers["inhouse"].request_logs.model_prefixes == []  # nothing inherited
    del own["slo"]
    with pytest.raises(ConfigError, match="'inhouse' is not in the provider catalogue"):
        load_providers(_write(tmp_path, {"inhouse": own}))


@pytest.mark.parametrize(
    ("providers", "suggested"),
    [
        ({"antropic": {}}, "did you mean anthropic?"),
        ({"mine": {"catalogue": "opnai"}}, "did you mean openai?"),
        ({"grok": {"slo": {"availability_target": 0.99}}}, "did you mean xai, groq?"),
        ({"zzzz": {}}, "'zzzz' is not in the provider catalogue; pick one"),
    ],
)
def test_unknown_catalogue_name_is_one_line_suggesting_close_names(tmp_path, providers, suggested):
    path = _write(tmp_path, providers)
    with pytest.raises(ConfigError) as excinfo:
        load_providers(path)
    message = str(excinfo.value)
    assert len(message.splitlines()) == 1 and message.startswith(f"{path}: key 'providers.")
    assert suggested in message and "incidents providers" in message


def test_a_wrong_override_names_file_key_and_expectation(tmp_path):
    path = _write(tmp_path, {"openai": {"slo": {"availability_target": 2}, "status_page": {"kind": "pagerduty"}}})
    with pytest.raises(ConfigError) as excinfo:
        load_providers(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "providers.openai.slo.availability_target" in message and "less than 1" in message
    assert "providers.openai.status_page.kind" in message and "'statuspage'" in message


def test_column_map_top_level_and_per_provider(tmp_path):
    config = load_providers(_write(
        tmp_path,
        {"openai": {"request_logs": {"column_map": {"latency_ms": "duration", "client_id": "team"}}}},
        request_logs={"column_map": {"ts": "timestamp", "latency_ms": "elapsed_ms"}},
    ))
    assert config.column_map_for() == {"ts": "timestamp", "latency_ms": "elapsed_ms"}
    assert config.column_map_for("openai") == {"ts": "timestamp", "latency_ms": "duration", "client_id": "team"}
    assert config.column_map_for("unknown") == config.column_map_for()


@pytest.mark.parametrize(
    ("column_map", "expected"),
    [
        ({"latency": "elapsed"}, ["request_logs.column_map.latency", "'latency_ms'"]),
        ({"ts": "time", "region": "time"}, ["request_logs.column_map", "'time' is mapped to both ts and region"]),
        ({"model": " "}, ["request_logs.column_map", "model maps to an empty name"]),
    ],
)
def test_column_map_accepts_only_our_fields_and_distinct_names(tmp_path, column_map, expected):
    for where in ("top", "provider"):
        top = {"request_logs": {"column_map": column_map}} if where == "top" else {}
        entry = {} if where == "top" else {"request_logs": {"column_map": column_map}}
        path = _write(tmp_path, {"openai": entry}, **top)
        with pytest.raises(ConfigError) as excinfo:
            load_providers(path)
        message = str(excinfo.value)
        assert str(path) in message and all(part in message for part in expected), message
        assert ("providers.openai.request_logs" in message) == (where == "provider")


def test_model_prefixes_longest_first(tmp_path):
    config = load_providers(_write(tmp_path, {"aws_bedrock": {}, "anthropic": {}}))
    prefixes = config.provider_for_model_prefix()
    assert list(prefixes) == sorted(prefixes, key=len, reverse=True)
    assert prefixes["anthropic.claude"] == "aws_bedrock" and prefixes["claude-"] == "anthropic"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("availability_target: 0.995", "availability_tarjet: 0.995", "providers.anthropic.slo.availability_tarjet"),
        ("availability_target: 0.995", "availability_target: high", "providers.anthropic.slo.availability_target"),
        ("kind: statuspage ", "kind: pagerduty ", "providers.anthropic.status_page.kind"),
    ],
)
def test_wrong_key_or_type_names_file_key_and_expectation(data_dir, old, new, expected):
    path = data_dir / "config/providers.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(ConfigError) as excinfo:
        load_providers(path)
    message = str(excinfo.value)
    assert str(path) in message and expected in message


def test_missing_config_is_clear(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_providers(tmp_path / "nope.yaml")


@pytest.mark.parametrize("part", ["../etc", "/etc/passwd", "a/../../b", ""])
def test_safe_path_refuses_escapes(tmp_path, part):
    with pytest.raises(UnsafePathError):
        safe_path(tmp_path, part)


def test_safe_path_allows_nested(tmp_path):
    assert safe_path(tmp_path, "raw", "anthropic") == (tmp_path / "raw/anthropic").resolve()
