"""Network builders and the two network services the phases use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from pydantic import ValidationError

from trustsim import phases, rules
from trustsim.config import ConfigError, Scenario, sensitivity_ranges
from trustsim.model import TrustModel
from trustsim.network import (
    KINDS,
    CompleteNetwork,
    RealGraph,
    SparseNetwork,
    barabasi_albert_edges,
    build_network,
    erdos_renyi_edges,
    network_spec,
    watts_strogatz_edges,
)
from trustsim.state import Ledger


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_watts_strogatz_without_rewiring_is_the_ring_lattice() -> None:
    net = SparseNetwork(20, *watts_strogatz_edges(20, 4, 0.0, rng()))
    assert np.all(net.degree == 4)
    assert list(net.neighbours(0)) == [1, 2, 18, 19]


def test_watts_strogatz_keeps_edge_count_and_rewires_about_p() -> None:
    n, k, p = 5000, 8, 0.1
    src, dst = watts_strogatz_edges(n, k, p, rng())
    net = SparseNetwork(n, src, dst)
    assert net.n_edges == n * k // 2
    rewired = np.mean(np.minimum(np.abs(dst - src) % n, n - np.abs(dst - src) % n) > k // 2)
    assert rewired == pytest.approx(p, abs=0.01)
    assert net.degree.mean() == pytest.approx(k)


def test_erdos_renyi_mean_degree() -> None:
    net = SparseNetwork(4000, *erdos_renyi_edges(4000, 6.0, rng()))
    assert net.degree.mean() == pytest.approx(6.0, rel=0.05)


def test_barabasi_albert_is_connected_and_heavy_tailed() -> None:
    n, m = 3000, 3
    net = SparseNetwork(n, *barabasi_albert_edges(n, m, rng()))
    assert net.n_edges == m * (n - m - 1) + m
    assert net.degree.min() >= 1
    assert nx.is_connected(net.to_networkx())
    assert net.degree.max() > 10 * m


@pytest.mark.parametrize("kind", ["watts_strogatz", "erdos_renyi", "barabasi_albert"])
def test_same_generator_state_same_graph(kind: str) -> None:
    cfg = network_spec(kind=kind)
    a, b, c = (build_network(cfg, 500, rng(s)) for s in (1, 1, 2))
    assert isinstance(a, SparseNetwork) and isinstance(b, SparseNetwork)
    assert isinstance(c, SparseNetwork)
    assert (a.adjacency != b.adjacency).nnz == 0
    assert (a.adjacency != c.adjacency).nnz > 0


def test_complete_network_stores_no_edges() -> None:
    net = build_network(network_spec(kind="complete"), 1_000_000, rng())
    assert isinstance(net, CompleteNetwork)
    assert net.n_edges == 1_000_000 * 999_999 // 2
    assert CompleteNetwork(4).neighbours(2).tolist() == [0, 1, 3]


def test_sparse_neighbours_match_networkx() -> None:
    g = nx.karate_club_graph()
    net = build_network(network_spec(kind="karate_club"), 34, rng())
    for i in range(34):
        assert net.neighbours(i).tolist() == sorted(g.neighbors(i))
    assert net.degree.tolist() == [d for _, d in sorted(g.degree())]


@pytest.mark.parametrize(
    "net", [SparseNetwork(300, *watts_strogatz_edges(300, 10, 0.2, rng())), CompleteNetwork(300)]
)
def test_word_of_mouth_reaches_each_neighbour_with_probability_p(
    net: SparseNetwork | CompleteNetwork,
) -> None:
    # the first 100 customers have bad news about firm 0 and tell each neighbour with
    # probability 0.3 (ODD 7.4); listeners pull it over their own edges only
    scenario = Scenario().with_overrides({"population.size": 300, "wom.p_negative": 0.3})
    model = TrustModel(scenario, seed=3, agent_handles=False, datacollector=False)
    ctx = phases.Context.of(scenario, net)
    st = model.state
    st.talkativeness[:] = 1.0
    st.aware[:] = False
    told, trials = 0.0, 200
    for step in range(trials):
        st.reset_events()
        st.story[:100], st.story_firm[:100] = rules.IGNORED, 0
        ledger = Ledger(2, st.n)
        phases.talk(st, ledger, ctx, phases.Dice(np.uint64(99), step))
        told += ledger.wom_negative[0]
    expected = 0.3 * net.degree[:100].sum() * trials
    assert told == pytest.approx(expected, rel=0.02)
    can_hear = np.zeros(300, dtype=bool)
    for i in range(100):
        can_hear[net.neighbours(i)] = True
    assert st.aware[:, 0].any()
    np.testing.assert_array_equal(st.aware[~can_hear, 0], False)  # nobody else heard


def test_real_graph_needs_matching_size() -> None:
    with pytest.raises(ConfigError, match=r"population.size must be 34"):
        build_network(network_spec(kind="karate_club"), 100, rng())


def test_file_network(tmp_path: Path) -> None:
    path = tmp_path / "edges.txt"
    path.write_text("a b\nb c\nc a\nc d\n")
    net = build_network(network_spec(kind="file", path=str(path)), 4, rng())
    assert net.n_edges == 4
    with pytest.raises(ConfigError, match=r"network\.path"):
        build_network(network_spec(kind="file", path=str(tmp_path / "no.txt")), 4, rng())


@pytest.mark.parametrize(
    ("build", "key"),
    [
        (lambda: watts_strogatz_edges(8, 8, 0.1, rng()), "k"),
        (lambda: watts_strogatz_edges(8, 1, 0.1, rng()), "k"),
        (lambda: watts_strogatz_edges(8, 4, 1.5, rng()), "p"),
        (lambda: barabasi_albert_edges(4, 4, rng()), "m"),
        (lambda: erdos_renyi_edges(5, 6.0, rng()), "mean_degree"),
    ],
)
def test_builders_check_their_own_arguments(build: Any, key: str) -> None:
    # as networkx's generators do: no silent graph from impossible arguments
    with pytest.raises(ValueError, match=rf"^{key}: "):
        build()


def test_scenario_error_names_the_key_and_the_size() -> None:
    with pytest.raises(ConfigError, match=r"network\.k: .*below the number of nodes 6"):
        build_network(network_spec(kind="watts_strogatz", k=8), 6, rng())


def test_each_kind_declares_only_the_parameters_it_uses() -> None:
    assert set(KINDS) == {
        "watts_strogatz", "barabasi_albert", "erdos_renyi", "complete", "karate_club",
        "les_miserables", "florentine_families", "davis_southern_women", "file",
    }  # fmt: skip
    assert set(RealGraph.GRAPHS) == {k for k, cls in KINDS.items() if cls is RealGraph}
    with pytest.raises(ValidationError, match="p"):
        network_spec(kind="erdos_renyi", p=0.1)  # p is watts_strogatz's
    # sensitivity ranges follow the kind: p only for watts_strogatz, mean_degree only for G(n, p)
    ws = sensitivity_ranges(Scenario())
    er = sensitivity_ranges(Scenario().with_overrides({"network.kind": "erdos_renyi"}))
    assert "network.p" in ws and "network.mean_degree" not in ws
    assert "network.mean_degree" in er and "network.p" not in er


def test_switching_kind_drops_the_old_kinds_parameters() -> None:
    base = Scenario().with_overrides({"network.k": 4})
    assert base.with_overrides({"network.kind": "complete"}).network.kind == "complete"
    kept = base.with_overrides({"network.kind": "watts_strogatz", "network.p": 0.2})
    assert kept.network.k == 4 and kept.network.p == 0.2


def test_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(ConfigError, match=r"network\.kind: unknown kind 'moebius'; allowed: "):
        Scenario().with_overrides({"network.kind": "moebius"})


def test_csr_builder_matches_scipy_on_messy_edges() -> None:
    """Self-loops dropped, both directions kept, duplicates merged, rows sorted: the
    compiled builder gives scipy's symmetric adjacency exactly."""
    import scipy.sparse as sp

    from trustsim.network import SparseNetwork

    rng = np.random.default_rng(11)
    n = 300
    src, dst = rng.integers(0, n, 2000), rng.integers(0, n, 2000)
    src[:50] = dst[:50]  # self-loops
    src[50:100], dst[50:100] = dst[100:150], src[100:150]  # the same edges reversed
    net = SparseNetwork(n, src, dst)
    keep = src != dst
    both = np.concatenate([src[keep], dst[keep]]), np.concatenate([dst[keep], src[keep]])
    expected = sp.csr_array((np.ones(both[0].size), both), shape=(n, n))
    expected.sum_duplicates()
    expected.data[:] = 1.0
    expected.sort_indices()
    assert np.array_equal(net.adjacency.indptr, expected.indptr)
    assert np.array_equal(net.adjacency.indices, expected.indices)
    assert (net.adjacency.data == 1.0).all()
    assert np.array_equal(net.degree, np.diff(expected.indptr))
