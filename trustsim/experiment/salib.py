"""The SALib adapter: a problem (names, bounds, groups), its samples and its indices.

The experiment layer samples designs with it (``design.kind: sobol | morris |
pawn``), and ``trustsim.sensitivity`` analyses the runs with it. It imports
nothing from TrustSim but the experiment spec, so both can use it without an
import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import pawn as pawn_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import latin
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from trustsim.experiment.spec import Experiment, SensitivityDesign, lhs_ranges


@dataclass(frozen=True)
class Problem:
    """A SALib problem: parameter names, bounds, optional groups, method and flags."""

    names: list[str]
    bounds: list[tuple[float, float]]
    method: str
    groups: list[str] | None = None
    second_order: bool = False
    levels: int = 4

    def salib(self) -> dict[str, Any]:
        """The problem as the dict SALib takes."""
        problem: dict[str, Any] = {
            "num_vars": len(self.names),
            "names": self.names,
            "bounds": [list(b) for b in self.bounds],
        }
        if self.groups is not None:
            problem["groups"] = self.groups
        return problem

    @property
    def factors(self) -> list[str]:
        """What the indices are about: the groups when given, else the parameters."""
        return list(dict.fromkeys(self.groups)) if self.groups else list(self.names)

    def block(self) -> int:
        """Rows per base sample point (Sobol, Morris) or 1 (PAWN)."""
        k = len(self.factors)
        if self.method == "sobol":
            return 2 * k + 2 if self.second_order else k + 2
        return k + 1 if self.method == "morris" else 1

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """A SALib sample of ``n`` base points (rows: design points)."""
        if self.method == "sobol":
            return sobol_sample.sample(
                self.salib(), n, calc_second_order=self.second_order, scramble=True, seed=rng
            )
        if self.method == "morris":
            return morris_sample.sample(self.salib(), n, num_levels=self.levels, seed=rng)
        return latin.sample(self.salib(), n, seed=rng)

    def analyze(
        self, x: np.ndarray, y: np.ndarray, *, bootstrap: int, conf_level: float, seed: int
    ) -> pd.DataFrame:
        """Tidy indices: factor, index, value, conf (conf is the half-width, or NaN)."""
        problem, rows = self.salib(), []
        # SALib tests `if seed:`, so a seed of 0 would be ignored: keep it positive
        seed = seed % (2**31 - 1) + 1
        if self.method == "sobol":
            s = sobol_analyze.analyze(
                problem,
                y,
                calc_second_order=self.second_order,
                num_resamples=bootstrap,
                conf_level=conf_level,
                seed=seed,
            )
            for index in ("S1", "ST"):
                rows += _rows(self.factors, index, s[index], s[f"{index}_conf"])
            if self.second_order:
                for i, a in enumerate(self.factors):
                    for j in range(i + 1, len(self.factors)):
                        rows.append(
                            (f"{a} x {self.factors[j]}", "S2", s["S2"][i, j], s["S2_conf"][i, j])
                        )
        elif self.method == "morris":
            s = morris_analyze.analyze(
                problem,
                x,
                y,
                num_resamples=bootstrap,
                conf_level=conf_level,
                num_levels=self.levels,
                seed=seed,
            )
            rows += _rows(self.factors, "mu_star", s["mu_star"], s["mu_star_conf"])
            rows += _rows(self.factors, "mu", s["mu"], None)
            rows += _rows(self.factors, "sigma", s["sigma"], None)
        else:
            s = pawn_analyze.analyze(problem, x, y)  # deterministic: no seed needed
            for stat in ("median", "mean", "maximum", "CV"):
                rows += _rows(self.factors, f"pawn_{stat.lower()}", s[stat], None)
        return pd.DataFrame(rows, columns=["factor", "index", "value", "conf"])


def _rows(factors: list[str], index: str, values: Any, conf: Any) -> list[tuple[Any, ...]]:
    conf = [np.nan] * len(factors) if conf is None else conf
    return [(f, index, float(v), float(c)) for f, v, c in zip(factors, values, conf, strict=True)]


def problem_for(experiment: Experiment) -> Problem:
    """The SALib problem of a sensitivity experiment (ranges default to the schema's)."""
    design = experiment.design
    if not isinstance(design, SensitivityDesign):
        raise TypeError(f"design.kind: {design.kind} is not a SALib design")
    ranges = lhs_ranges(experiment)
    groups = [design.groups[k] for k in ranges] if design.groups else None
    return Problem(
        list(ranges),
        [(float(lo), float(hi)) for lo, hi in ranges.values()],
        design.kind,
        groups=groups,
        second_order=design.second_order,
        levels=design.levels,
    )
