"""A pyabc sampler whose generations repeat exactly, on any executor.

pyabc's ``MappingSampler`` maps one "sample until accepted" task per particle over
any ``map`` (so over the runner's executors), but reseeds every task from the
operating system. Here each task gets its own seed, drawn in order from the
sampler's ``rng`` (a Generator :func:`trustsim.calibrate.fit` sets per generation):
the same fit seed gives the same particles on every backend and after a resume.

pyabc draws its proposals from numpy's and Python's global generators inside a
task, so :class:`Seeded` seeds those, once, at the start of its task: the one place
in the package that touches the global generators, and only inside pyabc's tasks.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyabc.sampler import MappingSampler


@dataclass
class Seeded:
    """A particle's simulation that starts pyabc's random draws from ``seed``."""

    simulate_one: Callable[[], Any]
    seed: int
    started: bool = False

    def __call__(self) -> Any:
        if not self.started:  # after MappingSampler's own reseeding, before the first draw
            _seed_globals(self.seed)
            self.started = True
        return self.simulate_one()


def _seed_globals(seed: int) -> None:
    """Seed the global generators pyabc draws from (numpy's legacy one and Python's)."""
    import random

    np.random.seed(seed)  # noqa: NPY002
    random.seed(seed)


class SeededMappingSampler(MappingSampler):
    """``MappingSampler`` with one reproducible seed per particle (see the module)."""

    rng: np.random.Generator = np.random.default_rng(0)  # fit() sets one per generation

    def sample_until_n_accepted(
        self, n: int, simulate_one: Callable[[], Any], t: int, **kwargs: Any
    ) -> Any:
        """Map ``n`` seeded "sample until accepted" tasks, in order; return their sample."""
        seeds = self.rng.integers(0, 2**31 - 1, size=n)
        tasks = [pickle.dumps(Seeded(simulate_one, int(seed))) for seed in seeds]
        per_task = functools.partial(_one, self)
        done = [r for r in self.map_(per_task, tasks) if not isinstance(r, Exception)]
        results, evaluations = zip(*done, strict=True)
        self.nr_evaluations_ = sum(evaluations)
        sample = self._create_empty_sample()
        for result in results:
            sample += result
        return sample


def _one(sampler: SeededMappingSampler, task: bytes) -> Any:
    return sampler.map_function(task, None)
