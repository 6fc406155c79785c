"""The cost model file: the tracked one loads; broken ones fail naming the file, the key and the expectation."""

from pathlib import Path

import pytest
import yaml

from pipelines.core.config import ConfigError
from pipelines.core.cost_model import CATEGORIES, SCENARIOS, load_cost_model

REPO = Path(__file__).resolve().parents[2]
TRACKED = REPO / "data/config/cost_model.yaml"


def test_tracked_cost_model_loads_and_covers_the_configured_providers():
    model = load_cost_model(TRACKED)
    assert set(model.providers) >= {"anthropic", "openai", "google"}
    assert model.failover.fallback == {"anthropic": "openai", "openai": "anthropic", "google": "openai"}
    assert model.failover.cooldown.cooldown_minutes == 5
    for category in CATEGORIES:
        for scenario in SCENARIOS:
            assert model.categories[category].loaded_hourly_cost_usd.get(scenario) > 0
    model.check_covers(["anthropic", "openai", "google"])


def _broken(tmp_path: Path, edit) -> Path:
    raw = yaml.safe_load(TRACKED.read_text())
    edit(raw)
    path = tmp_path / "cost_model.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("edit", "key", "expected"),
    [
        (
            lambda r: r["failed_request_value_usd"]["api"].update(low=1.0),
            "failed_request_value_usd.api",
            "low <= base <= high",
        ),
        (
            lambda r: r["providers"]["anthropic"]["sla"]["credits"][0].update(credit_pct=150),
            "providers.anthropic.sla.credits.0.credit_pct",
            "less than or equal to 100",
        ),
        (
            lambda r: r["categories"]["coding_agent"]["productivity_loss_fraction"].update(high=1.5),
            "categories.coding_agent.productivity_loss_fraction",
            "between 0 and 1",
        ),
        (lambda r: r["retry"].update(retries=3), "retry.retries", "not allowed"),
        (lambda r: r["providers"]["openai"].pop("sla"), "providers.openai.sla", "required"),
        (
            lambda r: (r.pop("defaults"), r["failover"]["fallback"].update(google="mistral")),
            "failover.fallback",
            "mistral",
        ),
        (
            lambda r: r["defaults"]["seats"].update(pager={"low": 1, "base": 2, "high": 3}),
            "defaults.seats",
            "api",
        ),
        (
            lambda r: r["impact"]["crowd_outage_share"].update(high=2),
            "impact.crowd_outage_share",
            "between 0 and 1",
        ),
        (
            lambda r: r["providers"]["google"]["seats"].update(console={"low": 1, "base": 2, "high": 3}),
            "providers.google.seats.console",
            "api",
        ),
    ],
)
def test_validation_errors_name_file_and_key(tmp_path, edit, key, expected):
    path = _broken(tmp_path, edit)
    with pytest.raises(ConfigError) as excinfo:
        load_cost_model(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert key in message
    assert expected in message


def test_missing_file_and_bad_yaml_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="cost model file not found"):
        load_cost_model(tmp_path / "nope.yaml")
    bad = tmp_path / "cost_model.yaml"
    bad.write_text("providers: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_cost_model(bad)


def test_sla_credit_thresholds_pick_the_largest_tier_strictly_below():
    sla = load_cost_model(TRACKED).providers["anthropic"].sla  # tiers: <99.9 -> 10, <99.0 -> 25, <95.0 -> 50
    assert sla.credit_pct(99.95) == 0
    assert sla.credit_pct(99.9) == 0  # exactly at the threshold: not below it
    assert sla.credit_pct(99.89) == 10
    assert sla.credit_pct(99.0) == 10
    assert sla.credit_pct(98.99) == 25
    assert sla.credit_pct(94.0) == 50
    assert sla.credit_pct(None) == 0


def test_check_covers_names_the_missing_provider_only_without_defaults(tmp_path):
    model = load_cost_model(TRACKED)
    model.check_covers(["anthropic", "mistral"], "data/config/cost_model.yaml")  # defaults cover mistral
    assert (model.terms_source("mistral"), model.terms_source("openai")) == ("default", "provider")
    assert model.terms("mistral") == model.defaults
    assert model.seats("mistral", "api", "base") == 10 and model.seats("mistral", "consumer_app", "base") == 0
    strict = load_cost_model(_broken(tmp_path, lambda r: r.pop("defaults")))
    with pytest.raises(ConfigError, match="mistral.*'defaults' block"):
        strict.check_covers(["anthropic", "mistral"], "data/config/cost_model.yaml")
    with pytest.raises(ConfigError, match="'mistral' and there is no 'defaults' block"):
        strict.terms("mistral")
