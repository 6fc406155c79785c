import pytest

from pipelines.core.config import ConfigError, load_providers
from pipelines.core.settings import UnsafePathError, safe_path


def test_tracked_config_loads(data_dir):
    config = load_providers(data_dir / "config/providers.yaml")
    assert {"anthropic", "openai", "google"} <= set(config.providers)
    assert config.providers["anthropic"].status_page.kind == "statuspage"
    assert config.provider_for_crowd_service()["claude"] == "anthropic"


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
