"""The counter-based draws (ODD 3, randomness): their distributions, their
independence, and the same numbers compiled and as plain Python.

Each KS test uses n = 20,000 draws at level 0.001: its critical distance is
1.95 / sqrt(n) = 0.014, so a sampler whose CDF is off by 0.03 anywhere fails with
power above 0.999 (the KS distance of such a sampler concentrates within about
0.01 of 0.03)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from trustsim import draws

N = 20_000
KEY = np.uint64(0x5EED_0F_7257)
LEVEL = 0.001


@njit(cache=False)
def _uniforms(key: np.uint64, step: int, items: int, lane: int) -> np.ndarray:
    out = np.empty(items)
    for i in range(items):
        out[i] = draws.uniform(key, step, i, lane)
    return out


@njit(cache=False)
def _gammas(shape: float, key: np.uint64, items: int) -> np.ndarray:
    out = np.empty(items)
    for i in range(items):
        out[i] = draws.gamma(shape, key, 3, i, 7)
    return out


@njit(cache=False)
def _betas(a: float, b: float, key: np.uint64, items: int) -> np.ndarray:
    out = np.empty(items)
    for i in range(items):
        out[i] = draws.beta(a, b, key, 3, i, 7)
    return out


def test_uniforms_are_uniform_in_every_direction_of_the_counter() -> None:
    along_items = _uniforms(KEY, 0, N, 0)
    with draws.wrapping():
        along_steps = np.array([draws.uniform(KEY, s, 5, 0) for s in range(2000)])
        along_lanes = np.array([draws.uniform(KEY, 9, 5, lane) for lane in range(2000)])
    for sample in (along_items, along_steps, along_lanes):
        assert stats.kstest(sample, "uniform").pvalue > LEVEL
        assert 0.0 <= sample.min() and sample.max() < 1.0


def test_neighbouring_counters_and_keys_are_uncorrelated() -> None:
    # |r| of independent samples of 20,000 stays below 4 / sqrt(n) = 0.028 but for 1 in 15,000
    base = _uniforms(KEY, 0, N, 0)
    for other in (
        _uniforms(KEY, 0, N, 1),  # the next lane
        _uniforms(KEY, 1, N, 0),  # the next step
        _uniforms(KEY + np.uint64(1), 0, N, 0),  # the next key
        np.roll(base, 1),  # the next item
    ):
        assert abs(np.corrcoef(base, other)[0, 1]) < 4 / np.sqrt(N)
    pairs = np.histogram2d(base, _uniforms(KEY, 0, N, 1), bins=10)[0]
    assert stats.chisquare(pairs.ravel()).pvalue > LEVEL  # pairs fill the unit square


def test_plain_python_and_compiled_draws_are_the_same_numbers() -> None:
    compiled = _uniforms(KEY, 4, 50, 2)
    with draws.wrapping():
        plain = [draws.uniform(KEY, 4, i, 2) for i in range(50)]  # the Python source itself
        betas = [draws.beta(3.0, 2.0, KEY, 3, i, 7) for i in range(50)]
    np.testing.assert_array_equal(compiled, plain)
    np.testing.assert_array_equal(_betas(3.0, 2.0, KEY, 50), betas)


@pytest.mark.parametrize("shape", [0.3, 1.0, 3.7, 14.0])
def test_gamma_draws_follow_the_gamma_distribution(shape: float) -> None:
    sample = _gammas(shape, KEY, N)
    assert stats.kstest(sample, stats.gamma(shape).cdf).pvalue > LEVEL


@pytest.mark.parametrize(("a", "b"), [(14.0, 6.0), (0.5, 0.5), (2.0, 18.0), (1.0, 1.0)])
def test_beta_draws_follow_the_beta_distribution(a: float, b: float) -> None:
    sample = _betas(a, b, KEY, N)
    assert stats.kstest(sample, stats.beta(a, b).cdf).pvalue > LEVEL


def test_a_wrong_sampler_fails_the_same_test() -> None:
    # the power claimed above: a Beta(14, 6) sampler that is really Beta(15, 6) is caught
    sample = _betas(15.0, 6.0, KEY, N)
    assert stats.kstest(sample, stats.beta(14.0, 6.0).cdf).pvalue < LEVEL
