"""A finished fit's tables, figures and report: the posterior against the prior, what
the targets identify, and the posterior predictive check (ODD 8.6)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trustsim.calibrate.spec import FitSpec
from trustsim.io import write_json, write_parquet, write_text
from trustsim.policy.report import Block, publish

if TYPE_CHECKING:
    from trustsim.calibrate import FitResult

CREDIBLE = 0.90


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` under ``weights`` (inverse of the weighted CDF,
    interpolated between particles)."""
    order = np.argsort(values)
    v, w = values[order], weights[order] / weights.sum()
    cdf = np.cumsum(w) - 0.5 * w
    return float(np.interp(q, cdf, v))


def summary(posterior: pd.DataFrame, spec: FitSpec) -> pd.DataFrame:
    """Per parameter: the prior range, the posterior median and 90% interval (last
    generation), and the interval's width over the prior's 90% width."""
    final = posterior[posterior["generation"] == posterior["generation"].max()]
    w = final["weight"].to_numpy()
    tail = (1 - CREDIBLE) / 2
    rows = []
    for key, (low, high) in spec.bounds().items():
        x = final[key].to_numpy()
        lo, med, hi = (weighted_quantile(x, w, q) for q in (tail, 0.5, 1 - tail))
        ratio = (hi - lo) / (CREDIBLE * (high - low))
        rows.append((key, low, high, med, lo, hi, ratio))
    columns = ["parameter", "prior_low", "prior_high", "median", "low_90", "high_90", "width_ratio"]
    table = pd.DataFrame(rows, columns=columns)
    from trustsim.calibrate import IDENTIFIED_BELOW

    table["identified"] = table["width_ratio"] < IDENTIFIED_BELOW
    return table


def _posterior(history: Any, keys: tuple[str, ...]) -> pd.DataFrame:
    frames = []
    for t in range(int(history.max_t) + 1):
        particles, weights = history.get_distribution(m=0, t=t)
        named = {key: particles[f"p{i}"].to_numpy() for i, key in enumerate(keys)}
        frames.append(pd.DataFrame({**named, "weight": weights, "generation": t}))
    return pd.concat(frames, ignore_index=True)


def _predictive(history: Any, spec: FitSpec) -> pd.DataFrame:
    weights, stats = history.get_weighted_sum_stats(t=history.max_t)
    values = np.array([s["s"] for s in stats])
    table = pd.DataFrame(values, columns=[t.label for t in spec.targets])
    return table.assign(weight=np.asarray(weights) / np.sum(weights))


def finish(spec: FitSpec, out: Path, history: Any, keys: tuple[str, ...]) -> FitResult:
    """Write ``posterior.parquet``, ``calibrated.yaml``, the figures and the report."""
    from trustsim.calibrate import FitResult

    posterior = _posterior(history, keys)
    table = summary(posterior, spec)
    medians = dict(zip(table["parameter"], table["median"], strict=True))
    calibrated = spec.base.with_overrides(medians)
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0]
    epsilons = pd.DataFrame({
        "generation": populations["t"].astype(int), "epsilon": populations["epsilon"],
        "acceptance": populations["particles"] / populations["samples"],
    })  # fmt: skip
    predictive = _predictive(history, spec)
    result = FitResult(spec, out, posterior, table, calibrated, epsilons, predictive)
    write_parquet(out / "posterior.parquet", posterior)
    write_parquet(out / "summary.parquet", table)
    write_text(out / "calibrated.yaml", calibrated_yaml(result))
    write_json(out / "manifest.json", fit_manifest(spec))
    result.report = write_report(result)
    return result


def fit_manifest(spec: FitSpec) -> dict[str, Any]:
    """What made a fit: the fit file as read, the whole scenario, the package versions
    (pyabc's among them) and the git commit with an uncommitted-changes flag."""
    from datetime import UTC, datetime

    from trustsim.simulate import provenance

    return {
        "fit": spec.model_dump(mode="json"),
        "scenario": spec.base.model_dump(mode="json"),
        **provenance(),
        "written": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def calibrated_yaml(result: FitResult) -> str:
    """The calibrated scenario as a file ``trustsim run`` reads: the whole scenario, with
    each fitted parameter at its posterior median."""
    data = result.calibrated.model_dump(mode="json")
    data["name"] = f"{result.spec.name}-calibrated"
    fitted = ", ".join(result.summary["parameter"])
    lines = [
        f"# {result.spec.name}: posterior medians of {fitted}",
        "# written by trustsim calibrate; every other key as in the fit's scenario",
    ]
    return "\n".join(lines) + "\n" + yaml.safe_dump(data, sort_keys=False)


# --------------------------------------------------------------------------- figures


def marginals_figure(result: FitResult) -> Figure:
    """Each parameter's posterior (weighted histogram, last generation) against its prior."""
    table, final = result.summary, result.final()
    n = len(table)
    fig, axes = plt.subplots(1, n, figsize=(4.4 * n, 3.4), squeeze=False, constrained_layout=True)
    for ax, row in zip(axes.flat, table.to_dict("records"), strict=True):
        low, high = float(row["prior_low"]), float(row["prior_high"])
        ax.hist(final[row["parameter"]], bins=20, range=(low, high), weights=final["weight"],
                density=True, alpha=0.7, label="posterior")  # fmt: skip
        ax.axhline(1 / (high - low), color="black", ls="--", label="prior")
        ax.axvspan(row["low_90"], row["high_90"], color="C1", alpha=0.15, label="90% interval")
        ax.axvline(row["median"], color="C1", lw=2, label="median")
        ax.set_xlabel(str(row["parameter"]))
        ax.set_xlim(low, high)
    axes.flat[0].set_ylabel("density")
    axes.flat[0].legend(frameon=False, fontsize=9)
    fig.suptitle("Posterior (last generation) against the uniform prior")
    return fig


def pairs_figure(result: FitResult) -> Figure:
    """The last generation's particles, every pair of parameters (size: weight); on the
    diagonal, each parameter's weighted histogram."""
    keys = list(result.summary["parameter"])
    final = result.final()
    n = len(keys)
    fig, axes = plt.subplots(n, n, figsize=(2.8 * n + 1, 2.8 * n + 0.5), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    size = 4 + 60 * final["weight"] / final["weight"].max()
    for i, y in enumerate(keys):
        for j, x in enumerate(keys):
            ax = axes[i, j]
            if i == j:
                ax.hist(final[x], bins=20, weights=final["weight"], color="C0", alpha=0.7)
            else:
                ax.scatter(final[x], final[y], s=size, alpha=0.5)
            if i == n - 1:
                ax.set_xlabel(x)
            if j == 0:
                ax.set_ylabel(y)  # the diagonal's histogram is of this row's parameter
            if i == j:
                ax.set_yticks([])
    fig.suptitle("Posterior particles, last generation")
    return fig


def predictive_figure(result: FitResult) -> Figure:
    """Each target: the simulated statistic over the last generation (weighted box)
    against the observed value and its 95% interval."""
    targets = result.spec.targets
    n = len(targets)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n + 0.6, 3.6), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    p = result.predictive
    for ax, target in zip(axes.flat, targets, strict=True):
        values = p[target.label].to_numpy()
        ok = np.isfinite(values)
        w = p["weight"].to_numpy()[ok]
        qs = [weighted_quantile(values[ok], w, q) for q in (0.05, 0.25, 0.5, 0.75, 0.95)]
        ax.vlines(0, qs[0], qs[4], color="C0", lw=2)
        ax.vlines(0, qs[1], qs[3], color="C0", lw=8, label="simulated (50%, 90%)")
        ax.plot([0], [qs[2]], "o", color="white", markeredgecolor="C0")
        ax.errorbar([0.4], [target.value], yerr=[[1.96 * target.se]], fmt="s", color="C3",
                    capsize=5, label="observed (95%)")  # fmt: skip
        ax.set_xlim(-0.6, 1.0)
        ax.set_xticks([])
        ax.set_title(target.label, fontsize=9)
    axes.flat[0].legend(frameon=False, fontsize=8, loc="best")
    fig.suptitle("Posterior predictive check: each target")
    return fig


def epsilon_figure(result: FitResult) -> Figure:
    """The acceptance threshold and the acceptance rate by generation."""
    e = result.epsilons
    fig, left = plt.subplots(figsize=(6.4, 3.8), constrained_layout=True)
    left.plot(e["generation"] + 1, e["epsilon"], "o-", label="epsilon")
    left.set_yscale("log")
    left.set_xlabel("generation")
    left.set_ylabel("epsilon (distance in standard errors)")
    right = left.twinx()
    right.plot(e["generation"] + 1, 100 * e["acceptance"], "s--", color="C1", label="acceptance")
    right.set_ylabel("acceptance rate (%)")
    left.set_title("ABC-SMC: threshold and acceptance by generation")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


FIGURES = {
    "marginals": marginals_figure,
    "pairs": pairs_figure,
    "predictive": predictive_figure,
    "epsilon": epsilon_figure,
}


# --------------------------------------------------------------------------- report


def identification(result: FitResult) -> str:
    """Which parameters the targets pin, in words."""
    t = result.summary
    pinned = [str(p) for p in t.loc[t["identified"], "parameter"]]
    loose = [str(p) for p in t.loc[~t["identified"], "parameter"]]
    parts = []
    if pinned:
        parts.append(f"These targets identify {', '.join(pinned)}.")
    if loose:
        parts.append(
            f"{', '.join(loose)}: not identified by these targets (the 90% posterior interval "
            f"is still at least half as wide as the prior's); add targets that move it."
        )
    return " ".join(parts)


def blocks(result: FitResult, figure_names: list[str]) -> list[Block]:
    """The report, as the policy lab's blocks (Markdown and HTML alike)."""
    spec, e = result.spec, result.epsilons
    t = result.summary
    table = pd.DataFrame({
        "parameter": t["parameter"],
        "prior": [f"uniform {lo:.4g} to {hi:.4g}" for lo, hi in
                  zip(t["prior_low"], t["prior_high"], strict=True)],
        "median": t["median"].map("{:.4g}".format),
        "90% interval": [f"{lo:.4g} to {hi:.4g}" for lo, hi in
                         zip(t["low_90"], t["high_90"], strict=True)],
        "width / prior width": t["width_ratio"].map("{:.2f}".format),
        "identified": t["identified"].map({True: "yes", False: "not by these targets"}),
    })  # fmt: skip
    targets = pd.DataFrame({
        "target": [x.label for x in spec.targets],
        "observed": [f"{x.value:.4g} (se {x.se:.3g})" for x in spec.targets],
        "simulated, median [90%]": [_spread(result, x.label) for x in spec.targets],
    })  # fmt: skip
    return [
        Block("h1", f"Fit: {spec.name}"),
        Block("p", (
            f"ABC-SMC (pyabc) of {len(t)} parameters to {len(spec.targets)} targets: "
            f"{len(e)} generations of {spec.method.population} particles; each draw runs "
            f"{spec.base.population.size:,} customers for {spec.horizon} weeks "
            f"({spec.method.replications} run(s) per draw, the same seeds for every draw). "
            f"The distance is the root sum of squared differences in standard errors; the "
            f"last threshold is {e['epsilon'].iloc[-1]:.3g} with an acceptance rate of "
            f"{e['acceptance'].iloc[-1]:.1%}."
        )),
        Block("h2", "Posterior"),
        Block("p", identification(result)),
        Block("table", table=table),
        Block("h2", "Posterior predictive check"),
        Block("p", "Each target's statistic over the last generation's particles, against "
              "the observed value. A target whose observed value lies outside the simulated "
              "spread is one the model cannot reproduce with these parameters."),
        Block("table", table=targets),
        Block("h2", "Figures"),
        *[Block("figure", name) for name in figure_names],
        Block("p", "Tables: posterior.parquet (every generation, weighted), summary.parquet; "
              "calibrated.yaml is the scenario at the posterior medians (trustsim run "
              "calibrated.yaml); history.db is pyabc's history, which resumes the fit."),
    ]  # fmt: skip


def _spread(result: FitResult, label: str) -> str:
    values = result.predictive[label].to_numpy()
    ok = np.isfinite(values)
    w = result.predictive["weight"].to_numpy()[ok]
    lo, med, hi = (weighted_quantile(values[ok], w, q) for q in (0.05, 0.5, 0.95))
    return f"{med:.4g} [{lo:.4g} to {hi:.4g}]"


def write_report(result: FitResult) -> str:
    """Write the figures, report.md and report.html into the fit folder; return the text."""
    drawn = {name: make(result) for name, make in FIGURES.items()}
    return publish(result.folder, drawn, lambda names: blocks(result, names))
