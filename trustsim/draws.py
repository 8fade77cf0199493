"""The random numbers of a run: counter-based draws inside the kernels, plus the
Generators that build the world once.

Every draw of the weekly dynamics is a pure function of (stream key, step, item,
lane): a SplitMix64-style hash of the counter, in the manner of Random123 (Salmon
et al. 2011) and JAX's threefry keys. Nothing is drawn ahead into arrays and
nothing is consumed in order, so a kernel draws only the numbers it uses, in any
order and on any thread, and the same customer in the same week always sees the
same numbers. The functions below are ``register_jitable``: the kernels compile
them, the agent-by-agent reference runs the very same source as Python (on numpy
``uint64`` scalars, whose wrap-around the hash relies on; plain callers wrap
them in :func:`wrapping`), so both engines see identical numbers.

The network and the initial state are drawn once per run from numpy Generators
(``Streams.network``, ``Streams.init``); each phase of the week has its own key,
so changing one phase's draws never changes another's.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
from numba.extending import register_jitable

from trustsim.config import Scenario

PHASES = ("breach", "encounter", "care", "talk", "review", "decide", "aware", "shocks")

# SplitMix64 (Steele, Lea & Flood 2014): the golden-ratio increment and the
# finaliser's multipliers and shifts
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
SHIFT1, SHIFT2, SHIFT3 = np.uint64(30), np.uint64(27), np.uint64(31)
MANTISSA = np.uint64(11)  # keep the top 53 bits: every double in [0, 1) on a 2^-53 grid
UNIT = 2.0**-53


@register_jitable
def mix(z: np.uint64) -> np.uint64:
    """The SplitMix64 finaliser: a bijection of 64-bit words that scatters every bit."""
    z = (z ^ (z >> SHIFT1)) * MIX1
    z = (z ^ (z >> SHIFT2)) * MIX2
    return z ^ (z >> SHIFT3)


@register_jitable
def bits(key: np.uint64, step: int, item: int, lane: int) -> np.uint64:
    """64 random bits for (step, item, lane) of the stream ``key``: one mix per level
    of the counter, so neighbouring counters give unrelated words."""
    h = mix(key ^ (np.uint64(step) * GOLDEN))
    h = mix(h ^ (np.uint64(item) * MIX1))
    return mix(h + np.uint64(lane + 1) * GOLDEN)


@register_jitable
def uniform(key: np.uint64, step: int, item: int, lane: int) -> float:
    """A uniform in [0, 1) for (step, item, lane) of the stream ``key``."""
    return float(bits(key, step, item, lane) >> MANTISSA) * UNIT


@register_jitable
def normal(key: np.uint64, step: int, item: int, lane: int) -> float:
    """A standard normal (Box-Muller) from lanes ``lane`` and ``lane + 1``."""
    radius = math.sqrt(-2.0 * math.log(1.0 - uniform(key, step, item, lane)))
    return radius * math.cos(2.0 * math.pi * uniform(key, step, item, lane + 1))


@register_jitable
def gamma(shape: float, key: np.uint64, step: int, item: int, lane: int) -> float:
    """A Gamma(``shape``, 1) draw by Marsaglia & Tsang (2000), from lanes ``lane`` on:
    attempt ``k`` reads lanes ``lane + 3k`` to ``lane + 3k + 2``, so callers space
    their gamma lanes far apart. A shape below 1 is boosted: Gamma(a + 1) U^(1/a)."""
    boost = 1.0
    if shape < 1.0:
        boost = (1.0 - uniform(key, step, item, lane)) ** (1.0 / shape)
        shape += 1.0
        lane += 1
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    attempt = 0
    while True:
        at = lane + 3 * attempt
        attempt += 1
        x = normal(key, step, item, at)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - uniform(key, step, item, at + 2)
        x2 = x * x
        # the squeeze accepts about 98% of draws without a logarithm; it implies the
        # exact test, so it changes no draw, only what a draw costs
        if u < 1.0 - 0.0331 * x2 * x2 or math.log(u) < 0.5 * x2 + d - d * v + d * math.log(v):
            return boost * d * v


GAMMA_LANES = 1 << 20  # lanes between the two gammas of a beta: no attempt count reaches it


@register_jitable
def beta(a: float, b: float, key: np.uint64, step: int, item: int, lane: int) -> float:
    """A Beta(a, b) draw as X / (X + Y) of two independent gammas."""
    x = gamma(a, key, step, item, lane)
    y = gamma(b, key, step, item, lane + GAMMA_LANES)
    return x / (x + y)


def wrapping() -> AbstractContextManager[object]:
    """Silence numpy's overflow warning for the hash's intended uint64 wrap-around, for
    callers that run the draws as plain Python (the reference, tests)."""
    return np.errstate(over="ignore")


@dataclass(frozen=True)
class Streams:
    """The run's Generators (network, initialisation, Mesa, hand-triggered shocks) and
    one counter key per phase of the week."""

    seed: np.random.SeedSequence
    network: np.random.Generator
    init: np.random.Generator
    keys: dict[str, np.uint64]
    mesa: np.random.Generator
    shocks: np.random.Generator  # for shocks a user triggers by hand (classroom app)

    @classmethod
    def from_seed(cls, seed: int | np.random.SeedSequence | None) -> Streams:
        """The named streams of a run from one seed (an int, a SeedSequence or None)."""
        root = seed_sequence(seed)
        # appending children never changes the earlier ones (keys are indices)
        network, init, dynamics, mesa, shocks = children(root, 5)
        keys = {
            name: np.uint64(seq.generate_state(1, np.uint64)[0])
            for name, seq in zip(PHASES, children(dynamics, len(PHASES)), strict=True)
        }
        return cls(
            seed=root,
            network=np.random.default_rng(network),
            init=np.random.default_rng(init),
            keys=keys,
            mesa=np.random.default_rng(mesa),
            shocks=np.random.default_rng(shocks),
        )


def seed_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """The run's root SeedSequence; with no seed, fresh entropy that is then recorded."""
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def child(parent: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The descendant of ``parent`` at spawn key ``key``, made directly: the same key
    always gives the same stream, and ``parent`` is not advanced."""
    return np.random.SeedSequence(
        parent.entropy, spawn_key=(*parent.spawn_key, *key), pool_size=parent.pool_size
    )


def children(parent: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children ``parent.spawn(n)`` would give, without advancing the
    parent, so one SeedSequence object always seeds the same run."""
    return [child(parent, i) for i in range(n)]


@dataclass(frozen=True)
class InitDraws:
    """The random numbers of initialisation (ODD 5)."""

    propensity: np.ndarray  # (N,)
    talkativeness: np.ndarray  # (N,)
    customer_values: np.ndarray  # (N, D) unit vectors
    firm_values: np.ndarray  # (M, D) unit vectors
    u_provider: np.ndarray  # (N,)
    u_aware: np.ndarray  # (N, M)


def init_draws(scenario: Scenario, rng: np.random.Generator) -> InitDraws:
    """Draw everything initialisation needs, from the ``init`` stream."""
    pop = scenario.population
    n, m, dims = pop.size, len(scenario.firms), pop.value_dims
    names = scenario.firm_names
    later = [names.index(e.firm) for e in scenario.events if e.kind == "enter"]
    first = [f for f in range(m) if f not in later]
    mean, conc = pop.trust_mean, pop.trust_concentration
    propensity = rng.beta(mean * conc, (1 - mean) * conc, size=n)
    talk = rng.gamma(pop.talk_shape, 1.0 / pop.talk_shape, size=n)
    customer_values = _unit_vectors(rng, n, dims)
    firm_values = np.empty((m, dims))
    firm_values[first] = _unit_vectors(rng, len(first), dims)
    u_provider = rng.random(n)
    u_aware = np.empty((n, m))
    u_aware[:, first] = rng.random((n, len(first)))
    # firms that enter later are drawn last, so they change no draw of the others
    firm_values[later] = _unit_vectors(rng, len(later), dims)
    u_aware[:, later] = rng.random((n, len(later)))
    for f, firm in enumerate(scenario.firms):
        if firm.values is not None:
            v = np.asarray(firm.values, dtype=float)
            firm_values[f] = v / (np.linalg.norm(v) or 1.0)
    return InitDraws(propensity, talk, customer_values, firm_values, u_provider, u_aware)


def _unit_vectors(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    x = rng.standard_normal((n, dims))
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
