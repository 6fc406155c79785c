"""Honest lagged correlation at low counts, on a generated world at 0.1x traffic and on independent series.

The world (seed 2026, 2026-01-26 .. 2026-03-08, request logs only, a tenth of the scenario's traffic:
~20 Anthropic requests an hour) goes through the real Dagster assets: staging, minute SLI, migration
signals, correlation, downtime cost and failover.
"""

import datetime as dt
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from scipy.signal import lfilter

from assets.marts.correlation.assets import migration_correlation
from assets.marts.correlation.mart import correlate_pair, ratio_weights
from assets.marts.correlation.significance import (
    CorrelationParams,
    block_bootstrap_pvalue,
    surrogate_p_value,
)
from assets.marts.downtime_cost.assets import downtime_cost
from assets.marts.failover.assets import failover_simulation
from assets.marts.migration.assets import migration_signals
from assets.marts.sli import provider_minute_sli
from assets.staging.request_logs import request_logs
from pipelines.backfill import RANGE_END_TAG, RANGE_START_TAG
from pipelines.core.resources import Workspace
from pipelines.scenario import generate

FIRST, LAST = dt.date(2026, 1, 26), dt.date(2026, 3, 8)


@pytest.fixture(scope="module")
def low_traffic_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, int]:
    root = tmp_path_factory.mktemp("low_traffic")
    data = root / "data"
    (data / "config").mkdir(parents=True)
    repo = Path(__file__).resolve().parents[2]
    for name in ("providers.yaml", "cost_model.yaml"):
        (data / "config" / name).write_bytes((repo / "data/config" / name).read_bytes())
    truth = generate(
        data,
        seed=2026,
        start=FIRST,
        end=LAST,
        scale=0.1,
        sources=("request_logs",),
        config=data / "config/providers.yaml",
    )
    workspace = Workspace(
        data_dir=str(data), reports_dir=str(root / "reports"), config_path=str(data / "config/providers.yaml")
    )
    resources = {"workspace": workspace}
    tags = {RANGE_START_TAG: FIRST.isoformat(), RANGE_END_TAG: LAST.isoformat()}
    assert dg.materialize([request_logs, provider_minute_sli], resources=resources, tags=tags).success
    marts = [migration_signals, migration_correlation, downtime_cost, failover_simulation]
    assert dg.materialize(marts, resources=resources).success
    return workspace, truth.migration_lag_hours


def test_planted_lag_is_found_and_significant_at_a_tenth_of_the_traffic(low_traffic_world):
    workspace, planted_lag = low_traffic_world
    with workspace.warehouse(read_only=True) as con:
        hourly = con.sql(
            "SELECT median(requests) FROM (SELECT date_trunc('hour', minute), sum(requests) AS requests"
            " FROM marts.provider_minute_sli WHERE provider = 'anthropic' GROUP BY 1)"
        ).fetchall()[0][0]
        row = con.sql(
            "SELECT best_lag_hours, p_value, significant, sentence FROM marts.migration_correlation"
            " WHERE provider = 'anthropic' AND signal = 'traffic_growth'"
            " AND error_series = 'error_529_ratio'"
        ).fetchall()[0]
    assert hourly < 30  # low counts indeed: a few 529s a day
    best_lag, p_value, significant, sentence = row
    assert best_lag == planted_lag == 6
    assert p_value < 0.05 and significant
    assert sentence.startswith("529 ratio rose 6 h after traffic growth")


def test_failover_and_downtime_cost_count_the_same_failed_requests(low_traffic_world):
    """One impact model: the replay's failures under 'none' are the provider errors downtime_cost prices."""
    workspace, _ = low_traffic_world
    with workspace.warehouse(read_only=True) as con:
        pairs = con.sql(
            "SELECT f.provider, f.failed_requests, c.provider_errors FROM marts.failover_simulation f"
            " JOIN marts.downtime_cost c ON c.provider = f.provider AND c.level = 'provider' AND c.scenario = 'base'"
            " WHERE f.policy = 'none' ORDER BY 1"
        ).fetchall()
        sli = dict(
            con.sql(
                "SELECT provider, sum(errors_5xx + errors_529 + timeouts) FROM marts.provider_minute_sli"
                " GROUP BY 1"
            ).fetchall()
        )
    assert [p for p, _, _ in pairs] == ["anthropic", "google", "openai"]
    for provider, replayed, priced in pairs:
        assert replayed == priced == sli[provider] > 0


def ar1(rng: np.random.Generator, n: int, phi: float = 0.8, burn: int = 200) -> np.ndarray:
    return lfilter([1.0], [1.0, -phi], rng.normal(size=n + burn))[burn:]


def low_count_pair(seed: int, n: int = 1_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An AR(1) signal and an unrelated error ratio from ~15 requests an hour with a daily cycle."""
    rng = np.random.default_rng(5_000 + seed)
    hours = np.arange(n)
    signal = ar1(rng, n)
    requests = rng.poisson(15 * (1 + 0.6 * np.sin(2 * np.pi * hours / 24)) * np.exp(0.3 * ar1(rng, n, 0.6)))
    errors = rng.binomial(requests, 0.015 * (1 + 0.5 * np.sin(2 * np.pi * (hours - 6) / 24)))
    ratio = np.where(requests > 0, errors / np.maximum(requests, 1), np.nan)
    return signal, ratio, requests


def test_without_a_relation_small_p_values_are_no_more_frequent_than_their_level():
    """40 independent low-count pairs: p < 0.05 at most 5 times (12.5 %), p < 0.2 at most 13 times. The
    same observed max |r| judged against a null without the lag search (lag 0 only) rejects far more often:
    the lag-search correction is what keeps the level."""
    params = CorrelationParams(n_permutations=100, n_bootstrap=10)
    no_search = CorrelationParams(max_lag_hours=0, n_permutations=100)
    p_values, naive = [], []
    for seed in range(40):
        x, y, requests = low_count_pair(seed)
        weights = ratio_weights(requests)
        found = correlate_pair(x, y, params, np.random.default_rng(seed), weights)
        p_values.append(found["p_value"])
        observed = abs(found["pearson_r"])
        naive.append(
            block_bootstrap_pvalue(x, y, observed, no_search, np.random.default_rng(seed), weights)[0]
        )
    p_values, naive = np.array(p_values), np.array(naive)
    assert (p_values < 0.05).sum() <= 5
    assert (p_values < 0.2).sum() <= 13
    assert (naive < 0.05).sum() >= 15


def test_the_plus_one_correction_by_hand():
    """19 surrogates, none reaching the observed statistic: p = (1 + 0) / (1 + 19) = 0.05, which is not
    below the 0.05 level; without the +1 it would be 0 / 19 = 0 and 'significant'."""
    assert surrogate_p_value(np.full(19, 0.1), 0.5) == 0.05
    assert surrogate_p_value(np.array([0.1, 0.5, 0.7]), 0.5) == 0.75  # ties count against the observed
    rng = np.random.default_rng(1)
    x = ar1(rng, 400)
    y = x + 0.1 * ar1(rng, 400)  # a relation no surrogate can match
    found = correlate_pair(
        x, y, CorrelationParams(n_permutations=19, n_bootstrap=10), np.random.default_rng(2)
    )
    assert found["best_lag_hours"] == 0
    assert found["p_value"] == pytest.approx(0.05)
    # the mart's rule: significant only when p < level
    assert not found["p_value"] < CorrelationParams().level
