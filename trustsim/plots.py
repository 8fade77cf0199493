"""Figures written to files: a run's (drawn by :mod:`trustsim.figures`), an
experiment's ensembles, scatters and heatmaps, sensitivity indices and the facts.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trustsim.experiment.store import OK
from trustsim.figures import (
    BOUNDED,
    ENSEMBLE,
    figures,
    replication_bands,
)
from trustsim.io import atomic_write
from trustsim.sensitivity.noise import DUMMY


def _save_png(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=120, format="png")


def save_run_figures(ts: pd.DataFrame, out: Path, events: pd.DataFrame | None = None) -> list[Path]:
    """Write :func:`figures` as PNG files into ``out``."""
    paths = []
    for name, fig in figures(ts, events).items():
        path = out / f"{name}.png"
        atomic_write(path, partial(_save_png, fig))
        plt.close(fig)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------- experiments

SCATTER_METRICS = ("cohort_retention", "reputation", "npv")
MAX_SMALL_MULTIPLE_PARAMS = 3  # more varied parameters: a scatter per parameter instead
HEATMAP_METRICS = ("cohort_retention", "reputation", "cumulative_profit")
MAX_PANELS = 25


def short_key(key: str) -> str:
    """A short label: ``firms.x.warn_rate`` -> ``x.warn_rate``, ``market.q_wom`` -> ``q_wom``."""
    parts = key.removeprefix("param.").split(".")
    return ".".join(parts[1:]) if parts[0] == "firms" else parts[-1]


def design_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per design point: its parameters, in design order."""
    params = [c for c in runs.columns if c.startswith("param.")]
    return runs.groupby("design_id")[params].first().sort_index()


def _label(row: pd.Series) -> str:
    row = row.dropna()
    return ", ".join(
        f"{short_key(str(k))} = {v:g}" if isinstance(v, float) else f"{short_key(str(k))} = {v}"
        for k, v in row.items()
    )


def ensemble_figure(ts: pd.DataFrame, runs: pd.DataFrame, metric: str, ylabel: str) -> Figure:
    """Small multiples, one panel per design point (rows x columns for a 2-D grid),
    one line per firm: the mean over replications with its 95% confidence band."""
    bands = replication_bands(ts, runs, metric)
    designs = design_table(runs)
    n = len(designs)
    params = list(designs.columns)
    grid = len(params) == 2 and n == designs[params[0]].nunique() * designs[params[1]].nunique()
    if grid:
        rows, cols = designs[params[0]].nunique(), designs[params[1]].nunique()
    else:
        cols = int(np.ceil(np.sqrt(min(n, MAX_PANELS))))
        rows = int(np.ceil(min(n, MAX_PANELS) / cols))
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.6 * cols + 1, 2.8 * rows + 1),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    firms = sorted(bands["firm"].unique())
    colours = dict(zip(firms, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for ax, (design_id, point) in zip(
        axes.flat, designs.iloc[:MAX_PANELS].iterrows(), strict=False
    ):
        for firm in firms:
            b = bands[(bands.design_id == design_id) & (bands.firm == firm)]
            ax.plot(b["step"], b["mean"], color=colours[firm], label=firm)
            low, high = b["low"], b["high"]
            if metric in BOUNDED:  # the metric lives in [0, 1]; so does its band
                low, high = low.clip(0, 1), high.clip(0, 1)
            ax.fill_between(b["step"], low, high, color=colours[firm], alpha=0.2)
        if not grid:
            lines = _label(point).split(", ")
            title = "\n".join(lines[:3]) + ("\n..." if len(lines) > 3 else "")
            ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("week")
    if grid:  # rows and columns are labelled once, at the margins
        row_values = designs[params[0]].unique()
        col_values = designs[params[1]].unique()
        for ax, value in zip(axes[0], col_values, strict=True):
            ax.set_title(_label(pd.Series({params[1]: value})), fontsize=10)
        for ax, value in zip(axes[:, 0], row_values, strict=True):
            ax.set_ylabel(f"{_label(pd.Series({params[0]: value}))}\n{metric.replace('_', ' ')}")
    else:
        for ax in axes[:, 0]:
            ax.set_ylabel(metric.replace("_", " "))
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="firm (mean, 95% CI)", loc="upper right", frameon=False)
    more = f" (first {MAX_PANELS} of {n} design points)" if n > MAX_PANELS else ""
    fig.suptitle(f"{ylabel}{more}")
    fig.tight_layout(rect=(0, 0, 0.88, 0.96))
    return fig


def is_grid(designs: pd.DataFrame) -> bool:
    """Whether the design points are every combination of their parameters' values."""
    return len(designs) == int(np.prod([designs[c].nunique() for c in designs.columns]))


def scatter_figure(runs: pd.DataFrame, metric: str) -> Figure | None:
    """For sampled designs (LHS, Sobol, ...): the final ``metric`` of each firm in each
    run against each varied parameter, one panel per parameter."""
    ok = runs[runs["status"] == OK]
    params = [c for c in design_table(ok).columns if ok[c].nunique() > 1][:MAX_PANELS]
    columns = sorted(c for c in ok.columns if c.startswith("final.") and c.endswith(f".{metric}"))
    if not params or not columns:
        return None
    cols = min(4, len(params))
    rows = int(np.ceil(len(params) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows + 0.8), squeeze=False,
                             sharey=True, constrained_layout=True)  # fmt: skip
    for ax, param in zip(axes.flat, params, strict=False):
        for column in columns:
            ax.scatter(ok[param], ok[column], s=8, alpha=0.6, label=column.split(".")[1])
        ax.set_xlabel(short_key(param))
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(params) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"final {metric.replace('_', ' ')}")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="firm", loc="outside lower center", ncols=len(columns))
    fig.suptitle(f"Final {metric.replace('_', ' ')} against each parameter (one dot per run)")
    return fig


def heatmap_figure(runs: pd.DataFrame, metric: str) -> Figure | None:
    """For a two-parameter grid: the final ``metric`` per firm, mean over replications."""
    designs = design_table(runs)
    if designs.shape[1] != 2 or not is_grid(designs):
        return None
    y_key, x_key = designs.columns
    ok = runs[runs["status"] == OK]
    columns = sorted(c for c in ok.columns if c.startswith("final.") and c.endswith(f".{metric}"))
    if not columns:
        return None
    fig, axes = plt.subplots(1, len(columns), figsize=(4.6 * len(columns), 4), squeeze=False)
    for ax, column in zip(axes[0], columns, strict=True):
        table = ok.pivot_table(index=y_key, columns=x_key, values=column, aggfunc="mean")
        image = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [f"{v:g}" for v in table.columns])
        ax.set_yticks(range(table.shape[0]), [f"{v:g}" for v in table.index])
        ax.set_xlabel(short_key(x_key))
        ax.set_ylabel(short_key(y_key))
        ax.set_title(column.split(".")[1])
        light = image.norm(table.to_numpy()) > 0.6
        for (i, j), value in np.ndenumerate(table.to_numpy()):
            ax.text(
                j,
                i,
                f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}",
                ha="center",
                va="center",
                fontsize=8,
                color="black" if light[i, j] else "white",
            )
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(f"Final {metric.replace('_', ' ')} (mean over replications)")
    fig.tight_layout()
    return fig


def _save(fig: Figure, base: Path) -> list[Path]:
    paths = []
    for fmt in ("png", "svg"):
        path = base.with_suffix(f".{fmt}")
        atomic_write(path, partial(_save_as, fig, fmt))
        paths.append(path)
    plt.close(fig)
    return paths


def _save_as(fig: Figure, fmt: str, path: Path) -> None:
    fig.savefig(path, dpi=120, format=fmt)


def save_experiment_figures(ts: pd.DataFrame, runs: pd.DataFrame, out: Path) -> list[Path]:
    """Ensemble retention and reputation figures, and heatmaps for two-parameter grids."""
    paths: list[Path] = []
    ok_runs = runs[runs["status"] == OK]
    designs = design_table(ok_runs)
    over_time = ts["step"].nunique() > 2  # not with outputs.every: final
    # small multiples for grids, few parameters, or lists of named variants (keys differ)
    few = (
        designs.shape[1] <= MAX_SMALL_MULTIPLE_PARAMS
        or is_grid(designs)
        or bool(designs.isna().any().any())
    )
    for name, (metric, label) in ENSEMBLE.items():
        if metric in ts.columns and len(ok_runs) and over_time and few:
            paths += _save(ensemble_figure(ts, ok_runs, metric, label), out / name)
    for metric in HEATMAP_METRICS:
        fig = heatmap_figure(runs, metric)
        if fig is not None:
            paths += _save(fig, out / f"heatmap_{metric}")
    if not is_grid(designs) and len(designs) > 1:
        for metric in SCATTER_METRICS:
            fig = scatter_figure(runs, metric)
            if fig is not None:
                paths += _save(fig, out / f"scatter_{metric}")
    return paths


# ---------------------------------------------------------------------- sensitivity


def _panels(n: int, width: float = 4.2, height: float = 3.2) -> tuple[Figure, np.ndarray]:
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.6), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def indices_figure(indices: pd.DataFrame) -> Figure:
    """Sobol S1 and ST (bars with intervals) per factor, one panel per output."""
    final = indices[indices["n"] == indices["n"].max()]
    outputs = list(dict.fromkeys(final["output"]))
    fig, axes = _panels(len(outputs), height=0.35 * final["factor"].nunique() + 1.6)
    for ax, output in zip(axes.flat, outputs, strict=False):
        table = final[final["output"] == output]
        st = table[table["index"] == "ST"].set_index("factor").sort_values("value")
        s1 = table[table["index"] == "S1"].set_index("factor").reindex(st.index)
        y = np.arange(len(st))
        ax.barh(y + 0.2, st["value"], 0.4, xerr=st["conf"], label="ST (total)", capsize=2)
        ax.barh(y - 0.2, s1["value"], 0.4, xerr=s1["conf"], label="S1 (first order)", capsize=2)
        ax.set_yticks(y, [short_key(f) for f in st.index], fontsize=8)
        ax.axvline(0, color="grey", lw=0.8)
        if DUMMY in st.index:  # a factor is influential only beyond this line
            top = st.loc[DUMMY, "value"] + np.nan_to_num(st.loc[DUMMY, "conf"])
            ax.axvline(top, color="0.3", ls="--", lw=1, label="dummy ST, upper bound")
        ax.set_xlabel("Sobol index (95% interval)")
        ax.set_title(output, fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    axes.flat[0].legend(frameon=False, fontsize=8)
    fig.suptitle("Sobol indices per output")
    fig.tight_layout()
    return fig


SIGMA_RATIOS = (0.1, 0.5, 1.0)
"""sigma / mu* lines that sort a factor's effect: below 0.1 almost linear, below 0.5
monotonic, below 1 almost monotonic, above 1 non-linear or interacting (Garcia Sanchez
et al. 2014)."""


def morris_figure(indices: pd.DataFrame) -> Figure:
    """Morris mu* against sigma, one panel per output: far right matters, high up
    interacts. mu* has its bootstrap interval; dotted lines mark sigma / mu* = 0.1,
    0.5 and 1; each factor has its own colour in a legend, so no label overlaps."""
    final = indices[indices["n"] == indices["n"].max()]
    outputs = list(dict.fromkeys(final["output"]))
    fig, axes = _panels(len(outputs), width=6.4, height=3.8)
    colours = plt.get_cmap("tab10" if final["factor"].nunique() <= 10 else "tab20")
    for ax, output in zip(axes.flat, outputs, strict=False):
        rows = final[final["output"] == output]
        table = rows.pivot(index="factor", columns="index", values="value")
        conf = rows[rows["index"] == "mu_star"].set_index("factor")["conf"]
        for i, (factor, row) in enumerate(table.iterrows()):
            ax.errorbar(row["mu_star"], row["sigma"], xerr=conf.get(factor), fmt="o",
                        color=colours(i % colours.N), capsize=3,
                        label=short_key(str(factor)))  # fmt: skip
        top = max(float(table["mu_star"].max()), 1e-12) * 1.1
        for ratio in SIGMA_RATIOS:
            ax.plot([0, top], [0, ratio * top], color="0.5", linestyle=":", linewidth=1)
            ax.annotate(f"sigma/mu* = {ratio:g}", (top, ratio * top), fontsize=8, color="0.4",
                        ha="right", va="bottom")  # fmt: skip
        ax.set_xlim(-0.03 * top, top * 1.02)  # points at 0 stay whole
        ax.set_ylim(bottom=-0.03 * ax.get_ylim()[1])
        ax.set_xlabel("mu* (mean |elementary effect|, 95% interval)")
        ax.set_ylabel("sigma (interaction / non-linearity)")
        ax.set_title(output, fontsize=10)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.grid(alpha=0.3)
    fig.suptitle("Morris screening")
    fig.tight_layout()
    return fig


def convergence_figure(indices: pd.DataFrame, index: str) -> Figure:
    """The main index against base sample size, with intervals, one panel per output."""
    table = indices[indices["index"] == index]
    outputs = list(dict.fromkeys(table["output"]))
    fig, axes = _panels(len(outputs))
    for ax, output in zip(axes.flat, outputs, strict=False):
        for factor, series in table[table["output"] == output].groupby("factor", sort=False):
            series = series.sort_values("n")
            line = ax.plot(
                series["n"], series["value"], marker="o", ms=3, label=short_key(str(factor))
            )[0]
            if series["conf"].notna().any():
                ax.fill_between(
                    series["n"],
                    series["value"] - series["conf"],
                    series["value"] + series["conf"],
                    color=line.get_color(),
                    alpha=0.15,
                )
        ax.set_xscale("log", base=2)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("base sample size n")
        ax.set_ylabel(index)
        ax.set_title(output, fontsize=10)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(frameon=False, fontsize=7, ncol=2)
    fig.suptitle(f"Convergence of {index} on growing sub-samples")
    fig.tight_layout()
    return fig


def save_sensitivity_figures(
    indices: pd.DataFrame, method: str, index: str, out: Path
) -> list[Path]:
    """Write the indices, Morris and convergence figures of a sensitivity study."""
    paths: list[Path] = []
    if method == "sobol":
        paths += _save(indices_figure(indices), out / "indices")
    if method == "morris":
        paths += _save(morris_figure(indices), out / "morris")
    paths += _save(convergence_figure(indices, index), out / "convergence")
    return paths


# ---------------------------------------------------------------------- facts


def fact_figure(
    fact: str, measure: str, values: np.ndarray, row: pd.Series, spread: str = "per seed"
) -> Figure:
    """One calibration fact: the values over seeds (or the bootstrap draws, named by
    ``spread``), their mean and 95% interval, and the target."""
    fig, ax = plt.subplots(figsize=(6.4, 2.6))
    low, high = float(row["target_low"]), float(row["target_high"])
    finite = values[np.isfinite(values)]
    span = [*finite, row["value"], *(v for v in (low, high) if np.isfinite(v))]
    pad = 0.1 * (max(span) - min(span) or 1.0)
    left, right = min(span) - pad, max(span) + pad
    ax.axvspan(max(low, left), min(high, right), color="tab:green", alpha=0.15, label="target")
    jitter = np.linspace(-0.15, 0.15, finite.size) if finite.size > 1 else np.zeros(finite.size)
    ax.scatter(finite, jitter, s=14, color="0.45", label=spread if finite.size > 1 else None)
    if np.isfinite(row["ci_low"]):
        ax.errorbar(
            row["value"], 0, xerr=[[row["value"] - row["ci_low"]], [row["ci_high"] - row["value"]]],
            fmt="o", color="tab:blue", capsize=6, markersize=8, label="mean, 95% CI",
        )  # fmt: skip
    else:
        ax.plot(row["value"], 0, "o", color="tab:blue", markersize=8, label="value")
    ax.set_xlim(left, right)
    ax.set_ylim(-0.5, 0.5)
    ax.set_yticks([])
    ax.set_xlabel(measure)
    verdict = str(row["verdict"])
    ax.set_title(f"{fact}: target {row['target']}, {verdict}", fontsize=11)
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def stars_figure(shares: pd.Series, firm: str) -> Figure:
    """The share of reviews with each number of stars (the J shape)."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.bar(shares.index.astype(int), shares.to_numpy(), color="tab:orange")
    ax.set_xlabel("stars")
    ax.set_ylabel("share of reviews")
    ax.set_title(f"reviews of {firm}, weeks 1-52")
    fig.tight_layout()
    return fig


def save_fact_figures(figures: dict[str, Figure], out: Path) -> list[Path]:
    """Write each figure as ``fact_<name>.png`` in ``out``."""
    paths = []
    for name, fig in figures.items():
        path = out / f"fact_{name}.png"
        atomic_write(path, partial(_save_png, fig))
        plt.close(fig)
        paths.append(path)
    return paths
