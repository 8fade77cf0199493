"""A pyabc sampler whose generations repeat exactly, on any executor.

pyabc's ``MappingSampler`` maps one "sample until accepted" task per particle over
any ``map`` (so over the runner's executors), but reseeds every task from the
operating system. Here each task gets its own seed, drawn in order from numpy's
global generator, which :func:`trustsim.calibrate.fit` seeds per generation: the
same fit seed gives the same particles on every backend and after a resume.
"""

from __future__ import annotations

import functools
import pickle
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyabc.sampler import MappingSampler


@dataclass
class Seeded:
    """A particle's simulation that starts its random streams from ``seed``."""

    simulate_one: Callable[[], Any]
    seed: int
    started: bool = False

    def __call__(self) -> Any:
        if not self.started:  # after MappingSampler's own reseeding, before the first draw
            np.random.seed(self.seed)  # noqa: NPY002  (pyabc draws from the global generator)
            random.seed(self.seed)
            self.started = True
        return self.simulate_one()


class SeededMappingSampler(MappingSampler):
    """``MappingSampler`` with one reproducible seed per particle (see the module)."""

    def sample_until_n_accepted(
        self, n: int, simulate_one: Callable[[], Any], t: int, **kwargs: Any
    ) -> Any:
        seeds = np.random.randint(0, 2**31 - 1, size=n)  # noqa: NPY002
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
