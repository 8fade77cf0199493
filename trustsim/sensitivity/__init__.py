"""Global sensitivity analysis with SALib, made right for a noisy model.

What goes wrong around the estimators, and what this module does about it:

- **Order.** SALib reads outputs by row position. Samples become experiment
  design points, and results come back in design order, never completion order.
- **One ``second_order`` flag** drives both sampling and analysis.
- **Sample size.** Sobol needs a power of two, checked when the file loads.
- **Noise.** With replications per point (common random numbers), the share
  of output variance that is replication noise is reported, split into the
  seed's main effect (it cancels from the indices) and the seed x parameter
  interaction (it moves them); indices are computed on replication means, and
  a warning is given in words when the interaction is large.
- **Convergence.** Indices are recomputed on growing sub-samples (powers of
  two) with bootstrap intervals. An index that is negative, or whose interval
  includes zero, is flagged.

The generic entry point :func:`analyze_function` needs no trust model at all.

Layout: :mod:`.analysis` (indices and flags; the generic :func:`analyze_function`),
:mod:`.convergence` (sub-samples), :mod:`.outputs` (scalar outputs of runs),
:mod:`.report` (the report in words) and :mod:`.study` (:func:`run_sensitivity`).
SALib designs live in :mod:`trustsim.experiment.salib`, below the runner.
"""

from trustsim.experiment.salib import Problem
from trustsim.sensitivity.analysis import (
    METHODS,
    analyze_function,
    analyze_outputs,
    flag,
    indices_of,
    main_index,
    noise_parts,
    noise_share,
    wide_table,
)
from trustsim.sensitivity.convergence import convergence_in_words, subsample_sizes
from trustsim.sensitivity.outputs import (
    analysis_of,
    censored_share,
    design_matrix,
    experiment_outputs,
    output_value,
)
from trustsim.sensitivity.report import NOISE_WARNING, report, small_sample_warnings
from trustsim.sensitivity.study import run_sensitivity

__all__ = [
    "METHODS",
    "NOISE_WARNING",
    "Problem",
    "analysis_of",
    "analyze_function",
    "analyze_outputs",
    "censored_share",
    "convergence_in_words",
    "design_matrix",
    "experiment_outputs",
    "flag",
    "indices_of",
    "main_index",
    "noise_parts",
    "noise_share",
    "output_value",
    "report",
    "run_sensitivity",
    "small_sample_warnings",
    "subsample_sizes",
    "wide_table",
]
