"""A cross-check from another school: EMA Workbench's feature scoring.

Extra-trees feature scores (Jaxa-Rozen & Kwakkel 2018) rank the factors from the
same runs without Sobol's design, so a ranking that agrees is a second opinion and
one that disagrees is worth a look. Opt in with ``analysis.feature_scoring: true``;
it needs the optional extra ``trustsim[ema]``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trustsim.config import ConfigError
from trustsim.experiment.salib import Problem


def feature_scores(
    problem: Problem, x: np.ndarray, y: Mapping[str, np.ndarray], *, seed: int
) -> pd.DataFrame:
    """Tidy rows (output, factor, index ``feature_score``, value) for every output.

    Sobol designs contribute their A and B rows only, the independent samples (the
    other rows repeat them with one factor changed); the replication means are
    scored. Grouped factors get the sum of their parameters' scores.
    """
    try:
        from ema_workbench.analysis.feature_scoring import get_ex_feature_scores
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType
    except ImportError as exc:
        raise ConfigError(
            'analysis.feature_scoring: needs EMA Workbench: pip install "trustsim[ema]"'
        ) from exc
    rows = np.arange(len(x))
    if problem.method == "sobol":
        block = problem.block()
        rows = rows[(rows % block == 0) | (rows % block == block - 1)]
    design = pd.DataFrame(x[rows], columns=problem.names)
    groups = dict(zip(problem.names, problem.groups or problem.names, strict=True))
    frames = []
    for output, values in y.items():
        means = np.asarray(values, dtype=float).reshape(len(x), -1).mean(axis=1)[rows]
        if not np.isfinite(means).all() or np.ptp(means) == 0:
            continue
        scores, _ = get_ex_feature_scores(
            design, means, mode=RuleInductionType.REGRESSION, random_state=seed
        )
        by_factor = scores.iloc[:, 0].groupby(groups).sum()
        frame = pd.DataFrame({"factor": by_factor.index, "value": by_factor.to_numpy()})
        frames.append(frame.assign(output=output, index="feature_score", conf=np.nan))
    columns = ["output", "factor", "index", "value", "conf"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
