"""Run a scenario and get tidy tables back: ``run(scenario, seed=..., steps=...)``."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from trustsim.config import Scenario
from trustsim.metrics import FIRM_COLUMNS, POPULATION_COLUMNS

PACKAGES = ("trustsim", "mesa", "numpy", "scipy", "networkx", "pandas", "pydantic")


@dataclass
class RunResult:
    """The tables of one run.

    Attributes
    ----------
    timeseries
        One row per step and firm: ``step`` (0 is the initial state), ``firm``
        (its name) and every per-firm metric of MODEL.md section 8.
    population
        One row per step: ``customers``, ``prospects``, ``prospect_share``,
        ``gini``, ``mean_reputation``.
    manifest
        The scenario, the seed entropy and the package versions.
    """

    timeseries: pd.DataFrame
    population: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def final(self) -> pd.DataFrame:
        """The last step's row per firm, indexed by firm name."""
        last = self.timeseries[self.timeseries["step"] == self.timeseries["step"].max()]
        return last.set_index("firm")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def seed_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """The run's root SeedSequence; with no seed, fresh entropy that is then recorded."""
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def manifest(
    scenario: Scenario, seed: np.random.SeedSequence, steps: int, implementation: str
) -> dict[str, Any]:
    return {
        "scenario": scenario.model_dump(mode="json"),
        "steps": steps,
        "seed_entropy": str(seed.entropy),
        "spawn_key": list(seed.spawn_key),
        "implementation": implementation,
        "versions": versions(),
    }


def tables(
    firm_records: list[dict[str, Any]], population_records: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    timeseries = pd.DataFrame.from_records(firm_records, columns=["step", "firm", *FIRM_COLUMNS])
    population = pd.DataFrame.from_records(
        population_records, columns=["step", *POPULATION_COLUMNS]
    )
    return timeseries, population


def run(
    scenario: Scenario,
    *,
    seed: int | np.random.SeedSequence | None = None,
    steps: int | None = None,
) -> RunResult:
    """Run the vectorised model for ``steps`` (default ``scenario.steps``) steps."""
    from trustsim.model import TrustModel

    root = seed_sequence(seed)
    steps = scenario.steps if steps is None else steps
    model = TrustModel(scenario, seed=root, agent_handles=False)
    for _ in range(steps):
        model.step()
    ts, pop = tables(model.firm_records, model.population_records)
    return RunResult(ts, pop, manifest(scenario, root, steps, "vectorised"))
