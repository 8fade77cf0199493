"""Figures of one run from its tables: retention, reputation, trust, profit.

Every figure has one line per firm, labelled axes in plain words and the firm
names in the legend; ``save_run_figures`` writes them as PNG.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from trustsim.io import atomic_write

ROLLING = 13  # weeks: a quarter, to smooth period retention


def _by_firm(ts: pd.DataFrame, column: str) -> pd.DataFrame:
    return ts.pivot(index="step", columns="firm", values=column)


def _finish(fig: Figure, axes: list[plt.Axes], title: str) -> Figure:
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.set_xlabel("week")
        ax.legend(title="firm", frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def retention_figure(ts: pd.DataFrame) -> Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    (100 * _by_firm(ts, "cohort_retention")).plot(ax=left)
    left.set_ylabel("customers of week 0 still with the firm (%)")
    left.set_title("Cohort retention")
    period = 100 * _by_firm(ts[ts.step > 0], "period_retention").rolling(ROLLING, 1).mean()
    period.plot(ax=right)
    right.set_ylabel(f"weekly retention, {ROLLING}-week mean (%)")
    right.set_title("Period retention")
    return _finish(fig, [left, right], "Retention")


def reputation_figure(ts: pd.DataFrame) -> Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    _by_firm(ts, "reputation").plot(ax=left)
    left.set_ylabel("mean trust of all customers (0 to 1)")
    left.set_title("Reputation")
    _by_firm(ts, "rating").plot(ax=right)
    right.set_ylabel("public rating (stars, 1 to 5)")
    right.set_title("Online rating")
    return _finish(fig, [left, right], "Reputation")


def trust_figure(ts: pd.DataFrame) -> Figure:
    parts = [
        ("mean_trust", "overall"),
        ("mean_cognitive", "cognitive"),
        ("mean_affective", "affective"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), sharey=True)
    for ax, (column, label) in zip(axes, parts, strict=True):
        _by_firm(ts, column).plot(ax=ax)
        ax.set_title(f"{label.capitalize()} trust")
        ax.set_ylabel("mean among the firm's customers (0 to 1)")
    return _finish(fig, list(axes), "Trust of each firm's own customers")


def profit_figure(ts: pd.DataFrame) -> Figure:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _by_firm(ts, "cumulative_profit").plot(ax=ax)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_ylabel("cumulative profit (money units)")
    ax.set_title("Cumulative profit")
    return _finish(fig, [ax], "Profit")


FIGURES = {
    "retention": retention_figure,
    "reputation": reputation_figure,
    "trust": trust_figure,
    "profit": profit_figure,
}


def _save_png(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=120, format="png")


def save_run_figures(ts: pd.DataFrame, out: Path) -> list[Path]:
    """Write ``retention.png``, ``reputation.png``, ``trust.png``, ``profit.png``."""
    paths = []
    for name, make in FIGURES.items():
        fig = make(ts)
        path = out / f"{name}.png"
        atomic_write(path, partial(_save_png, fig))
        plt.close(fig)
        paths.append(path)
    return paths
