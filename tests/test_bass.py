"""The Bass limit of ODD 7.5 and its ring-lattice lower bound."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import trustsim
from trustsim.rules import bass_step

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "bass_limit.yaml"
SEEDS = range(24)
STEPS = 40
# Word-of-mouth about the firm cannot change adoption here (one firm, no
# outside option), so it is switched off to keep the test fast.
QUIET = {"wom.p_positive": 0.0, "wom.p_negative": 0.0, "population.size": 2000}


def adoption_curves(overrides: dict[str, object]) -> np.ndarray:
    scenario = trustsim.load_scenario(CONFIG, {**QUIET, **overrides})
    runs = [trustsim.run(scenario, seed=s, steps=STEPS).population for s in SEEDS]
    n = scenario.population.size
    return np.array([pop["customers"].to_numpy() / n for pop in runs])


def bass_curve(p: float, q: float) -> np.ndarray:
    curve = [0.0]
    for _ in range(STEPS):
        curve.append(bass_step(curve[-1], p, q))
    return np.array(curve)


@pytest.mark.slow
def test_complete_network_follows_the_discrete_bass_recursion() -> None:
    scenario = trustsim.load_scenario(CONFIG)
    p, q = scenario.market.p_ad, scenario.market.q_wom
    curves = adoption_curves({})
    mean = curves.mean(axis=0)
    # Tolerance: the Monte Carlo standard error of the mean curve, measured
    # from the replications themselves (4 SE: a false alarm about once in
    # 15,000 per step), plus the finite-population bias of O(1/N): a prospect
    # sees C / (N - 1) adopters among its neighbours where Bass has F = C / N.
    se = curves.std(axis=0, ddof=1) / np.sqrt(len(SEEDS))
    tolerance = 4 * se + 2.0 / scenario.population.size
    expected = bass_curve(p, q)
    assert np.all(np.abs(mean - expected) <= tolerance), np.abs(mean - expected) - tolerance
    # the curve has its S shape: from nothing to most of the market
    assert mean[0] == 0.0 and mean[-1] > 0.9


@pytest.mark.slow
def test_ring_lattice_adopts_more_slowly_than_bass() -> None:
    scenario = trustsim.load_scenario(CONFIG)
    p, q = scenario.market.p_ad, scenario.market.q_wom
    ring = adoption_curves(
        {"network.kind": "watts_strogatz", "network.k": 2, "network.p": 0.0}
    ).mean(axis=0)
    expected = bass_curve(p, q)
    assert np.all(ring <= expected + 0.01)
    half = int(np.argmax(expected >= 0.5))
    assert ring[half] < expected[half] - 0.1
