"""The best setting of one or two levers (``trustsim optimize``, ODD 8.5).

A policy study with an ``optimize:`` block runs one policy per grid value of the
levers, in every market, on common random numbers (so neighbouring values differ by
their effect, not by luck). Each value's criterion is computed from the acting firm's
NPV at the horizon:

- ``mean``: the mean over markets and replications;
- ``percentile``: the q-th percentile over markets of the market's mean (robust:
  the value that does best in the worse markets);
- ``regret``: minus the largest shortfall, over markets, from the best value there.

With one lever the criterion curve is smoothed (scipy's smoothing spline, its
smoothness chosen by generalised cross-validation) and its maximum found by scipy's
bounded scalar minimiser; with two, the best grid cell is taken. The interval on the
best value comes from resampling the replications (the same resample for every value
and market, keeping the pairing), and a value is "within the noise" of the best where
the 95% interval of its criterion minus the best's includes 0.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import interpolate, optimize

from trustsim.io import write_parquet
from trustsim.policy import PolicyResult, acting_firm, compare
from trustsim.policy.spec import OptimizeSpec, PolicyExperiment, as_study

BOOTSTRAP = 400
OPTIMUM_COLUMNS = [
    "lever", "best", "ci_low", "ci_high", "flat_low", "flat_high", "grid_step", "criterion",
    "value",
]  # fmt: skip


@dataclass
class OptimumResult:
    """The best setting, its response curve and the policy study behind them."""

    study: PolicyExperiment
    optimum: pd.DataFrame  # OPTIMUM_COLUMNS, one row per lever
    response: pd.DataFrame  # per grid value: the levers, criterion mean, ci_low, ci_high, flat
    policy: PolicyResult


def criterion_curve(y: np.ndarray, criterion: str, q: float = 10.0) -> np.ndarray:
    """Each grid value's criterion from ``y[value, market, replication]`` (higher is
    better)."""
    by_market = y.mean(axis=2)
    if criterion == "mean":
        return by_market.mean(axis=1)
    if criterion == "percentile":
        return np.percentile(by_market, q, axis=1)
    if criterion == "regret":
        return -(by_market.max(axis=0, keepdims=True) - by_market).max(axis=1)
    raise ValueError(f"criterion: {criterion!r}; allowed: mean, percentile, regret")


def best_value(x: np.ndarray, curve: np.ndarray) -> float:
    """The maximum of a one-lever criterion curve: a smoothing spline through the grid
    (GCV smoothness), maximised by bounded search around its best grid value."""
    if len(x) < 5:
        return float(x[int(np.argmax(curve))])
    spline = interpolate.make_smoothing_spline(x, curve)
    fine = np.linspace(x[0], x[-1], 20 * len(x) + 1)
    start = fine[int(np.argmax(spline(fine)))]
    step = x[1] - x[0]
    low, high = max(x[0], start - step), min(x[-1], start + step)
    if high - low < 1e-12:
        return float(start)
    found = optimize.minimize_scalar(lambda v: -float(spline(v)), bounds=(low, high),
                                     method="bounded")  # fmt: skip
    return float(found.x) if spline(found.x) >= spline(start) else float(start)


def find_optimum(
    points: np.ndarray,
    y: np.ndarray,
    criterion: str = "mean",
    q: float = 10.0,
    seed: int = 0,
    boot: int = BOOTSTRAP,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    """The best lever values, their 95% bootstrap interval, and the response.

    ``points[value, lever]`` are the grid (one or two levers, a full grid with the
    first lever slowest); ``y[value, market, replication]`` the outcome. Returns the
    best values per lever, their intervals (``ci[lever] = (low, high)``), the grid
    values within the noise of the best (a boolean per value), and the response
    table (criterion with a 95% band per value).
    """
    rng = np.random.default_rng(seed)
    curve = criterion_curve(y, criterion, q)
    reps = y.shape[2]
    draws = [rng.integers(0, reps, reps) for _ in range(boot)]
    curves = np.array([criterion_curve(y[:, :, d], criterion, q) for d in draws])
    if points.shape[1] == 1:
        x = points[:, 0]
        best = np.array([best_value(x, curve)])
        picks = np.array([[best_value(x, c)] for c in curves])
    else:
        best = points[int(np.argmax(curve))]
        picks = points[np.argmax(curves, axis=1)]
    ci = np.percentile(picks, [2.5, 97.5], axis=0).T
    top = int(np.argmax(curve))
    gap = curves - curves[:, [top]]
    flat = np.percentile(gap, 97.5, axis=0) >= 0
    response = pd.DataFrame({
        "criterion": curve,
        "ci_low": np.percentile(curves, 2.5, axis=0),
        "ci_high": np.percentile(curves, 97.5, axis=0),
        "within_noise": flat,
    })  # fmt: skip
    return best, ci, flat, response


def outcome_array(result: PolicyResult, spec: OptimizeSpec) -> np.ndarray:
    """``y[value, market, replication]``: the acting firm's metric at the horizon."""
    study = result.study
    firm = acting_firm(study, study.baseline_policy)
    ts = result.timeseries()
    final = ts[(ts["step"] == study.horizon) & (ts["firm"] == firm)]
    table = final.merge(result.runs[["run_id", "policy", "scenario", "replication"]], on="run_id")
    cube = table.pivot_table(index=["policy", "scenario"], columns="replication",
                             values=spec.metric)  # fmt: skip
    policies = list(study.policies)
    markets = list(dict.fromkeys(result.runs["scenario"]))
    cube = cube.reindex(pd.MultiIndex.from_product([policies, markets]))
    return cube.to_numpy().reshape(len(policies), len(markets), -1)


def analyse(result: PolicyResult) -> OptimumResult:
    """The optimum of a finished optimize study; writes optimum.parquet and response.parquet."""
    study = result.study
    spec = study.optimize
    if spec is None:
        raise ValueError("optimize: this study has no optimize block")
    grid = [study.policies[p] for p in study.policies]
    levers = list(spec.levers)
    points = np.array([[point[k] for k in levers] for point in grid], dtype=float)
    y = outcome_array(result, spec)
    seed = study.seed or 0
    best, ci, flat, response = find_optimum(points, y, spec.criterion, spec.percentile, seed)
    response = pd.concat([pd.DataFrame(points, columns=levers), response], axis=1)
    top = int(np.argmax(response["criterion"]))
    rows = []
    for i, lever in enumerate(levers):
        inside = points[flat, i]
        low, high = spec.levers[lever]
        rows.append((
            lever, best[i], ci[i, 0], ci[i, 1], inside.min(), inside.max(),
            (high - low) / (spec.points - 1), criterion_name(spec),
            float(response["criterion"].iloc[top]),
        ))  # fmt: skip
    optimum = pd.DataFrame(rows, columns=OPTIMUM_COLUMNS)
    write_parquet(result.folder / "optimum.parquet", optimum)
    write_parquet(result.folder / "response.parquet", response)
    return OptimumResult(study, optimum, response, result)


def criterion_name(spec: OptimizeSpec) -> str:
    """``mean npv``, ``p10 npv`` or ``regret npv``: the criterion as a table cell."""
    what = {"mean": "mean", "percentile": f"p{spec.percentile:g}", "regret": "regret"}
    return f"{what[spec.criterion]} {spec.metric}"


def run(
    study: PolicyExperiment | str | Path,
    *,
    out: str | Path,
    executor: Executor | None = None,
    **kwargs: object,
) -> OptimumResult:
    """Run (or resume) an optimize study (:func:`trustsim.policy.compare` does the runs,
    paired and resumable) and find the best setting."""
    study = as_study(study)
    if study.optimize is None:
        raise ValueError("optimize: the study file has no optimize: block")
    result = compare(study, out=out, executor=executor, **kwargs)  # type: ignore[arg-type]
    return analyse(result)
