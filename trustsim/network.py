"""Social networks as CSR adjacency, built from the run's own Generator.

Large populations never go through networkx's dict-of-dicts graph: the random
builders here produce edge arrays with numpy, and ``complete`` is implicit
(no N^2 edges in memory). networkx is used for the real graphs it ships, for
files, and to hand a small graph to the classroom view.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp

from trustsim.config import ConfigError
from trustsim.config import Network as NetworkConfig

REAL_GRAPHS = {
    "karate_club": nx.karate_club_graph,
    "les_miserables": nx.les_miserables_graph,
    "florentine_families": nx.florentine_families_graph,
    "davis_southern_women": nx.davis_southern_women_graph,
}


class SparseNetwork:
    """An undirected graph over customers ``0..n-1`` as a symmetric CSR matrix."""

    def __init__(self, n: int, src: np.ndarray, dst: np.ndarray) -> None:
        keep = src != dst
        src, dst = src[keep], dst[keep]
        both = np.concatenate([src, dst]), np.concatenate([dst, src])
        ones = np.ones(both[0].size)  # float64, as the vectors it multiplies: no casts
        adj = sp.csr_array((ones, both), shape=(n, n))
        adj.sum_duplicates()
        adj.data[:] = 1.0
        adj.sort_indices()
        self.n = n
        self.adjacency = adj
        self.degree = np.diff(adj.indptr).astype(np.int64)

    @property
    def n_edges(self) -> int:
        return int(self.adjacency.nnz // 2)

    def neighbours(self, i: int) -> np.ndarray:
        """Neighbours of customer ``i`` in ascending order."""
        ptr = self.adjacency.indptr
        return self.adjacency.indices[ptr[i] : ptr[i + 1]]

    def neighbour_counts(
        self, provider: np.ndarray, n_firms: int, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Per row, how many neighbours are customers of each firm: shape (rows, M)."""
        if rows is None:
            return np.asarray(self.adjacency @ _onehot(provider, n_firms))
        owner, neighbour = self.edges_of(rows)
        firm = provider[neighbour]
        key = owner[firm >= 0] * n_firms + firm[firm >= 0]
        counts = np.bincount(key, minlength=rows.size * n_firms)
        return counts.reshape(rows.size, n_firms).astype(np.float64)

    def adopter_counts(self, adopted: np.ndarray) -> np.ndarray:
        """Per customer, how many neighbours have ``adopted`` (a boolean per customer)."""
        return np.asarray(self.adjacency @ adopted.astype(np.float64))

    def contacts(self, rng: np.random.Generator, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each customer i tells each neighbour independently with probability ``p[i]``.

        One uniform per edge of every customer with ``p > 0``, in customer order
        and, within a customer, in neighbour order. Returns (teller, hearer).
        """
        tellers = np.flatnonzero(p > 0)
        owner, dst = self.edges_of(tellers)
        src = tellers[owner]
        told = rng.random(src.size) < p[src]
        return src[told], dst[told].astype(np.int64)

    def edges_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All edges of customers ``rows``, in row order then neighbour order:
        (position in ``rows``, neighbour)."""
        ptr = self.adjacency.indptr
        degree = ptr[rows + 1] - ptr[rows]
        owner = np.repeat(np.arange(rows.size), degree)
        first = np.repeat(ptr[rows] - np.cumsum(degree) + degree, degree)
        return owner, self.adjacency.indices[first + np.arange(owner.size)]

    def to_networkx(self) -> nx.Graph:
        return nx.from_scipy_sparse_array(self.adjacency)


class CompleteNetwork:
    """Everyone knows everyone, without storing N^2 edges."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.degree = np.full(n, n - 1, dtype=np.int64)

    @property
    def n_edges(self) -> int:
        return self.n * (self.n - 1) // 2

    def neighbours(self, i: int) -> np.ndarray:
        return np.delete(np.arange(self.n), i)

    def neighbour_counts(
        self, provider: np.ndarray, n_firms: int, rows: np.ndarray | None = None
    ) -> np.ndarray:
        onehot = _onehot(provider, n_firms)
        own = onehot if rows is None else onehot[rows]
        return onehot.sum(axis=0) - own

    def adopter_counts(self, adopted: np.ndarray) -> np.ndarray:
        return np.count_nonzero(adopted) - adopted.astype(np.float64)

    def contacts(self, rng: np.random.Generator, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each teller i reaches Binomial(n-1, p[i]) others, chosen without replacement."""
        src, dst = [], []
        for i in np.flatnonzero(p > 0):
            k = rng.binomial(self.n - 1, p[i])
            others = rng.choice(self.n - 1, size=k, replace=False)
            src.append(np.full(k, i, dtype=np.int64))
            dst.append(others + (others >= i))
        if not src:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(src), np.concatenate(dst).astype(np.int64)

    def to_networkx(self) -> nx.Graph:
        return nx.complete_graph(self.n)


Network = SparseNetwork | CompleteNetwork


def _onehot(provider: np.ndarray, n_firms: int) -> np.ndarray:
    onehot = np.zeros((provider.size, n_firms))
    has = provider >= 0
    onehot[np.flatnonzero(has), provider[has]] = 1.0
    return onehot


# --------------------------------------------------------------------------- builders


def build_network(config: NetworkConfig, n: int, rng: np.random.Generator) -> Network:
    """Build the network a scenario asks for; the same Generator state gives the same graph."""
    kind = config.kind
    if kind == "complete":
        return CompleteNetwork(n)
    if kind == "watts_strogatz":
        if config.k >= n:
            raise ConfigError(f"network.k: must be below population.size = {n} (got {config.k})")
        return SparseNetwork(n, *watts_strogatz_edges(n, config.k, config.p, rng))
    if kind == "erdos_renyi":
        return SparseNetwork(n, *erdos_renyi_edges(n, config.mean_degree, rng))
    if kind == "barabasi_albert":
        if config.m >= n:
            raise ConfigError(f"network.m: must be below population.size = {n} (got {config.m})")
        return SparseNetwork(n, *barabasi_albert_edges(n, config.m, rng))
    graph = REAL_GRAPHS[kind]() if kind in REAL_GRAPHS else read_graph(config.path)
    if graph.number_of_nodes() != n:
        raise ConfigError(
            f"population.size: network.kind={kind} has "
            f"{graph.number_of_nodes()} nodes, so population.size must be "
            f"{graph.number_of_nodes()} (got {n})"
        )
    return from_networkx(graph)


def from_networkx(graph: nx.Graph) -> SparseNetwork:
    """A networkx graph, nodes relabelled 0..n-1 in sorted order."""
    try:
        nodes = sorted(graph.nodes)
    except TypeError:  # mixed node types: fall back to their text
        nodes = sorted(graph.nodes, key=str)
    index = {node: i for i, node in enumerate(nodes)}
    edges = np.array([(index[u], index[v]) for u, v in graph.edges], dtype=np.int64)
    edges = edges.reshape(-1, 2)
    return SparseNetwork(len(nodes), edges[:, 0], edges[:, 1])


def read_graph(path: str | None) -> nx.Graph:
    """Read an edge list (whitespace-separated pairs) or a GraphML file."""
    if path is None:
        raise ConfigError("network.path: needed for network.kind=file")
    try:
        if Path(path).suffix.lower() == ".graphml":
            return nx.Graph(nx.read_graphml(path))
        return nx.read_edgelist(path, nodetype=str)
    except FileNotFoundError:
        raise ConfigError(f"network.path: no such file {path!r}") from None
    except Exception as exc:  # networkx raises several types for a malformed file
        raise ConfigError(
            f"network.path: cannot read {path!r} as an edge list or GraphML ({exc})"
        ) from None


def watts_strogatz_edges(
    n: int, k: int, p: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Small-world graph (Watts & Strogatz 1998), vectorised.

    A ring lattice joining each node to its ``k // 2`` nearest neighbours on
    each side; each lattice edge ``(u, u + j)`` has its far end moved to a
    uniformly drawn node with probability ``p``. A move that would create a
    self-loop or a duplicate edge is not made, so the edge count stays
    ``n * (k // 2)``. ``p = 0`` is the ring lattice.
    """
    half = k // 2
    src = np.tile(np.arange(n, dtype=np.int64), half)
    offset = np.repeat(np.arange(1, half + 1, dtype=np.int64), n)
    dst = (src + offset) % n
    rewire = rng.random(src.size) < p
    new_dst = np.where(rewire, rng.integers(0, n, size=src.size), dst)
    while True:  # undo clashing moves until none is left (an undone move may clash anew)
        keys = _edge_keys(src, new_dst, n)
        order = np.argsort(keys, kind="stable")
        repeated = np.zeros(src.size, dtype=bool)
        repeated[order[1:]] = keys[order[1:]] == keys[order[:-1]]
        repeated[order[:-1]] |= keys[order[1:]] == keys[order[:-1]]
        clash = rewire & ((src == new_dst) | repeated)
        if not clash.any():
            return src, new_dst
        rewire &= ~clash
        new_dst = np.where(clash, dst, new_dst)


def erdos_renyi_edges(
    n: int, mean_degree: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """G(n, p) with ``p = mean_degree / (n - 1)``: a Binomial number of distinct pairs."""
    pairs = n * (n - 1) // 2
    m = int(rng.binomial(pairs, min(1.0, mean_degree / max(n - 1, 1))))
    keys = np.empty(0, dtype=np.int64)
    while keys.size < m:
        u = rng.integers(0, n, size=2 * (m - keys.size))
        v = rng.integers(0, n, size=u.size)
        ok = u != v
        new = _edge_keys(u[ok], v[ok], n)
        keys = np.unique(np.concatenate([keys, new]))
    keys = rng.permutation(keys)[:m]
    return keys // n, keys % n


def barabasi_albert_edges(
    n: int, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Preferential attachment (Barabasi & Albert 1999).

    Starts from a star on ``m + 1`` nodes; each new node links to ``m``
    distinct existing nodes drawn with probability proportional to degree
    (uniform draws from the list of edge endpoints).
    """
    ends = np.empty(2 * m * n, dtype=np.int64)
    src = np.empty(m * n, dtype=np.int64)
    dst = np.empty(m * n, dtype=np.int64)
    src[:m], dst[:m] = 0, np.arange(1, m + 1)
    ends[: 2 * m : 2], ends[1 : 2 * m : 2] = src[:m], dst[:m]
    n_edges, n_ends = m, 2 * m
    for new in range(m + 1, n):
        targets: set[int] = set()
        while len(targets) < m:
            for j in rng.integers(0, n_ends, size=m - len(targets)):
                targets.add(int(ends[j]))
        chosen = np.fromiter(targets, dtype=np.int64, count=m)
        chosen.sort()
        src[n_edges : n_edges + m], dst[n_edges : n_edges + m] = new, chosen
        ends[n_ends : n_ends + 2 * m : 2], ends[n_ends + 1 : n_ends + 2 * m : 2] = new, chosen
        n_edges, n_ends = n_edges + m, n_ends + 2 * m
    return src[:n_edges], dst[:n_edges]


def _edge_keys(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(u, v) * n + np.maximum(u, v)
