"""The random numbers of a run, drawn per phase from named streams.

Both the compiled model and the agent-by-agent reference call these
functions, so they consume identical numbers: each phase draws whole arrays
(one entry per customer, whether or not it will be used) and the reference
indexes them. A run's streams are spawned from one SeedSequence; each phase has
its own stream, so changing one phase's draws never reshuffles the network or
another phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustsim.config import Scenario

PHASES = ("breach", "encounter", "care", "talk", "review", "decide", "aware")


@dataclass(frozen=True)
class Streams:
    """Independent Generators for the network, initialisation and each phase."""

    seed: np.random.SeedSequence
    network: np.random.Generator
    init: np.random.Generator
    phase: dict[str, np.random.Generator]
    mesa: np.random.Generator
    shocks: np.random.Generator  # for shocks a user triggers by hand (classroom app)

    @classmethod
    def from_seed(cls, seed: int | np.random.SeedSequence | None) -> Streams:
        """The named streams of a run from one seed (an int, a SeedSequence or None)."""
        root = seed_sequence(seed)
        # appending children never changes the earlier ones (keys are indices)
        network, init, dynamics, mesa, shocks = children(root, 5)
        phases = dict(zip(PHASES, children(dynamics, len(PHASES)), strict=True))
        return cls(
            seed=root,
            network=np.random.default_rng(network),
            init=np.random.default_rng(init),
            phase={k: np.random.default_rng(v) for k, v in phases.items()},
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
    mean, conc = pop.trust_mean, pop.trust_concentration
    propensity = rng.beta(mean * conc, (1 - mean) * conc, size=n)
    talk = rng.gamma(pop.talk_shape, 1.0 / pop.talk_shape, size=n)
    customer_values = _unit_vectors(rng, n, dims)
    firm_values = _unit_vectors(rng, m, dims)
    for f, firm in enumerate(scenario.firms):
        if firm.values is not None:
            v = np.asarray(firm.values, dtype=float)
            firm_values[f] = v / (np.linalg.norm(v) or 1.0)
    u_provider = rng.random(n)
    return InitDraws(propensity, talk, customer_values, firm_values, u_provider, rng.random((n, m)))


def _unit_vectors(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    x = rng.standard_normal((n, dims))
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


@dataclass(frozen=True)
class BreachDraws:
    """This week's breach and breach-news uniforms (ODD 7.1)."""

    u_breach: np.ndarray  # (M,)
    u_news: np.ndarray  # (N, M)


def breach_draws(rng: np.random.Generator, n: int, m: int) -> BreachDraws:
    """Draw this week's breach and news uniforms."""
    return BreachDraws(rng.random(m), rng.random((n, m)))


@dataclass(frozen=True)
class EncounterDraws:
    """This week's encounter randomness: need, mistake, warning, quality, ... (ODD 7.2)."""

    u_need: np.ndarray
    u_mistake: np.ndarray
    u_warn: np.ndarray
    u_discover: np.ndarray
    u_complain: np.ndarray
    u_recover: np.ndarray
    u_story: np.ndarray
    quality: np.ndarray  # delivered quality y ~ Beta(mean quality, concentration) of provider


def encounter_draws(
    rng: np.random.Generator, provider: np.ndarray, quality: np.ndarray, concentration: np.ndarray
) -> EncounterDraws:
    """Uniforms for every customer, and y from its provider's quality (firm 0 for prospects)."""
    u = rng.random((7, provider.size))
    # Beta shapes per firm, then per customer by its provider's index: the same numbers
    # as computing them per customer, with M operations instead of N
    mean = np.minimum(np.maximum(quality, 1e-9), 1 - 1e-9)
    f = np.maximum(provider, 0)
    y = rng.beta((mean * concentration)[f], ((1.0 - mean) * concentration)[f])
    need, mistake, warn, discover, complain, recover, story = u
    return EncounterDraws(need, mistake, warn, discover, complain, recover, story, quality=y)


def uniforms(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """One uniform per customer (care contacts, reviews) or per customer and firm (adverts)."""
    return rng.random(shape)


@dataclass(frozen=True)
class DecisionDraws:
    """This week's consideration and choice uniforms (ODD 7.5)."""

    u_consider: np.ndarray
    u_choice: np.ndarray


def decision_draws(rng: np.random.Generator, n: int) -> DecisionDraws:
    """Draw this week's consideration and choice uniforms."""
    u = rng.random((2, n))
    return DecisionDraws(u[0], u[1])
