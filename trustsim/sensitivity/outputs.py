"""Scalar outputs of a sensitivity experiment, read from its runs in design order."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trustsim.config import ConfigError
from trustsim.experiment.salib import Problem
from trustsim.experiment.spec import Analysis, Experiment, OutputSpec
from trustsim.experiment.store import OK, ExperimentResult
from trustsim.metrics import overtake_step


def analysis_of(experiment: Experiment) -> Analysis:
    """The experiment's ``analysis`` section (a sensitivity experiment must have one)."""
    if experiment.analysis is None:
        raise ConfigError("analysis.outputs: a sensitivity experiment needs outputs to analyse")
    return experiment.analysis


def output_value(ts: pd.DataFrame, spec: OutputSpec, horizon: int) -> float:
    """One scalar of :class:`~trustsim.experiment.spec.OutputSpec` from a run's timeseries."""
    series = ts.pivot(index="step", columns="firm", values=spec.metric)
    if spec.overtake:
        week = overtake_step(series[spec.minus].to_numpy(), series[spec.firm].to_numpy())
        return float(horizon + 1 if week is None else series.index[week])
    pick = (lambda s: s.iloc[-1]) if spec.over == "final" else (lambda s: s.mean())
    value = float(pick(series[spec.firm]))
    return value - float(pick(series[spec.minus])) if spec.minus else value


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
        for spec in specs:
            values[spec.name][int(point), int(replication)] = output_value(
                ts, spec, experiment.horizon
            )
    return values


def design_matrix(result: ExperimentResult, problem: Problem) -> np.ndarray:
    """The sampled parameter values per design point, in design order."""
    points = result.runs.groupby("design_id").first().sort_index()
    return points[[f"param.{name}" for name in problem.names]].to_numpy(dtype=float)


def censored_share(values: np.ndarray, horizon: int) -> float:
    """Share of runs in which an overtaking never happened."""
    return float(np.mean(values > horizon))
