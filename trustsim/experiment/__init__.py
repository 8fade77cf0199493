"""Experiments: sweeps and replications of scenarios, on any executor, resumable.

>>> from trustsim import experiment
>>> exp = experiment.load("experiments/strategy_grid.yaml")      # doctest: +SKIP
>>> result = experiment.run_experiment(exp, out="results/grid")  # doctest: +SKIP
>>> result.runs, result.timeseries()                             # doctest: +SKIP
"""

from trustsim.experiment.design import plan
from trustsim.experiment.executors import BACKENDS, SerialExecutor, capped, make_executor
from trustsim.experiment.runner import ExperimentFailed, run_experiment, status
from trustsim.experiment.spec import Experiment, load
from trustsim.experiment.store import ExperimentResult, open_results

__all__ = [
    "BACKENDS",
    "Experiment",
    "ExperimentFailed",
    "ExperimentResult",
    "SerialExecutor",
    "capped",
    "load",
    "make_executor",
    "open_results",
    "plan",
    "run_experiment",
    "status",
]
