"""Seeds: same seed, same tables; different seeds differ; the network depends on the seed only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import small

import trustsim
from trustsim.model import TrustModel


def test_same_seed_identical_tables() -> None:
    sc = small()
    a, b = trustsim.run(sc, seed=5, steps=20), trustsim.run(sc, seed=5, steps=20)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(a.population, b.population, check_exact=True)
    assert a.manifest["seed_entropy"] == "5"


def test_different_seeds_differ() -> None:
    sc = small()
    a, b = trustsim.run(sc, seed=5, steps=20), trustsim.run(sc, seed=6, steps=20)
    assert not a.timeseries["customers"].equals(b.timeseries["customers"])


def test_no_seed_records_fresh_entropy_that_reproduces_the_run() -> None:
    sc = small()
    first = trustsim.run(sc, steps=10)
    again = trustsim.run(sc, seed=int(first.manifest["seed_entropy"]), steps=10)
    pd.testing.assert_frame_equal(first.timeseries, again.timeseries, check_exact=True)


def test_network_depends_on_the_seed_and_nothing_else() -> None:
    def adjacency(overrides: dict[str, object], seed: int) -> np.ndarray:
        model = TrustModel(small(overrides), seed=seed, agent_handles=False)
        return model.network.adjacency.toarray()  # type: ignore[union-attr]

    base = adjacency({}, 3)
    # other parameters (dynamics, firms, population traits) leave the graph alone
    other = adjacency(
        {
            "market.q_wom": 0.5,
            "firms.0.warn_rate": 0.7,
            "population.trust_mean": 0.6,
            "wom.p_negative": 0.1,
        },
        3,
    )
    assert np.array_equal(base, other)
    assert not np.array_equal(base, adjacency({}, 4))


def test_changing_one_phase_does_not_reshuffle_initial_state() -> None:
    a = TrustModel(small(), seed=9, agent_handles=False)
    b = TrustModel(small({"market.breach_rate": 0.04}), seed=9, agent_handles=False)
    assert np.array_equal(a.state.provider, b.state.provider)
    assert np.array_equal(a.state.propensity, b.state.propensity)


def test_agent_handles_are_views_onto_the_arrays() -> None:
    model = TrustModel(small(size=50), seed=1)
    customer = model.customers[7]
    model.step()
    assert customer.provider == (
        None if model.state.provider[7] < 0 else int(model.state.provider[7])
    )
    assert customer.beliefs(1)["integrity"] == model.state.beliefs[7, 1, 2]
    assert 0.0 <= customer.trust(0)["overall"] <= 1.0
    assert sum(f.customers for f in model.firms) == int((model.state.provider >= 0).sum())


def test_a_run_records_its_commit_changes_and_every_shaping_version() -> None:
    import re
    import subprocess

    manifest = trustsim.run(small(size=30), seed=1, steps=1).manifest
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
    ).stdout.strip()
    if head:  # a git checkout (CI's fresh clone is one)
        assert manifest["git_commit"] == head and re.fullmatch(r"[0-9a-f]{40}", head)
        assert isinstance(manifest["uncommitted_changes"], bool)
    assert {"trustsim", "mesa", "numpy", "numba", "SALib"} <= set(manifest["versions"])
