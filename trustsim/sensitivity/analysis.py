"""Sensitivity indices from SALib, on replication means, with their flags.

:func:`analyze_function` is the generic entry point: any function of named
parameters and a seed, no trust model needed. :func:`analyze_outputs` does the
work for a design already run: indices at the full sample and on growing
sub-samples (:mod:`.convergence`), the replication-noise share, and a flag for
each index that is negative or whose interval includes zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from trustsim.experiment.salib import Problem
from trustsim.experiment.spec import SENSITIVITY as METHODS
from trustsim.sensitivity.convergence import subsample_sizes
from trustsim.sensitivity.noise import (
    DUMMY,
    above_dummy,
    dummy_rows,
    resampled_conf,
    with_pawn_dummy,
)


def main_index(method: str) -> str:
    """The index used for ranking, convergence and flags."""
    return {"sobol": "ST", "morris": "mu_star", "pawn": "pawn_median"}[method]


def flag(value: float, conf: float, index: str) -> str:
    """'negative', 'includes zero' (the interval covers 0) or ''."""
    if not np.isfinite(value):
        return "constant output"
    if index in ("mu", "sigma") or index.startswith("pawn"):
        return ""  # no zero to clear (PAWN is judged against its dummy)
    if value < 0:
        return "negative"
    if np.isfinite(conf) and value - conf <= 0:
        return "includes zero"
    return ""


def noise_share(values: np.ndarray) -> float:
    """Share of the output's variance that is replication noise (NaN with one replication).

    Within-point variance (mean over points of the variance across
    replications) over the variance of all runs, clipped to [0, 1]: with few
    replications the estimate itself is noisy and can exceed 1.
    """
    if values.shape[1] < 2:
        return float("nan")
    total = values.var(ddof=1)
    if total == 0:
        return 0.0
    return float(min(1.0, values.var(axis=1, ddof=1).mean() / total))


def noise_parts(values: np.ndarray) -> tuple[float, float]:
    """The replication noise split in two (NaN, NaN with one replication): the seed's
    main effect and the seed x parameter interaction, each as a share of the variance.

    ``values`` is (points, replications) with replication r on the same random streams
    at every point (common random numbers). A two-way decomposition without
    replication: the seed's main effect is the spread of the replications' means over
    points; it shifts every point alike and cancels from the indices. The interaction
    is what is left once point and seed means are removed; it changes the indices, so
    it is the part worth a warning. The two add up to :func:`noise_share`, clipped at 1
    as it is.
    """
    points, reps = values.shape
    if reps < 2:
        return float("nan"), float("nan")
    grand = values.mean()
    total = float(((values - grand) ** 2).sum())
    if total == 0:
        return 0.0, 0.0
    by_point = values.mean(axis=1, keepdims=True)
    by_seed = values.mean(axis=0, keepdims=True)
    # the same degrees-of-freedom correction as noise_share, so the parts add up to it
    scale = (points * reps - 1) / (points * (reps - 1)) / total
    seed = scale * points * float(((by_seed - grand) ** 2).sum())
    interaction = scale * float(((values - by_point - by_seed + grand) ** 2).sum())
    if seed + interaction > 1:  # few replications: clipped at 1 as noise_share is
        seed, interaction = seed / (seed + interaction), interaction / (seed + interaction)
    return seed, interaction


def analyze_outputs(
    problem: Problem,
    x: np.ndarray,
    y: Mapping[str, np.ndarray],
    *,
    bootstrap: int = 200,
    conf_level: float = 0.95,
    seed: int = 1,
) -> pd.DataFrame:
    """Indices of every output, at the full sample and on growing sub-samples.

    ``x`` has one row per design point; each ``y[output]`` is (points, replications),
    rows in design order. Returns a tidy table: output, factor, index, value, conf
    (the interval's half-width: over design points and replications together when
    there are two replications or more, see :mod:`.noise`), conf_points (SALib's,
    over design points only), n (base sample size), flag, noise_share, seed_share,
    interaction_share. A ``dummy`` factor's rows give what noise alone produces.
    """
    if problem.method == "pawn":
        problem, x = with_pawn_dummy(problem, x, seed)
    block = problem.block()
    n = x.shape[0] // block
    frames = []
    for output, values in y.items():
        values = np.asarray(values, dtype=float).reshape(x.shape[0], -1)
        seed_part, interaction = noise_parts(values)
        sizes = subsample_sizes(n)
        for size in sizes:
            # PAWN is slow to resample (about 0.1 s a time): its intervals where
            # convergence is judged, at the two largest sizes
            resample = problem.method != "pawn" or size in sizes[-2:]
            table = indices_of(problem, x[: size * block], values[: size * block],
                               bootstrap=bootstrap, conf_level=conf_level, seed=seed,
                               resample=resample)  # fmt: skip
            table.insert(0, "output", output)
            table["n"] = size
            table["noise_share"] = seed_part + interaction  # noise_share, not computed twice
            table["seed_share"] = seed_part
            table["interaction_share"] = interaction
            frames.append(table)
    return pd.concat(frames, ignore_index=True)


def indices_of(
    problem: Problem,
    x: np.ndarray,
    values: np.ndarray,
    *,
    bootstrap: int,
    conf_level: float,
    seed: int,
    resample: bool = True,
) -> pd.DataFrame:
    """One output's indices on one (sub-)sample: its rows of :func:`analyze_outputs`
    (factor, index, value, conf, conf_points, flag), the dummy's included. Without
    ``resample``, only SALib's own intervals (none for PAWN, mu and sigma)."""
    means = values.mean(axis=1)
    if np.ptp(means) == 0:  # a constant output has no sensitivity to share out
        table = problem.analyze(
            x, np.arange(len(x), dtype=float), bootstrap=10, conf_level=conf_level, seed=seed
        )
        table[["value", "conf"]] = np.nan
        table["conf_points"] = np.nan
        return with_flags(table)
    table = problem.analyze(x, means, bootstrap=bootstrap, conf_level=conf_level, seed=seed)
    table["conf_points"] = table["conf"]
    if resample and (values.shape[1] > 1 or table["conf"].isna().any()):
        resampled = resampled_conf(
            problem, x, values, bootstrap=bootstrap, conf_level=conf_level, seed=seed
        )
        keys = pd.MultiIndex.from_frame(table[["factor", "index"]])
        resampled = pd.Series(resampled.reindex(keys).to_numpy(), index=table.index)
        if values.shape[1] > 1:
            table["conf"] = resampled
        else:
            table["conf"] = table["conf"].fillna(resampled)
            table["conf_points"] = table["conf"]
    dummy = dummy_rows(problem, values, bootstrap=bootstrap, conf_level=conf_level, seed=seed)
    if len(dummy):
        dummy["conf_points"] = dummy["conf"]
        table = pd.concat([table, dummy], ignore_index=True)
    return with_flags(table)


def with_flags(table: pd.DataFrame) -> pd.DataFrame:
    """The table with its ``flag`` column: :func:`flag`, then 'not above the dummy' for
    an index whose interval does not clear the dummy's, and 'dummy' on the dummy."""
    table["flag"] = [
        flag(v, c, i) for v, c, i in zip(table["value"], table["conf"], table["index"], strict=True)
    ]
    table.loc[~above_dummy(table) & (table["flag"] == ""), "flag"] = "not above the dummy"
    table.loc[table["factor"] == DUMMY, "flag"] = "dummy"
    return table


def analyze_function(
    func: Callable[[dict[str, float], int], Mapping[str, float]],
    ranges: Mapping[str, tuple[float, float]],
    *,
    method: str = "sobol",
    n: int,
    seed: int,
    replications: int = 1,
    second_order: bool = False,
    bootstrap: int = 200,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Sensitivity indices of any function, without the trust model.

    Parameters
    ----------
    func
        ``func(params, seed) -> {output: value}``; called once per sample
        point and replication (the replication's seed is the same at every
        point: common random numbers).
    ranges
        ``{parameter: (low, high)}``, sampled uniformly.
    method
        ``sobol`` (``n`` a power of two), ``morris`` or ``pawn``.

    Returns
    -------
    pandas.DataFrame
        One row per output and parameter. Sobol: ``S1``, ``S1_conf``, ``ST``,
        ``ST_conf``. Morris: ``mu_star``, ``mu_star_conf``, ``sigma``. PAWN:
        ``pawn_median`` and friends. Each has the output's ``noise_share``, split
        into ``seed_share`` and ``interaction_share`` (:func:`noise_parts`).
    """
    if method not in METHODS:
        raise ValueError(f"method: must be one of {', '.join(METHODS)} (got {method!r})")
    if method == "sobol" and n & (n - 1):
        raise ValueError(f"n: Sobol sampling needs a power of two (got {n})")
    problem = Problem(
        list(ranges),
        [(float(lo), float(hi)) for lo, hi in ranges.values()],
        method,
        second_order=second_order,
    )
    root = np.random.SeedSequence(seed)
    x = problem.sample(n, np.random.default_rng(root.spawn(1)[0]))
    rep_seeds = [int(s.generate_state(1)[0]) for s in root.spawn(replications)]
    outputs: dict[str, np.ndarray] = {}
    for p, row in enumerate(x):
        params = dict(zip(problem.names, map(float, row), strict=True))
        for r, rep_seed in enumerate(rep_seeds):
            for name, value in func(params, rep_seed).items():
                outputs.setdefault(name, np.full((len(x), replications), np.nan))[p, r] = value
    full = analyze_outputs(
        problem, x, outputs, bootstrap=bootstrap, conf_level=conf_level, seed=seed
    )
    return wide_table(full)


def wide_table(indices: pd.DataFrame) -> pd.DataFrame:
    """The indices at the final sample size as SALib users read them: one row per
    output and parameter, a column per index and its ``_conf`` (S1, S1_conf, ST,
    ST_conf; S2 pairs as their own rows, ``a x b``), and the noise shares."""
    final = indices[indices["n"] == indices["n"].max()]
    wide = final.pivot_table(
        index=["output", "factor"], columns="index", values="value", sort=False, dropna=False
    )
    conf = final.dropna(subset=["conf"]).pivot_table(
        index=["output", "factor"], columns="index", values="conf", sort=False
    )
    wide = wide.join(conf.add_suffix("_conf"))
    wide = wide.reset_index().rename(columns={"factor": "parameter"})
    for column in ("noise_share", "seed_share", "interaction_share"):
        wide[column] = wide["output"].map(final.groupby("output", sort=False)[column].first())
    wide.columns.name = None
    return wide
