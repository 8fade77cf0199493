"""Global sensitivity analysis with SALib, made right for a noisy model.

What goes wrong around the estimators, and what this module does about it:

- **Order.** SALib reads outputs by row position. Samples become experiment
  design points, and results come back in design order, never completion order.
- **One ``second_order`` flag** drives both sampling and analysis.
- **Sample size.** Sobol needs a power of two, checked when the file loads.
- **Noise.** With replications per point (common random numbers), the share
  of output variance that is replication noise is reported, indices are
  computed on replication means, and a warning is given in words when noise
  is large against the parameter effects.
- **Convergence.** Indices are recomputed on growing sub-samples (powers of
  two) with bootstrap intervals. An index that is negative, or whose interval
  includes zero, is flagged.

The generic entry point :func:`analyze_function` needs no trust model at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustsim.config import ConfigError
from trustsim.experiment.salib import Problem, problem_for
from trustsim.experiment.spec import Analysis, Experiment, OutputSpec
from trustsim.experiment.store import ExperimentResult
from trustsim.metrics import overtake_step

METHODS = ("sobol", "morris", "pawn")
NOISE_WARNING = 0.2  # share of variance from replication noise worth a warning


def analysis_of(experiment: Experiment) -> Analysis:
    """The experiment's ``analysis`` section (a sensitivity experiment must have one)."""
    if experiment.analysis is None:
        raise ConfigError("analysis.outputs: a sensitivity experiment needs outputs to analyse")
    return experiment.analysis


def main_index(method: str) -> str:
    """The index used for ranking, convergence and flags."""
    return {"sobol": "ST", "morris": "mu_star", "pawn": "pawn_median"}[method]


# ---------------------------------------------------------------------- analysis


def subsample_sizes(n: int) -> list[int]:
    """Powers of two from 8 (or n) up to n, then n itself."""
    sizes = [2**k for k in range(3, int(np.log2(n)) + 1) if 2**k < n]
    return [*sizes, n]


def flag(value: float, conf: float, index: str) -> str:
    """'negative', 'includes zero' (the interval covers 0) or ''."""
    if not np.isfinite(value):
        return "constant output"
    if index in ("mu", "sigma") or index.startswith("pawn"):
        return ""
    if value < 0:
        return "negative"
    if np.isfinite(conf) and value - conf <= 0:
        return "includes zero"
    return ""


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
    rows in design order. Returns a tidy table: output, factor, index, value, conf,
    n (base sample size), flag, noise_share.
    """
    block = problem.block()
    n = x.shape[0] // block
    frames = []
    for output, values in y.items():
        values = np.asarray(values, dtype=float).reshape(x.shape[0], -1)
        noise = noise_share(values)
        means = values.mean(axis=1)
        for size in subsample_sizes(n):
            rows = size * block
            if np.ptp(means[:rows]) == 0:  # a constant output has no sensitivity to share out
                table = problem.analyze(
                    x[:rows],
                    np.arange(rows, dtype=float),
                    bootstrap=10,
                    conf_level=conf_level,
                    seed=seed,
                )
                table[["value", "conf"]] = np.nan
            else:
                table = problem.analyze(
                    x[:rows], means[:rows], bootstrap=bootstrap, conf_level=conf_level, seed=seed
                )
            table.insert(0, "output", output)
            table["n"] = size
            table["noise_share"] = noise
            frames.append(table)
    result = pd.concat(frames, ignore_index=True)
    result["flag"] = [
        flag(v, c, i)
        for v, c, i in zip(result["value"], result["conf"], result["index"], strict=True)
    ]
    return result


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


# ---------------------------------------------------------------------- generic layer


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
        ``pawn_median`` and friends. Each has the output's ``noise_share``.
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
    final = full[full["n"] == n]
    wide = final.pivot_table(
        index=["output", "factor"], columns="index", values="value", sort=False
    )
    conf = final.dropna(subset=["conf"]).pivot_table(
        index=["output", "factor"], columns="index", values="conf", sort=False
    )
    wide = wide.join(conf.add_suffix("_conf"))
    noise = final.groupby("output", sort=False)["noise_share"].first()
    wide = wide.reset_index().rename(columns={"factor": "parameter"})
    wide["noise_share"] = wide["output"].map(noise)
    wide.columns.name = None
    return wide


# ---------------------------------------------------------------------- model outputs


def output_value(ts: pd.DataFrame, spec: OutputSpec, horizon: int) -> float:
    """One scalar of :class:`~trustsim.experiment.spec.OutputSpec` from a run's timeseries."""
    series = ts.pivot(index="step", columns="firm", values=spec.metric)
    if spec.overtake:
        week = overtake_step(series[spec.minus].to_numpy(), series[spec.firm].to_numpy())
        return float(horizon + 1 if week is None else series.index[week])
    pick = (lambda s: s.iloc[-1]) if spec.over == "final" else (lambda s: s.mean())
    value = float(pick(series[spec.firm]))
    return value - float(pick(series[spec.minus])) if spec.minus else value


# ---------------------------------------------------------------------- experiments


def experiment_outputs(result: ExperimentResult, experiment: Experiment) -> dict[str, np.ndarray]:
    """Each analysis output as an array (design points, replications), in design order."""
    runs = result.runs
    failed = runs[runs["status"] != "ok"]
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


def report(indices: pd.DataFrame, experiment: Experiment, censored: Mapping[str, float]) -> str:
    """A short markdown report that ranks the factors of each output in words."""
    method = experiment.design.kind
    key = main_index(method)
    n = int(indices["n"].max())
    final = indices[(indices["n"] == n) & (indices["index"] == key)]
    level = 100 * analysis_of(experiment).conf_level
    lines = [
        f"# Sensitivity analysis: {experiment.name}",
        "",
        f"Method: {method}, base sample n = {n}, {experiment.replications} replication(s) "
        f"per point with common random numbers; ranking by `{key}`"
        f"{'' if method == 'pawn' else f' with {level:g}% bootstrap intervals'}.",
        "",
    ]
    for output, table in final.groupby("output", sort=False):
        table = table.sort_values("value", ascending=False)
        top = table.iloc[0]
        lines.append(f"## {output}")
        lines.append("")
        if not np.isfinite(top.value):
            lines += ["This output is the same in every run, so no parameter moves it.", ""]
            continue
        ranked = [
            f"`{factor}` ({key} = {value:.3f}" + (f" ± {conf:.3f})" if pd.notna(conf) else ")")
            for factor, value, conf in zip(
                table["factor"], table["value"], table["conf"], strict=True
            )
        ]
        clear = table[~table["flag"].astype(bool)]
        if len(clear):
            lines.append(f"`{clear.iloc[0].factor}` matters most. In order: {', '.join(ranked)}.")
        else:
            lines.append(
                f"No factor is clearly above zero at this sample size. In order: "
                f"{', '.join(ranked)}."
            )
        weak = [str(r.factor) for r in table.itertuples() if r.flag]
        if weak:
            lines.append(
                f"Indistinguishable from zero (negative, or interval includes zero): "
                f"{', '.join(f'`{w}`' for w in weak)}."
            )
        lines += small_sample_warnings(table, key, n)
        noise = float(table["noise_share"].iloc[0])
        if np.isfinite(noise):
            verdict = (
                "**Warning: replication noise is large against the parameter "
                "effects**; add replications or treat small indices as noise"
                if noise > NOISE_WARNING
                else "small against the parameter effects"
            )
            lines.append(
                f"Replication noise is {100 * noise:.0f}% of this output's variance: {verdict}."
            )
        else:
            lines.append(
                "Replication noise was not measured (one replication per point): "
                "add replications to know how much of the variance is chance."
            )
        lines.append(convergence_in_words(indices, str(output), key))
        if censored.get(str(output), 0) > 0:
            lines.append(
                f"In {100 * censored[str(output)]:.0f}% of runs the overtaking never "
                f"happened; those runs count as week {experiment.horizon + 1} "
                f"(censored at the horizon)."
            )
        lines.append("")
    return "\n".join(lines)


def small_sample_warnings(table: pd.DataFrame, key: str, n: int) -> list[str]:
    """Say when the base sample is too small to separate the indices."""
    problems = []
    if key == "ST" and (table["value"] > 1).any():
        problems.append("total-order indices above 1, which is impossible in the limit")
    conf, value = table["conf"], table["value"].abs()
    if conf.notna().any() and (conf > value).mean() > 0.5:
        problems.append("intervals wider than most indices")
    if not problems:
        return []
    return [
        f"**Warning: n = {n} is too small to separate the factors** "
        f"({'; '.join(problems)}); raise `design.n`."
    ]


def convergence_in_words(indices: pd.DataFrame, output: str, key: str) -> str:
    """Whether the ranking moved between the two largest sub-samples."""
    rows = indices[(indices["output"] == output) & (indices["index"] == key)]
    sizes = sorted(rows["n"].unique())
    if len(sizes) < 2:
        return "Convergence was not checked (one sample size)."
    ranking = [
        rows[rows["n"] == size].sort_values("value", ascending=False)["factor"].tolist()
        for size in sizes[-2:]
    ]
    if ranking[0] == ranking[1]:
        return f"The ranking is the same at n = {sizes[-2]} and n = {sizes[-1]}."
    return (
        f"The ranking changed between n = {sizes[-2]} and n = {sizes[-1]}: it has not "
        f"converged; take a larger n."
    )


def run_sensitivity(
    experiment: Experiment,
    *,
    out: str | Path,
    executor: Executor | None = None,
    source: str = "",
    backend: str = "custom",
    on_result: Callable[[dict[str, Any], int, int], None] | None = None,
) -> pd.DataFrame:
    """Run (or resume) the sample through the experiment runner, then analyse it.

    Writes ``sensitivity.parquet``, ``outputs.parquet`` (the scalar outputs per
    run), the figures and ``report.md`` into ``out``; returns the indices.
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
    analysis = analysis_of(experiment)
    seed = int(result.manifest["root_entropy"]) % (2**31 - 1)
    indices = analyze_outputs(
        problem,
        design_matrix(result, problem),
        values,
        bootstrap=analysis.bootstrap,
        conf_level=analysis.conf_level,
        seed=seed,
    )
    indices.insert(1, "method", problem.method)
    write_parquet(out / "sensitivity.parquet", indices)
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
    save_sensitivity_figures(indices, problem.method, main_index(problem.method), out)
    censored = {
        s.name: censored_share(values[s.name], experiment.horizon)
        for s in analysis.outputs
        if s.overtake
    }
    text = report(indices, experiment, censored)
    atomic_write(out / "report.md", lambda tmp: tmp.write_text(text))
    return indices
