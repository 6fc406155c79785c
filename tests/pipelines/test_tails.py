"""The tail probabilities and ranks that replaced `scipy.stats` (issue 13: its import costs ~0.5 s per process).

`binomial_tail`, `nbinom_tail` and `average_ranks` are checked against `scipy.stats`, imported here in the
test only, on grids that hold every edge case (0 counts, no requests, rates 0 and 1, more errors than
requests, NaN and invalid parameters, 10^7 requests, tails near 1e-300, non-integer NB sizes, mean 0),
plus hand-computed cases; a subprocess shows the code location no longer imports `scipy.stats`.
"""

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from assets.marts.correlation.lagged import _ranks, average_ranks
from assets.marts.episodes.crowd_scoring import nbinom_tail
from pipelines.core.minute_sli import binomial_tail

REL_TOL = 1e-9
# Below this, scipy.stats' own double-precision Boost call loses digits (off by 10 % near 1e-288, see
# test_nbinom_tail_is_exact_in_the_far_tail): compare orders of magnitude there.
TINY = 1e-250


def assert_same_tail(got: np.ndarray, expected: np.ndarray) -> None:
    """NaN where scipy.stats gives NaN, exact 0/1 where it gives 0/1, else relative error <= REL_TOL
    (log-space agreement to 1e-3 below TINY)."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    for exact in (0.0, 1.0):
        np.testing.assert_array_equal(got[expected == exact], exact)
        np.testing.assert_array_equal(expected[got == exact], exact)
    regular = expected > TINY
    np.testing.assert_allclose(got[regular], expected[regular], rtol=REL_TOL, atol=0)
    tiny = (expected > 0) & (expected <= TINY)
    np.testing.assert_allclose(np.log(got[tiny]), np.log(expected[tiny]), rtol=1e-3)


def assert_grid_reaches_every_region(expected: np.ndarray) -> None:
    """Certainties, NaN, astronomically small tails above and below TINY: the grid tests what it claims."""
    assert {0.0, 1.0} <= set(np.unique(expected[np.isfinite(expected)]))
    assert np.isnan(expected).sum() > 50
    assert ((expected > TINY) & (expected < 1e-100)).sum() > 5
    assert ((expected > 0) & (expected <= TINY)).sum() > 0


def binomial_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(errors, requests, rate): counts around the mean up to 60 sd above it, and every edge case."""
    requests = [0, 1, 2, 4, 7, 20, 1_000, 123_457, 10**7, 2.5, -1, np.nan]
    rates = [0.0, 1e-12, 1e-6, 1e-3, 0.01, 0.0137, 0.5, 0.9, 1 - 1e-9, 1.0, np.nan, -0.1, 1.1]
    rows = []
    for n, p in itertools.product(requests, rates):
        mean = n * p if np.isfinite(n * p) else 0.0
        sd = math.sqrt(max(mean * (1 - p), 0.0)) if np.isfinite(p) else 0.0
        around = [math.floor(mean + z * sd) for z in (-3, -1, 0, 1, 3, 10, 40, 60)]
        fixed = [0, 1, 2, 3, n - 1, n, n + 1, 2 * n + 5, -1, 2.5, np.nan, np.inf, -np.inf]
        rows += [(e, n, p) for e in (*around, *fixed)]
    return tuple(np.array(column, dtype=np.float64) for column in zip(*rows, strict=True))


def test_binomial_tail_equals_scipy_stats_on_a_broad_grid() -> None:
    errors, requests, rate = binomial_grid()
    with np.errstate(all="ignore"):
        expected = stats.binom.sf(errors - 1, requests, rate)
    got = binomial_tail(errors, requests, rate)
    assert_same_tail(got, expected)
    assert_grid_reaches_every_region(expected)
    assert ((requests == 10**7) & (expected > 1e-300) & (expected < 1e-3)).sum() > 5


@pytest.mark.parametrize(
    ("errors", "requests", "rate", "expected"),
    [
        (3, 4, 0.5, 5 / 16),  # C(4,3) + C(4,4) over 2^4
        (1, 10, 0.1, 1 - 0.9**10),  # at least one failure
        (3, 3, 0.2, 0.008),  # all three fail
        (0, 0, 0.3, 1.0),  # no requests, no errors: nothing surprising
        (5, 4, 0.5, 0.0),  # more errors than requests cannot happen
        (2, 100, 0.0, 0.0),  # a perfect provider never fails
        (100, 100, 1.0, 1.0),  # a dead one always does
    ],
)
def test_binomial_tail_hand_computed(errors: int, requests: int, rate: float, expected: float) -> None:
    value = binomial_tail(errors, requests, rate)
    assert isinstance(value, float)  # a scalar for scalar inputs, as before
    assert value == pytest.approx(expected, rel=1e-12, abs=0)


def test_binomial_tail_invalid_inputs_are_nan_not_evidence() -> None:
    got = binomial_tail([np.nan, 3, 3, 3, 3], [10, np.nan, 10.5, -4, 10], [0.1, 0.1, 0.1, 0.1, 1.5])
    assert np.isnan(got).all()


def nbinom_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reports, mean, dispersion): non-integer sizes, means from 0 to 10^6, counts up to 10^7, edge cases."""
    dispersions = [1e-6, 0.01, 0.0731, 0.37, 1.0, 2.9, 5.0, 0.0, -1.0, np.inf, np.nan]
    means = [0.0, 1e-3, 1.0, 3.7, 42.5, 1_000.0, 1e6, -1.0, np.nan]
    rows = []
    for alpha, mu in itertools.product(dispersions, means):
        sd = math.sqrt(mu + alpha * mu * mu) if mu >= 0 and 0 <= alpha < np.inf else 0.0
        around = [math.floor(mu + z * sd) for z in (0, 1, 3, 10, 20, 40, 80)] if np.isfinite(mu) else []
        fixed = [0, 1, 2, 7, 10**7, -1, 2.5, np.nan, np.inf, -np.inf]
        rows += [(r, mu, alpha) for r in (*around, *fixed)]
    return tuple(np.array(column, dtype=np.float64) for column in zip(*rows, strict=True))


def test_nbinom_tail_equals_scipy_stats_on_a_broad_grid() -> None:
    reports, mean, dispersion = nbinom_grid()
    with np.errstate(all="ignore"):
        size = 1.0 / dispersion
        expected = stats.nbinom.sf(reports - 1, size, size / (size + mean))
    got = nbinom_tail(reports, mean, dispersion)
    assert_same_tail(got, expected)
    assert_grid_reaches_every_region(expected)
    assert ((expected > 0) & (expected < 1) & (size != np.round(size))).sum() > 50  # non-integer sizes


@pytest.mark.parametrize(
    ("reports", "mean", "dispersion", "expected"),
    [
        (3, 2.0, 0.5, 5 / 16),  # size 2, prob 1/2: 1 - (1/4 + 2/8 + 3/16)
        (5, 3.0, 1.0, (3 / 4) ** 5),  # size 1 is geometric: P(X >= r) = (1 - prob)^r, prob = 1/4
        (2, 1.0, 2.0, 1 - (1 / 3) ** 0.5 * (1 + 0.5 * 2 / 3)),  # size 1/2: 1 - prob^s (1 + s (1 - prob))
        (0, 5.0, 0.3, 1.0),  # no reports: certain
        (1, 0.0, 0.3, 0.0),  # mean 0: no report ever comes
    ],
)
def test_nbinom_tail_hand_computed(reports: float, mean: float, dispersion: float, expected: float) -> None:
    value = nbinom_tail(np.float64(reports), np.float64(mean), np.float64(dispersion))
    assert value == pytest.approx(expected, rel=1e-12, abs=0)


def nbinom_log_tail_by_summation(reports: int, mean: float, dispersion: float) -> float:
    """ln P(X >= reports), independently: ln pmf(reports) from lgamma, then the pmf recurrence summed."""
    size = 1.0 / dispersion
    prob = size / (size + mean)
    log_pmf = (
        math.lgamma(reports + size)
        - math.lgamma(size)
        - math.lgamma(reports + 1)
        + size * math.log(prob)
        + reports * math.log1p(-prob)
    )
    k, term, total = reports, 1.0, 0.0
    while term > 1e-18 * total:
        total += term
        term *= (k + size) / (k + 1) * (1 - prob)
        k += 1
    return log_pmf + math.log(total)


@pytest.mark.parametrize(
    ("reports", "mean", "dispersion"),
    [
        (1285, 27.7, 0.0456),  # 4.7e-288: scipy.stats.nbinom.sf says 5.2e-288
        (25987, 645.7, 0.0535),  # 1.6e-287: scipy.stats is 0.7 % high
        (607_439, 32_400.0, 0.0252),  # 2.4e-258 at 600k reports: scipy.stats is 0.7 % high
        (657, 10.0, 0.05),  # prob 2/3: 5.8e-281
        (2000, 300.0, 0.1),  # an ordinary tail, 2e-18
    ],
)
def test_nbinom_tail_is_exact_in_the_far_tail(reports: int, mean: float, dispersion: float) -> None:
    expected = math.exp(nbinom_log_tail_by_summation(reports, mean, dispersion))
    assert nbinom_tail(np.float64(reports), np.float64(mean), np.float64(dispersion)) == pytest.approx(
        expected, rel=1e-8, abs=0
    )


def test_average_ranks_share_the_mean_rank_of_ties() -> None:
    np.testing.assert_array_equal(average_ranks(np.array([10.0, 20.0, 20.0, 5.0])), [2.0, 3.5, 3.5, 1.0])
    np.testing.assert_array_equal(average_ranks(np.array([7.0, 7.0, 7.0])), [2.0, 2.0, 2.0])
    assert average_ranks(np.array([])).size == 0
    rng = np.random.default_rng(13)
    for values in (rng.integers(0, 20, 500).astype(float), rng.normal(size=301), np.array([0.0, -0.0, 1.0])):
        np.testing.assert_array_equal(average_ranks(values), stats.rankdata(values))


def test_ranks_leave_missing_values_missing() -> None:
    ranks = _ranks(np.array([np.nan, 3.0, 3.0, 1.0, np.inf, -np.inf]))
    np.testing.assert_array_equal(ranks, [np.nan, 2.5, 2.5, 1.0, np.nan, np.nan])


def test_code_location_does_not_import_scipy_stats() -> None:
    """`scipy.stats` costs ~0.5 s of CPU in every process that loads the code location: keep it out."""
    probe = "import sys, pipelines.definitions; print(sorted(m for m in sys.modules if m.startswith('scipy.stats')))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]"
