"""The cost model file (`data/config/cost_model.yaml`, beside the providers file), validated on load.

Every figure is a `Range` of three scenario values (low <= base <= high), so each mart can carry a
`scenario` dimension and every money column traces back to one key of this file. Errors name the file,
the key and what was expected (through `pipelines.core.config.validate_model`). A provider the data has
but `providers` does not name is priced with the `defaults` block (the marts say so in
`cost_terms_source`); without a `defaults` block such a provider is a configuration error.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.core.config import ConfigError, load_yaml, validate_model

Category = Literal["api", "consumer_app", "coding_agent"]
CATEGORIES: tuple[str, ...] = ("api", "consumer_app", "coding_agent")
SCENARIOS: tuple[str, ...] = ("low", "base", "high")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """One figure in three scenarios; low <= base <= high, none negative."""

    low: float = Field(ge=0)
    base: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low <= self.base <= self.high:
            raise ValueError(
                f"expected low <= base <= high (got low={self.low}, base={self.base}, high={self.high})"
            )
        return self

    def get(self, scenario: str) -> float:
        if scenario not in SCENARIOS:
            raise KeyError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
        return float(getattr(self, scenario))


class FractionRange(Range):
    """A Range of fractions in [0, 1]."""

    @model_validator(mode="after")
    def _fractions(self) -> FractionRange:
        if self.high > 1:
            raise ValueError(f"expected fractions between 0 and 1 (got high={self.high})")
        return self


class Retry(_Strict):
    retries_per_failed_request: Range = Field(description="client retries sent for each failed request")
    tokens_per_retry: Range = Field(
        description="billed tokens each retry burns (prompt re-sent, partial output)"
    )


class CategoryCost(_Strict):
    loaded_hourly_cost_usd: Range = Field(description="fully loaded cost of one seat-hour")
    productivity_loss_fraction: FractionRange = Field(
        description="share of a seat-hour lost while the capability is down"
    )


class SlaTier(_Strict):
    availability_below_pct: float = Field(
        gt=0, le=100, description="the tier applies when monthly availability is below this"
    )
    credit_pct: float = Field(ge=0, le=100, description="credit as a percentage of that month's spend")


class Sla(_Strict):
    monthly_spend_usd: Range
    credits: list[SlaTier] = Field(default_factory=list)

    @field_validator("credits")
    @classmethod
    def _monotonic(cls, tiers: list[SlaTier]) -> list[SlaTier]:
        ordered = sorted(tiers, key=lambda t: -t.availability_below_pct)
        for looser, stricter in pairwise(ordered):
            if stricter.credit_pct < looser.credit_pct:
                raise ValueError(
                    f"a lower availability threshold ({stricter.availability_below_pct}) must not give a smaller "
                    f"credit ({stricter.credit_pct}%) than a higher one ({looser.availability_below_pct}: "
                    f"{looser.credit_pct}%)"
                )
        if len({t.availability_below_pct for t in tiers}) != len(tiers):
            raise ValueError("availability thresholds must be distinct")
        return ordered

    def credit_pct(self, availability_pct: float | None) -> float:
        """The largest credit whose threshold the availability is strictly below (0 when none applies)."""
        if availability_pct is None:
            return 0.0
        return max(
            (t.credit_pct for t in self.credits if availability_pct < t.availability_below_pct), default=0.0
        )


class ProviderCost(_Strict):
    token_price_usd_per_1k: Range = Field(description="blended price of 1,000 billed tokens")
    price_per_request_usd: Range = Field(
        description="average price of one of our requests (failover extra cost)"
    )
    seats: dict[Category, Range] = Field(
        default_factory=dict, description="seats depending on each capability"
    )
    sla: Sla


class Impact(_Strict):
    """How observed evidence becomes impacted minutes (see assets/marts/downtime_cost/terms.py)."""

    crowd_outage_share: FractionRange = Field(
        default=FractionRange(low=0.25, base=0.5, high=1.0),
        description="share of a capability's seats blocked while crowd reports show an outage",
    )


class Cooldown(_Strict):
    """LiteLLM router cooldown (see assets/marts/failover/policies.py for the semantics we replay)."""

    failure_ratio: float = Field(default=0.5, gt=0, le=1)
    min_requests: int = Field(default=5, ge=1)
    allowed_fails: int | None = Field(default=None, ge=0)
    cool_on_429: bool = True
    cooldown_minutes: int = Field(default=5, ge=1, le=1440)


class Avoidance(_Strict):
    """OpenRouter-style: skip a provider that had an outage minute in the last `lookback_minutes`."""

    lookback_minutes: int = Field(default=5, ge=1, le=1440)
    error_ratio_threshold: float = Field(default=0.25, gt=0, lt=1)
    min_requests: int = Field(default=3, ge=1)


class Failover(_Strict):
    fallback: dict[str, str] = Field(description="primary provider -> fallback provider")
    cooldown: Cooldown = Cooldown()
    avoidance: Avoidance = Avoidance()
    correlated_error_ratio_threshold: float = Field(default=0.05, gt=0, lt=1)

    @field_validator("fallback")
    @classmethod
    def _not_self(cls, value: dict[str, str]) -> dict[str, str]:
        for primary, fallback in value.items():
            if primary == fallback:
                raise ValueError(f"provider {primary!r} cannot be its own fallback")
        return value


class CostModel(_Strict):
    currency: Literal["USD"] = "USD"
    request_category: Category = Field(default="api", description="category our gateway requests belong to")
    failed_request_value_usd: dict[Category, Range]
    retry: Retry
    categories: dict[Category, CategoryCost]
    providers: dict[str, ProviderCost]
    defaults: ProviderCost | None = Field(
        default=None, description="cost terms of any provider the data has and `providers` does not name"
    )
    impact: Impact = Impact()
    failover: Failover

    @model_validator(mode="after")
    def _consistent(self) -> CostModel:
        missing = [c for c in CATEGORIES if c not in self.categories]
        if missing:
            raise ValueError(f"categories: every category needs costs; missing {', '.join(missing)}")
        if self.request_category not in self.failed_request_value_usd:
            raise ValueError(
                f"failed_request_value_usd: needs a value for request_category {self.request_category!r}"
            )
        for primary, fallback in self.failover.fallback.items():
            for role, key in (("primary", primary), ("fallback", fallback)):
                if key not in self.providers and self.defaults is None:
                    raise ValueError(
                        f"failover.fallback: {role} provider {key!r} has no entry under providers "
                        f"(known: {', '.join(sorted(self.providers))}) and there is no 'defaults' block"
                    )
        return self

    def check_covers(self, providers: Iterable[str], path: Path | str = "cost model") -> None:
        """Raise ConfigError when a provider seen in the data has no cost entry and there is no `defaults`
        block to price it with (so no figure is silently 0); with defaults, every provider is covered."""
        if self.defaults is not None:
            return
        missing = sorted({p for p in providers if p is not None} - set(self.providers))
        if missing:
            raise ConfigError(
                f"{path}: key 'providers' has no entry for {', '.join(missing)} (the data has them); "
                "add their prices, seats and SLA terms, or a 'defaults' block"
            )

    def terms_source(self, provider: str) -> str:
        """'provider' when `providers` names it, else 'default' (priced with the `defaults` block)."""
        return "provider" if provider in self.providers else "default"

    def terms(self, provider: str) -> ProviderCost:
        """The provider's cost terms, else the `defaults` block; ConfigError when there is neither."""
        if provider in self.providers:
            return self.providers[provider]
        if self.defaults is None:
            raise ConfigError(
                f"cost model: key 'providers' has no entry for {provider!r} and there is no 'defaults' block"
            )
        return self.defaults

    def seats(self, provider: str, category: str, scenario: str) -> float:
        seat = self.terms(provider).seats.get(category)  # type: ignore[call-overload]
        return seat.get(scenario) if seat is not None else 0.0


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> CostModel:
    return validate_model(CostModel, Path(path), load_yaml(Path(path)))  # type: ignore[return-value]


def load_cost_model(path: Path | str) -> CostModel:
    """Load and validate the cost model file; ConfigError names the file, the key and the expectation."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: cost model file not found (expected beside the providers config)")
    return _load_cached(str(path), path.stat().st_mtime_ns)
