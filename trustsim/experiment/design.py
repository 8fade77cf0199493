"""Design points and run seeds, in design order.

Seeds: one root SeedSequence per experiment (docs/architecture.md); run
(design point d, replication r) gets ``SeedSequence(root, spawn_key=(r,))``
with common random numbers (the same streams at every design point) and
``spawn_key=(d, r)`` without. A seed never depends on the backend or on the
order in which runs finish.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

from trustsim.config import Scenario, is_integer_key
from trustsim.draws import child
from trustsim.experiment.salib import problem_for
from trustsim.experiment.spec import (
    Experiment,
    GridDesign,
    ListDesign,
    SensitivityDesign,
    lhs_ranges,
)

# the sampler's spawn key: beyond any replication index, so a design's sample never
# shares a stream with one of its runs
SAMPLER_KEY = 2**31


def design_points(experiment: Experiment, root: np.random.SeedSequence) -> list[dict[str, Any]]:
    """The design's points (dotted overrides), in design order."""
    design = experiment.design
    if isinstance(design, GridDesign):
        keys = list(design.parameters)
        return [
            dict(zip(keys, values, strict=True))
            for values in itertools.product(*design.parameters.values())
        ]
    if isinstance(design, ListDesign):
        return [dict(point) for point in design.points]
    # a sample has its own child of the root, apart from the runs' seeds
    sampler_seed = child(root, SAMPLER_KEY)
    if isinstance(design, SensitivityDesign):
        problem = problem_for(experiment)
        x = problem.sample(design.n, np.random.default_rng(sampler_seed))
        return [_typed(dict(zip(problem.names, map(float, row), strict=True))) for row in x]
    ranges = lhs_ranges(experiment)
    sample = qmc.LatinHypercube(d=len(ranges), rng=np.random.default_rng(sampler_seed))
    unit = sample.random(design.n)
    lows, highs = np.array(list(ranges.values())).T
    scaled = qmc.scale(unit, lows, highs)
    return [_typed(dict(zip(ranges, map(float, row), strict=True))) for row in scaled]


def _typed(point: dict[str, float]) -> dict[str, Any]:
    """Sampled values of whole-number parameters (``network.k``) rounded to integers."""
    return {k: round(v) if is_integer_key(k) else v for k, v in point.items()}


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: what to run and with which seed."""

    run_id: str
    design_id: int
    replication: int
    parameters: dict[str, Any]
    seed: np.random.SeedSequence

    @property
    def spawn_key(self) -> tuple[int, ...]:
        """The run's position in the experiment's SeedSequence tree."""
        return tuple(self.seed.spawn_key)


def run_seed(
    root: np.random.SeedSequence, design_id: int, replication: int, common_random_numbers: bool
) -> np.random.SeedSequence:
    """The seed of run (d, r): ``(r,)`` under common random numbers, else ``(d, r)``."""
    key = (replication,) if common_random_numbers else (design_id, replication)
    return child(root, *key)


def plan(experiment: Experiment, root: np.random.SeedSequence) -> list[RunSpec]:
    """Every run of the experiment, in design order (design point, then replication)."""
    points = design_points(experiment, root)
    width = len(str(max(len(points) - 1, 1)))
    rwidth = len(str(max(experiment.replications - 1, 1)))
    return [
        RunSpec(
            f"d{d:0{width}d}-r{r:0{rwidth}d}",
            d,
            r,
            point,
            run_seed(root, d, r, experiment.common_random_numbers),
        )
        for d, point in enumerate(points)
        for r in range(experiment.replications)
    ]


def scenario_for(experiment: Experiment, run: RunSpec) -> Scenario:
    """The scenario of one run: the base with its design point's overrides."""
    return experiment.base.with_overrides(run.parameters)
