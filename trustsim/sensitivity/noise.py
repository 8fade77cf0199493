"""Replication noise in the indices: intervals that include it, and a dummy factor.

Two things a stochastic model adds to a sensitivity analysis (ODD 8.8):

* **Intervals.** SALib bootstraps the design points only. Each replication's seed
  is common to every point (common random numbers), so the seed x parameter
  interaction is a random function of the parameters that resampling points does
  not see. :func:`resampled_conf` resamples design units (Sobol base points, Morris
  trajectories, PAWN rows) and replications together: the pigeonhole bootstrap of
  Owen (2007), which is mildly conservative for crossed designs.
* **A dummy factor** (Khorashadi Zadeh et al. 2017): a factor with no effect, whose
  index shows what noise and the estimator alone produce. Under common random
  numbers a design column the model ignores gives exactly zero, so the dummy is
  computed instead: a factor that only re-draws the random numbers. Its output at a
  point is the same point's mean over other replications (:func:`redrawn_noise`).
  In an agent-based model any parameter change can re-route the random path, so a
  factor whose index is not above the dummy's may be doing nothing more. PAWN's
  dummy is the classic one: an extra uniform column the output does not depend on.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import numpy as np
import pandas as pd
from SALib.analyze.sobol import first_order, total_order
from scipy.stats import norm

from trustsim.experiment.salib import Problem

DUMMY = "(dummy)"
"""The dummy factor's name in the tables (in brackets: no parameter can be named so)."""

SCREENED = ("S1", "ST", "mu_star", "pawn_median")
"""Indices judged against the dummy (the others, mu and sigma, have no zero to clear)."""


@contextmanager
def quiet_constants() -> Iterator[None]:
    """Silence SALib's warning for a resample whose A and B rows happen to be constant
    (likely for a rare event on a small sub-sample; the resample counts as it is)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Constant values encountered")
        yield


def unit_rows(problem: Problem, units: np.ndarray) -> np.ndarray:
    """The design rows of the given units (Sobol base points, Morris trajectories or
    PAWN rows), in order, each unit's rows kept together."""
    block = problem.block()
    return (units[:, None] * block + np.arange(block)).ravel()


def resampled_conf(
    problem: Problem,
    x: np.ndarray,
    values: np.ndarray,
    *,
    bootstrap: int,
    conf_level: float,
    seed: int,
) -> pd.Series:
    """Half-widths of every index, from resampling units and replications together.

    ``values`` is (rows, replications). Each resample draws the design units and the
    replications with replacement, averages the drawn replications, and recomputes
    the indices with SALib; the half-width is z times their standard deviation, as
    SALib reports its own. With one replication this is SALib's point bootstrap.
    Returns a Series indexed by (factor, index).
    """
    rng = np.random.default_rng(seed)
    units = x.shape[0] // problem.block()
    reps = values.shape[1]
    draws = []
    with quiet_constants():
        for _ in range(bootstrap):
            rows = unit_rows(problem, rng.integers(units, size=units))
            means = values[rows][:, rng.integers(reps, size=reps)].mean(axis=1)
            if np.ptp(means) == 0:
                continue
            table = problem.analyze(x[rows], means, bootstrap=2, conf_level=conf_level, seed=seed)
            draws.append(table.set_index(["factor", "index"])["value"])
    if len(draws) < 2:
        return pd.Series(dtype=float)
    z = norm.ppf(0.5 + conf_level / 2)
    return z * pd.concat(draws, axis=1).std(axis=1, ddof=1)


def redrawn_noise(values: np.ndarray) -> np.ndarray:
    """At each row, how the replication mean would move if the random numbers were
    drawn afresh: the difference between the means of the even and odd replications,
    centred (the seed's main effect cancels under common random numbers) and scaled
    to the variance of the difference between two independent R-replication means.
    Needs two replications or more."""
    reps = values.shape[1]
    first, second = values[:, 0::2], values[:, 1::2]
    difference = first.mean(axis=1) - second.mean(axis=1)
    # Var(first - second) = s2 (1/R1 + 1/R2); two independent R-means differ by 2 s2 / R
    scale = np.sqrt((2 / reps) / (1 / first.shape[1] + 1 / second.shape[1]))
    return scale * (difference - difference.mean())


def _dummy_indices(problem: Problem, means: np.ndarray, noise: np.ndarray) -> dict[str, float]:
    """The dummy's indices, with the dummy's design rows built from ``noise``."""
    block = problem.block()
    if problem.method == "sobol":
        a, b = means[0::block], means[block - 1 :: block]
        redrawn = a + noise[0::block]
        return {"S1": float(first_order(a, redrawn, b)), "ST": float(total_order(a, redrawn, b))}
    # Morris: one elementary effect per trajectory, a step of delta that only re-draws
    delta = problem.levels / (2 * (problem.levels - 1))
    effects = noise[0::block] / delta
    return {
        "mu_star": float(np.abs(effects).mean()),
        "mu": float(effects.mean()),
        "sigma": float(effects.std(ddof=1)),
    }


def dummy_rows(
    problem: Problem,
    values: np.ndarray,
    *,
    bootstrap: int,
    conf_level: float,
    seed: int,
) -> pd.DataFrame:
    """The re-drawing dummy's indices with their point-bootstrap intervals (Sobol and
    Morris, two replications or more; empty otherwise)."""
    if problem.method == "pawn" or values.shape[1] < 2:
        return pd.DataFrame(columns=["factor", "index", "value", "conf"])
    means, noise = values.mean(axis=1), redrawn_noise(values)
    rng = np.random.default_rng(seed)
    units = values.shape[0] // problem.block()
    with quiet_constants():
        estimate = _dummy_indices(problem, means, noise)
        draws = [
            _dummy_indices(problem, means[rows], noise[rows])
            for rows in (
                unit_rows(problem, rng.integers(units, size=units)) for _ in range(bootstrap)
            )
        ]
    z = norm.ppf(0.5 + conf_level / 2)
    spread = pd.DataFrame(draws).std(ddof=1)
    return pd.DataFrame(
        [(DUMMY, index, value, z * spread[index]) for index, value in estimate.items()],
        columns=["factor", "index", "value", "conf"],
    )


def with_pawn_dummy(problem: Problem, x: np.ndarray, seed: int) -> tuple[Problem, np.ndarray]:
    """PAWN's dummy: an extra U(0, 1) column that no output depends on."""
    column = np.random.default_rng(seed).uniform(size=(x.shape[0], 1))
    groups = None if problem.groups is None else [*problem.groups, DUMMY]
    extended = replace(
        problem, names=[*problem.names, DUMMY], bounds=[*problem.bounds, (0.0, 1.0)], groups=groups
    )
    return extended, np.hstack([x, column])


def above_dummy(table: pd.DataFrame) -> pd.Series:
    """Per row: whether the index's interval lies above the dummy's (True where there is
    no dummy to compare with, or the index is not one that is screened)."""
    dummy = table[table["factor"] == DUMMY].set_index("index")
    ceiling = (dummy["value"] + dummy["conf"].fillna(0)).reindex(table["index"]).to_numpy()
    floor = (table["value"] - table["conf"].fillna(0)).to_numpy()
    screened = table["index"].isin(SCREENED).to_numpy() & np.isfinite(ceiling)
    return pd.Series(~screened | (floor > ceiling), index=table.index)
