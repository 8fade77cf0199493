"""Fit the model to a market's own data: ABC-SMC on pyabc (ODD 8.6).

>>> from trustsim import calibrate
>>> data = calibrate.observe("fit.yaml", truth={"market.review_rate": 0.02}, seed=1,
...                          replications=8)                         # doctest: +SKIP
>>> result = calibrate.fit("fit.yaml", out="results/fit")            # doctest: +SKIP
>>> result.posterior, result.calibrated, result.report               # doctest: +SKIP

Each parameter draw runs the scenario ``method.replications`` times on the same
seeds for every draw of the fit (common random numbers: two draws differ by their
parameters only), and the distance to the targets is the root sum of squared
differences in standard errors. Generations run one at a time, each from its own
seed, and pyabc keeps them in ``history.db``: a killed fit resumes from the last
finished generation and ends with the same posterior as an uninterrupted one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustsim.calibrate.spec import FitSpec, TargetSpec, as_fit, load
from trustsim.calibrate.statistics import STATISTICS, Simulated, listing, needs
from trustsim.config import Scenario
from trustsim.draws import child

__all__ = [
    "FitResult", "FitSpec", "TargetSpec", "fit", "listing", "load", "observe", "simulate",
    "variants_of",
]  # fmt: skip

HISTORY = "history.db"
IDENTIFIED_BELOW = 0.5
"""A parameter whose 90% posterior interval is wider than this share of its 90% prior
interval is "not identified by these targets"."""


# --------------------------------------------------------------------------- simulation


def simulate(
    base: Scenario,
    values: Mapping[str, float],
    steps: int,
    seed: int,
    replications: int,
    variants: Mapping[str, bool] | None = None,
) -> Simulated:
    """The scenario at ``values``, run ``replications`` times on the fit's seeds, and so
    are the fact variants the targets need (``variants``: name -> keep panels)."""
    from trustsim.facts import VARIANTS
    from trustsim.simulate import run

    root = np.random.SeedSequence(seed)
    runs, panels = {}, {}
    for variant, panel in (variants or {"scenario": False}).items():
        scenario = base.with_overrides({**values, **VARIANTS[variant]})
        results = [
            run(scenario, seed=child(root, r), steps=steps, panel_every=1 if panel else None)
            for r in range(replications)
        ]
        tables = [res.timeseries.assign(replication=r) for r, res in enumerate(results)]
        runs[variant] = pd.concat(tables, ignore_index=True)
        if panel:
            panels[variant] = [res.panel for res in results]
    scenario = base.with_overrides(dict(values)) if values else base
    return Simulated(scenario, runs, panels)


def variants_of(targets: list[TargetSpec] | tuple[TargetSpec, ...]) -> dict[str, bool]:
    """Every variant the targets' statistics read, and whether any needs its panels."""
    out: dict[str, bool] = {"scenario": False}
    for target in targets:
        names, panel = needs(target.statistic)
        for name in names:
            out[name] = out.get(name, False) or panel
    return out


def statistics_of(sim: Simulated, targets: list[TargetSpec]) -> np.ndarray:
    """Each target's statistic from one draw's runs, in target order (NaN: undefined)."""
    return np.array([STATISTICS[t.statistic].compute(sim, t.at) for t in targets], dtype=float)


@dataclass(frozen=True)
class Simulator:
    """The model pyabc calls: parameters in, the targets' statistics out. A plain
    object, so worker processes can receive it."""

    base: Scenario
    keys: tuple[str, ...]
    steps: int
    seed: int
    replications: int
    targets: tuple[TargetSpec, ...]

    def __call__(self, parameters: Mapping[str, float]) -> dict[str, np.ndarray]:
        values = {key: float(parameters[f"p{i}"]) for i, key in enumerate(self.keys)}
        sim = simulate(self.base, values, self.steps, self.seed, self.replications,
                       variants_of(self.targets))  # fmt: skip
        return {"s": statistics_of(sim, list(self.targets))}


@dataclass(frozen=True)
class Distance:
    """Root sum of squared differences in standard errors (undefined statistics: inf)."""

    se: tuple[float, ...]

    def __call__(self, simulated: Mapping[str, Any], observed: Mapping[str, Any]) -> float:
        z = (np.asarray(simulated["s"]) - np.asarray(observed["s"])) / np.asarray(self.se)
        return float(np.sqrt(np.sum(z**2))) if np.all(np.isfinite(z)) else float("inf")


def observe(
    fit: FitSpec | str | Path | Mapping[str, Any],
    truth: Mapping[str, float],
    *,
    seed: int = 0,
    replications: int = 8,
) -> pd.DataFrame:
    """The fit's statistics simulated at known parameter values ``truth``.

    Returns one row per target of the fit file: ``statistic``, ``firm``, ``week``,
    ``window``, ``value`` (the mean over ``replications`` runs) and ``se`` (their
    standard error), ready to be the targets of a fit (recovery studies).
    """
    spec = as_fit(fit)
    if replications < 2:
        raise ValueError(f"replications: at least 2 for a standard error (got {replications})")
    sim = simulate(spec.base, truth, spec.horizon, seed, replications, variants_of(spec.targets))
    per_run = np.array(
        [statistics_of(sim.replication(r), spec.targets) for r in range(replications)]
    )
    rows = [
        {"statistic": t.statistic, "firm": t.firm, "week": t.week, "window": t.window,
         "value": float(np.mean(per_run[:, i])),
         "se": float(np.std(per_run[:, i], ddof=1) / np.sqrt(replications))}
        for i, t in enumerate(spec.targets)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["statistic", "firm", "week", "window", "value", "se"])


# --------------------------------------------------------------------------- the fit


@dataclass
class FitResult:
    """What a fit wrote: the weighted posterior of every generation, the calibrated
    scenario (posterior median), the parameter summary and the report's text."""

    spec: FitSpec
    folder: Path
    posterior: pd.DataFrame  # dotted keys, weight, generation
    summary: pd.DataFrame  # per parameter: prior, median, 90% interval, width ratio
    calibrated: Scenario
    epsilons: pd.DataFrame  # generation, epsilon, acceptance
    predictive: pd.DataFrame  # final generation: weight and each target's statistic
    report: str = ""

    def final(self) -> pd.DataFrame:
        """The last generation's weighted particles."""
        return self.posterior[self.posterior["generation"] == self.posterior["generation"].max()]


OnGeneration = Callable[[int, int, float, float], None]
"""Called after each generation as ``(generation, generations, epsilon, acceptance)``."""


def fit(
    fit: FitSpec | str | Path | Mapping[str, Any],
    *,
    out: str | Path,
    executor: Executor | None = None,
    on_generation: OnGeneration | None = None,
) -> FitResult:
    """Run (or resume) an ABC-SMC fit and write its tables, figures and report.

    Parameters
    ----------
    fit : FitSpec, str, Path or mapping
        The fit file (:func:`load`), or its path, or the same keys as a mapping.
    out : str or Path
        The fit folder: ``history.db`` (pyabc's, which makes it resumable),
        ``posterior.parquet``, ``calibrated.yaml``, figures and the report.
    executor : Executor, optional
        Where simulations run (default: this process); any of the runner's
        executors (``trustsim.experiment.make_executor``).
    on_generation : callable, optional
        Progress: ``(generation, generations, epsilon, acceptance rate)``.
    """
    import pyabc

    from trustsim.calibrate.sampler import SeededMappingSampler

    spec = as_fit(fit)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("ABC").setLevel(logging.WARNING)  # the progress bar says it
    logging.getLogger("pyabc").setLevel(logging.WARNING)
    bounds = spec.bounds()
    keys = tuple(bounds)
    prior = pyabc.Distribution(**{
        f"p{i}": pyabc.RV("uniform", low, high - low)
        for i, (low, high) in enumerate(bounds.values())
    })  # fmt: skip
    simulator = Simulator(spec.base, keys, spec.horizon, spec.method.seed,
                          spec.method.replications, tuple(spec.targets))  # fmt: skip
    distance = Distance(tuple(t.se for t in spec.targets))
    observed = {"s": np.array([t.value for t in spec.targets])}
    database = f"sqlite:///{(out / HISTORY).resolve()}"

    def smc() -> Any:
        sampler = SeededMappingSampler(map_=executor.map if executor else map)
        return pyabc.ABCSMC(simulator, prior, distance, population_size=spec.method.population,
                            sampler=sampler)  # fmt: skip

    abc = smc()
    done = _generations_done(out / HISTORY)
    if done <= 0:
        (out / HISTORY).unlink(missing_ok=True)  # none finished, or a half-made database
        abc.new(database, observed)
        done = 0
    method = spec.method
    for generation in range(done, method.generations):
        if generation > 0:
            abc = smc()
            abc.load(database, 1)
            if _last_epsilon(abc) <= method.min_epsilon:
                break
        # each generation from its own seed: a resumed fit draws what an unbroken one would
        abc.sampler.rng = np.random.default_rng(
            child(np.random.SeedSequence(method.seed), 1, generation)
        )
        history = abc.run(max_nr_populations=1, minimum_epsilon=method.min_epsilon)
        if on_generation is not None:
            row = history.get_all_populations().iloc[-1]
            on_generation(generation + 1, method.generations, float(row["epsilon"]),
                          _acceptance(history))  # fmt: skip
    from trustsim.calibrate.report import finish

    return finish(spec, out, pyabc.History(database, _id=1), keys)


def _generations_done(path: Path) -> int:
    """Generations a previous call finished in ``path`` (0 if none, -1 if unreadable)."""
    if not path.exists():
        return 0
    import pyabc

    try:
        history = pyabc.History(f"sqlite:///{path.resolve()}", _id=1)
        return int(history.max_t) + 1 if history.max_t is not None and history.max_t >= 0 else 0
    except Exception:  # an empty or half-made database (a fit killed as it began)
        return -1


def _last_epsilon(abc: Any) -> float:
    return float(abc.history.get_all_populations()["epsilon"].iloc[-1])


def _acceptance(history: Any) -> float:
    last = history.get_all_populations().iloc[-1]
    return float(last["particles"] / last["samples"])
