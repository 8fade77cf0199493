"""A whole sensitivity study: run the sample through the runner, analyse, write."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pandas as pd

from trustsim.experiment.runner import OnResult
from trustsim.experiment.salib import problem_for
from trustsim.experiment.spec import Experiment
from trustsim.sensitivity.analysis import analyze_outputs, main_index, wide_table
from trustsim.sensitivity.crosscheck import feature_scores
from trustsim.sensitivity.outputs import (
    analysis_of,
    censored_share,
    design_matrix,
    experiment_outputs,
    split_censored,
    week_if_it_happens,
)
from trustsim.sensitivity.report import report

# SALib's bootstrap seeds numpy's legacy RandomState (seeds below 2**32); the run's
# root entropy is folded into this range (unchanged since v1, so intervals reproduce)
BOOTSTRAP_SEEDS = 2**31 - 1


def run_sensitivity(
    experiment: Experiment,
    *,
    out: str | Path,
    executor: Executor | None = None,
    source: str = "",
    backend: str = "custom",
    on_result: OnResult | None = None,
) -> pd.DataFrame:
    """Run (or resume) the sample through the experiment runner, then analyse it.

    Parameters
    ----------
    experiment : Experiment
        An experiment with a ``sobol``, ``morris`` or ``pawn`` design and an
        ``analysis`` section naming the outputs.
    out : str or Path
        The results folder; a rerun resumes what is missing.
    executor : Executor, optional
        Where runs execute (default: one process per core).
    source, backend : str
        Recorded in the manifest: the experiment file and the backend's name.
    on_result : callable, optional
        Called as ``on_result(record, done, total)`` after each run.

    Returns
    -------
    pandas.DataFrame
        The tidy indices: output, method, factor, index, value, conf, n,
        noise_share and flag, at the full sample and on sub-samples.
        ``sensitivity.parquet``, ``outputs.parquet`` (the scalar outputs per
        run), the figures and ``report.md`` are written into ``out``.
    """
    from trustsim.experiment import run_experiment
    from trustsim.io import atomic_write, write_parquet
    from trustsim.plots import save_sensitivity_figures

    out = Path(out)
    result = run_experiment(
        experiment, out=out, executor=executor, source=source, backend=backend, on_result=on_result
    )
    problem = problem_for(experiment)
    values = experiment_outputs(result, experiment)
    analysed, weeks = split_censored(values, experiment)
    analysis = analysis_of(experiment)
    seed = int(result.manifest["root_entropy"]) % BOOTSTRAP_SEEDS
    x = design_matrix(result, problem)
    indices = analyze_outputs(
        problem,
        x,
        analysed,
        bootstrap=analysis.bootstrap,
        conf_level=analysis.conf_level,
        seed=seed,
    )
    indices.insert(1, "method", problem.method)
    n = int(indices["n"].max())
    conditional = week_if_it_happens(
        problem, x, weeks, experiment.horizon, n,
        bootstrap=analysis.bootstrap, conf_level=analysis.conf_level, seed=seed,
    )  # fmt: skip
    if len(conditional):
        conditional.insert(1, "method", "pawn")
        indices = pd.concat([indices, conditional], ignore_index=True)
    if analysis.feature_scoring:
        scores = feature_scores(problem, x, analysed, seed=seed).assign(
            method="feature_scoring", n=n, flag=""
        )
        indices = pd.concat([indices, scores], ignore_index=True)
    write_parquet(out / "sensitivity.parquet", indices)
    main = indices[indices["method"] == problem.method]  # without PAWN's and EMA's rows
    wide = wide_table(main)
    if analysis.feature_scoring:
        score = indices[indices["method"] == "feature_scoring"].set_index(["output", "factor"])
        keys = pd.MultiIndex.from_frame(wide[["output", "parameter"]])
        wide["feature_score"] = score["value"].reindex(keys).to_numpy()
    write_parquet(out / "indices_wide.parquet", wide)
    atomic_write(out / "indices_wide.csv", lambda tmp: wide.to_csv(tmp, index=False))
    per_run = pd.DataFrame({name: v.ravel() for name, v in values.items()})
    per_run.insert(
        0,
        "replication",
        np.tile(np.arange(experiment.replications), len(per_run) // experiment.replications),
    )
    per_run.insert(
        0,
        "design_id",
        np.repeat(np.arange(len(per_run) // experiment.replications), experiment.replications),
    )
    write_parquet(out / "outputs.parquet", per_run)
    save_sensitivity_figures(main, problem.method, main_index(problem.method), out)
    censored = {
        s.name: censored_share(values[s.name], experiment.horizon)
        for s in analysis.outputs
        if s.overtake
    }
    text = report(indices, experiment, censored)
    atomic_write(out / "report.md", lambda tmp: tmp.write_text(text))
    return indices
