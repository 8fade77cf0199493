"""Scalar outputs of a sensitivity experiment, read from its runs in design order."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

import numpy as np
import pandas as pd

from trustsim.config import ConfigError
from trustsim.experiment.salib import Problem
from trustsim.experiment.spec import Analysis, Experiment, OutputSpec
from trustsim.experiment.store import OK, ExperimentResult
from trustsim.metrics import overtake_step
from trustsim.sensitivity.analysis import indices_of
from trustsim.sensitivity.noise import with_pawn_dummy


def analysis_of(experiment: Experiment) -> Analysis:
    """The experiment's ``analysis`` section (a sensitivity experiment must have one)."""
    if experiment.analysis is None:
        raise ConfigError("analysis.outputs: a sensitivity experiment needs outputs to analyse")
    return experiment.analysis


def output_value(ts: pd.DataFrame, spec: OutputSpec, horizon: int) -> float:
    """One scalar of :class:`~trustsim.experiment.spec.OutputSpec` from a run's timeseries."""
    steps, by_firm = firm_series(ts, spec.metric)
    return spec_value(steps, by_firm, spec, horizon)


def firm_series(ts: pd.DataFrame, metric: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A run's ``metric`` per firm, over its steps (in step order)."""
    firms = ts["firm"].to_numpy()
    names = list(pd.unique(firms))
    m, steps = len(names), ts["step"].to_numpy()
    grid = firms.reshape(-1, m) if m and len(firms) % m == 0 else None
    if (
        grid is not None
        and (grid == np.array(names, dtype=object)).all()
        and (np.diff(steps[::m]) > 0).all()
    ):  # rows step by step, firms in the same order: as the runner writes them
        values = ts[metric].to_numpy().reshape(-1, m)
        return steps[::m], {str(name): values[:, f] for f, name in enumerate(names)}
    table = ts.pivot(index="step", columns="firm", values=metric)
    return table.index.to_numpy(), {str(f): table[f].to_numpy() for f in table.columns}


def spec_value(
    steps: np.ndarray, by_firm: dict[str, np.ndarray], spec: OutputSpec, horizon: int
) -> float:
    """An output from per-firm series: the final value or the mean over steps, of a firm
    or of its gap to another; or the week ``firm`` overtakes ``minus`` for good."""
    if spec.overtake:
        leader = cast(str, spec.minus)  # the spec requires minus with overtake
        week = overtake_step(by_firm[leader], by_firm[spec.firm])
        return float(horizon + 1 if week is None else steps[week])
    pick = (lambda v: v[-1]) if spec.over == "final" else (lambda v: v.mean())
    value = float(pick(by_firm[spec.firm]))
    return value - float(pick(by_firm[spec.minus])) if spec.minus else value


def experiment_outputs(result: ExperimentResult, experiment: Experiment) -> dict[str, np.ndarray]:
    """Each analysis output as an array (design points, replications), in design order."""
    runs = result.runs
    failed = runs[runs["status"] != OK]
    if len(failed):
        raise RuntimeError(
            f"{len(failed)} runs failed (first: {failed['run_id'].iloc[0]}: "
            f"{failed['error'].iloc[0]}); resume the sweep before analysing"
        )
    specs = analysis_of(experiment).outputs
    metrics = sorted({s.metric for s in specs})
    points, reps = int(runs["design_id"].max()) + 1, experiment.replications
    values = {s.name: np.full((points, reps), np.nan) for s in specs}
    for run_id, point, replication in zip(
        runs["run_id"], runs["design_id"], runs["replication"], strict=True
    ):
        ts = result.timeseries(columns=metrics, run_ids=[str(run_id)])
        series = {metric: firm_series(ts, metric) for metric in metrics}  # one pivot each
        for spec in specs:
            steps, by_firm = series[spec.metric]
            values[spec.name][int(point), int(replication)] = spec_value(
                steps, by_firm, spec, experiment.horizon
            )
    return values


def design_matrix(result: ExperimentResult, problem: Problem) -> np.ndarray:
    """The sampled parameter values per design point, in design order."""
    points = result.runs.groupby("design_id").first().sort_index()
    return points[[f"param.{name}" for name in problem.names]].to_numpy(dtype=float)


def censored_share(values: np.ndarray, horizon: int) -> float:
    """Share of runs in which an overtaking never happened."""
    return float(np.mean(values > horizon))


HAPPENS = "{}_happens"
WEEK_IF = "{}_week_if_it_happens"
CONDITIONAL_MIN_RUNS = 20
"""PAWN needs this many runs where the event happened to say anything about its week."""


def split_censored(
    values: dict[str, np.ndarray], experiment: Experiment
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A censored output is not a number: each overtake output that never happened in
    some runs is replaced by whether it happens by the horizon (0 or 1; its replication
    mean is the probability), and its weeks are set aside for :func:`week_if_it_happens`.
    Outputs censored in no run, and every output of a PAWN design, stay as they are."""
    out, weeks = dict(values), dict[str, np.ndarray]()
    if experiment.design.kind == "pawn":  # PAWN compares distributions: the spike is fine
        return out, weeks
    for spec in analysis_of(experiment).outputs:
        v = values[spec.name]
        if spec.overtake and censored_share(v, experiment.horizon) > 0:
            del out[spec.name]
            out[HAPPENS.format(spec.name)] = (v <= experiment.horizon).astype(float)
            weeks[spec.name] = v
    return out, weeks


def week_if_it_happens(
    problem: Problem,
    x: np.ndarray,
    weeks: dict[str, np.ndarray],
    horizon: int,
    n: int,
    *,
    bootstrap: int = 200,
    conf_level: float = 0.95,
    seed: int = 1,
) -> pd.DataFrame:
    """PAWN indices of the week among the runs where the event happened (PAWN compares
    distributions over slices of each factor, so it needs no value where the event
    never came, as Sobol would). Tidy rows like :func:`analyze_outputs`' at base sample
    size ``n``, with ``runs``, the number of such runs; an output with too few such
    runs is left out. Intervals come from resampling the runs; a dummy column gives
    PAWN's floor."""
    frames = []
    pawn = replace(problem, method="pawn")
    for name, v in weeks.items():
        happened = (v <= horizon).ravel()
        xs = np.repeat(x, v.shape[1], axis=0)[happened]
        ys = v.ravel()[happened]
        if len(ys) < CONDITIONAL_MIN_RUNS or np.ptp(ys) == 0:
            continue
        extended, xs = with_pawn_dummy(pawn, xs, seed)
        table = indices_of(
            extended, xs, ys[:, None], bootstrap=bootstrap, conf_level=conf_level, seed=seed
        )
        table.insert(0, "output", WEEK_IF.format(name))
        table["n"] = n
        table["runs"] = len(ys)
        frames.append(table)
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)
