"""Social networks (ODD 8.3): the registry of kinds, their builders, and CSR adjacency.

Each network kind is one class below: its ``kind`` name, the parameters it uses
(with their ranges, so a sensitivity analysis varies only what the kind reads)
and its ``build``. :data:`NetworkSpec`, the union of those classes, is the
``network`` section of a scenario; adding a kind means adding a class and
naming it in the union.

Large populations never go through networkx's dict-of-dicts graph: the random
builders here produce edge arrays with numpy and check their own arguments, and
``complete`` is implicit (no N^2 edges in memory). networkx is used for the
real graphs it ships, for files, and to hand a small graph to the classroom
view.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, get_args

import networkx as nx
import numpy as np
import scipy.sparse as sp
from numba import njit
from pydantic import Field, TypeAdapter

from trustsim.schema import ConfigError, Section, param, prob


class SparseNetwork:
    """An undirected graph over customers ``0..n-1`` as a symmetric CSR matrix."""

    def __init__(self, n: int, src: np.ndarray, dst: np.ndarray) -> None:
        indptr, indices = _symmetric_csr(
            n, np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
        )
        # the kernels walk indptr and indices; the matrix form serves networkx and drawing
        self.adjacency = sp.csr_array((np.ones(indices.size), indices, indptr), shape=(n, n))
        self.n = n
        self.degree = np.diff(indptr)

    @property
    def n_edges(self) -> int:
        """The number of undirected edges."""
        return int(self.adjacency.nnz // 2)

    def neighbours(self, i: int) -> np.ndarray:
        """Neighbours of customer ``i`` in ascending order."""
        ptr = self.adjacency.indptr
        return self.adjacency.indices[ptr[i] : ptr[i + 1]]

    def to_networkx(self) -> nx.Graph:
        """The graph as a networkx Graph on nodes 0..n-1."""
        return nx.from_scipy_sparse_array(self.adjacency)


class CompleteNetwork:
    """Everyone knows everyone, without storing N^2 edges."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.degree = np.full(n, n - 1, dtype=np.int64)

    @property
    def n_edges(self) -> int:
        """The number of undirected edges, n (n - 1) / 2 (none are stored)."""
        return self.n * (self.n - 1) // 2

    def neighbours(self, i: int) -> np.ndarray:
        """Everyone but customer ``i``."""
        return np.delete(np.arange(self.n), i)

    def to_networkx(self) -> nx.Graph:
        """The complete graph as a networkx Graph (small n only: it has n^2 / 2 edges)."""
        return nx.complete_graph(self.n)


Network = SparseNetwork | CompleteNetwork


@njit(cache=True, nogil=True, error_model="numpy")
def _symmetric_csr(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR rows of the undirected graph with edges ``(src[e], dst[e])``: self-loops
    dropped, each edge in both rows, duplicates merged, each row sorted. One pass to
    count, one to place, one to sort and merge: at 10^6 nodes a tenth of what scipy's
    general COO route took."""
    counts = np.zeros(n + 1, dtype=np.int64)
    for e in range(src.size):
        if src[e] != dst[e]:
            counts[src[e] + 1] += 1
            counts[dst[e] + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    placed = np.empty(start[-1], dtype=np.int64)
    for e in range(src.size):
        u, v = src[e], dst[e]
        if u != v:
            placed[fill[u]] = v
            fill[u] += 1
            placed[fill[v]] = u
            fill[v] += 1
    indptr = np.zeros(n + 1, dtype=np.int64)
    k = 0
    for i in range(n):
        first, last = start[i], start[i + 1]
        for j in range(first + 1, last):  # insertion sort: rows are short
            v, h = placed[j], j
            while h > first and placed[h - 1] > v:
                placed[h] = placed[h - 1]
                h -= 1
            placed[h] = v
        for j in range(first, last):  # merge duplicates, moving the row left to k
            if j == first or placed[j] != placed[j - 1]:
                placed[k] = placed[j]
                k += 1
        indptr[i + 1] = k
    return indptr, placed[:k].copy()


# --------------------------------------------------------------------------- kinds


class WattsStrogatz(Section):
    """Small world (Watts & Strogatz 1998): a ring lattice with rewired edges."""

    kind: Literal["watts_strogatz"] = "watts_strogatz"
    k: int = Field(
        8,
        ge=2,
        description="ring-lattice degree (k // 2 neighbours on each side, so an odd k acts "
        "as k - 1)",
    )
    p: float = prob(0.1, 0.0, 0.5, "rewiring probability")

    def build(self, n: int, rng: np.random.Generator) -> Network:
        """The graph on ``n`` customers, drawn from ``rng``."""
        return _sparse(n, watts_strogatz_edges, self.k, self.p, rng)


class BarabasiAlbert(Section):
    """Preferential attachment (Barabasi & Albert 1999)."""

    kind: Literal["barabasi_albert"] = "barabasi_albert"
    m: int = Field(4, ge=1, description="edges per new node")

    def build(self, n: int, rng: np.random.Generator) -> Network:
        """The graph on ``n`` customers, drawn from ``rng``."""
        return _sparse(n, barabasi_albert_edges, self.m, rng)


class ErdosRenyi(Section):
    """G(n, p) with a given expected degree (Erdos & Renyi 1959)."""

    kind: Literal["erdos_renyi"] = "erdos_renyi"
    mean_degree: float = param(8.0, 2.0, 20.0, "expected degree", ge=0.0)

    def build(self, n: int, rng: np.random.Generator) -> Network:
        """The graph on ``n`` customers, drawn from ``rng``."""
        return _sparse(n, erdos_renyi_edges, self.mean_degree, rng)


class Complete(Section):
    """Everyone knows everyone (the Bass limit, ODD 7.6), never stored edge by edge."""

    kind: Literal["complete"] = "complete"

    def build(self, n: int, rng: np.random.Generator) -> Network:
        """The complete graph on ``n`` customers (``rng`` is not used)."""
        return CompleteNetwork(n)


class RealGraph(Section):
    """One of the small real social networks networkx ships."""

    GRAPHS: ClassVar[dict[str, Callable[[], nx.Graph]]] = {
        "karate_club": nx.karate_club_graph,
        "les_miserables": nx.les_miserables_graph,
        "florentine_families": nx.florentine_families_graph,
        "davis_southern_women": nx.davis_southern_women_graph,
    }
    kind: Literal["karate_club", "les_miserables", "florentine_families", "davis_southern_women"]

    def build(self, n: int, rng: np.random.Generator) -> Network:
        """The graph; ``n`` must be its node count (``rng`` is not used)."""
        return _sized(self.kind, self.GRAPHS[self.kind](), n)


class FileGraph(Section):
    """A graph read from an edge list (whitespace-separated pairs) or a GraphML file."""

    kind: Literal["file"] = "file"
    path: str = Field(description="edge list or GraphML file")

    def build(self, n: int, rng: np.random.Generator) -> Network:
        """The graph; ``n`` must be its node count (``rng`` is not used)."""
        return _sized(self.kind, read_graph(self.path), n)


NetworkSpec = Annotated[
    WattsStrogatz | BarabasiAlbert | ErdosRenyi | Complete | RealGraph | FileGraph,
    Field(discriminator="kind"),
]
"""The ``network`` section of a scenario: one of the kinds above, chosen by ``kind``."""

_ADAPTER: TypeAdapter[Any] = TypeAdapter(NetworkSpec)
KINDS: dict[str, type[Section]] = {
    name: cls
    for cls in get_args(get_args(NetworkSpec)[0])  # the union is the one list of kinds
    for name in get_args(cls.model_fields["kind"].annotation)
}


def kinds_with(parameter: str) -> list[str]:
    """The network kinds that declare ``parameter`` (``p``: watts_strogatz)."""
    return [kind for kind, cls in KINDS.items() if parameter in cls.model_fields]


"""Every kind name and the class that declares its parameters and builds it."""


def network_spec(**fields: Any) -> Any:
    """A validated network section, e.g. ``network_spec(kind="complete")``."""
    return _ADAPTER.validate_python(fields)


def keep_fields_of(section: dict[str, Any], kind: object) -> None:
    """Drop the keys of ``section`` that network ``kind`` does not use, so switching
    kinds (``--set network.kind=complete``) does not carry the old kind's parameters."""
    cls = KINDS.get(str(kind))
    if cls is not None:
        for key in [k for k in section if k not in cls.model_fields]:
            del section[key]


def build_network(spec: Any, n: int, rng: np.random.Generator) -> Network:
    """Build the network a scenario asks for.

    Parameters
    ----------
    spec : NetworkSpec
        The scenario's ``network`` section (one of the kinds above).
    n : int
        The number of customers.
    rng : numpy.random.Generator
        The run's ``network`` stream; the same state gives the same graph.

    Returns
    -------
    SparseNetwork or CompleteNetwork
    """
    return spec.build(n, rng)


def _sparse(n: int, edges: Callable[..., tuple[np.ndarray, np.ndarray]], *args: Any) -> Network:
    try:
        return SparseNetwork(n, *edges(n, *args))
    except ValueError as exc:  # the builder names its own argument
        raise ConfigError(f"network.{exc} (population.size = {n})") from None


def _sized(kind: str, graph: nx.Graph, n: int) -> Network:
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


def read_graph(path: str) -> nx.Graph:
    """Read an edge list (whitespace-separated pairs) or a GraphML file."""
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

    Raises ``ValueError`` unless ``2 <= k < n`` and ``0 <= p <= 1``.
    """
    if not 2 <= k < n:
        raise ValueError(f"k: must be at least 2 and below the number of nodes {n} (got {k})")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p: must be a probability (got {p})")
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
    """G(n, p) with ``p = mean_degree / (n - 1)``: a Binomial number of distinct pairs.

    Raises ``ValueError`` unless ``0 <= mean_degree <= n - 1``.
    """
    if not 0.0 <= mean_degree <= max(n - 1, 0):
        raise ValueError(
            f"mean_degree: must be between 0 and the number of nodes - 1 = {n - 1} "
            f"(got {mean_degree})"
        )
    pairs = n * (n - 1) // 2
    m = int(rng.binomial(pairs, mean_degree / max(n - 1, 1)))
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

    Raises ``ValueError`` unless ``1 <= m < n``.
    """
    if not 1 <= m < n:
        raise ValueError(f"m: must be at least 1 and below the number of nodes {n} (got {m})")
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
