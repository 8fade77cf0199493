"""Figures of one run from its tables: retention, reputation, trust, profit.

Every figure has one line per firm, labelled axes in plain words and the firm
names in the legend; :meth:`trustsim.RunResult.plot` draws them in a notebook and
``plots.save_run_figures`` writes them as PNG. Pure drawing: no files, so the
result types can use it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trustsim.metrics import overtake_step

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
    """Cohort and period retention per firm over the weeks of one run."""
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
    """Reputation (mean trust of all customers) and the public rating, per firm, over one run."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    _by_firm(ts, "reputation").plot(ax=left)
    left.set_ylabel("mean trust of all customers (0 to 1)")
    left.set_title("Reputation")
    _by_firm(ts, "rating").plot(ax=right)
    right.set_ylabel("public rating (stars, 1 to 5)")
    right.set_title("Online rating")
    return _finish(fig, [left, right], "Reputation")


def trust_figure(ts: pd.DataFrame) -> Figure:
    """Mean cognitive, affective and overall trust of each firm's customers."""
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
    """Cumulative profit per firm, with the week the final leader took the lead for good."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    profit = _by_firm(ts, "cumulative_profit")
    profit.plot(ax=ax)
    ax.axhline(0, color="grey", lw=0.8)
    if profit.shape[1] == 2:  # mark the week the firm ahead at the end took the lead for good
        last = profit.iloc[-1]
        chaser, leader = last.sort_values(ascending=False).index
        week = overtake_step(profit[leader].to_numpy(), profit[chaser].to_numpy())
        if week is not None and week > 1:
            step = profit.index[week]
            ax.axvline(step, color="black", ls="--", lw=1)
            ax.annotate(f"{chaser} ahead for good from week {step}", (step, 0), xytext=(4, 6),
                        textcoords="offset points", fontsize=9)  # fmt: skip
    ax.set_ylabel("cumulative profit (money units)")
    ax.set_title("Cumulative profit")
    return _finish(fig, [ax], "Profit")


FIGURES = {
    "retention": retention_figure,
    "reputation": reputation_figure,
    "trust": trust_figure,
    "profit": profit_figure,
}


def figures(ts: pd.DataFrame, events: pd.DataFrame | None = None) -> dict[str, Figure]:
    """A run's standard figures by name, for a notebook (``plots.figures(result.timeseries,
    result.events)``): retention, reputation, trust and profit; for replicated runs (a
    ``replication`` column) each firm's mean with its 95% band, for retention,
    reputation, profit and NPV. Each event of ``events`` is a labelled vertical line."""
    if "in_market" in ts.columns:  # a firm out of the market has no line (ODD 8a)
        shown = [c for c in ts.columns if c not in ("step", "firm", "replication", "in_market")]
        ts = ts.assign(**{c: ts[c].where(ts["in_market"] > 0) for c in shown})
    if "replication" in ts.columns:
        drawn = {
            name: replicated_figure(ts, metric, label) for name, (metric, label) in ENSEMBLE.items()
        }
    else:
        drawn = {name: make(ts) for name, make in FIGURES.items()}
    if events is not None and not events.empty:
        for fig in drawn.values():
            mark_events(fig, events)
    return drawn


def mark_events(fig: Figure, events: pd.DataFrame) -> None:
    """A dotted vertical line at each event's week on every panel, labelled at the top
    (``breach: short_term``); replications' copies of one event are drawn once."""
    from trustsim.events import label

    unique = events.drop_duplicates(["week", "kind", "firm", "detail"])
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}
    for ax in fig.axes:
        for row in unique.to_dict("records"):
            ax.axvline(row["week"], color="0.35", linestyle=":", linewidth=1.2)
            ax.annotate(label({str(k): v for k, v in row.items()}), (row["week"], 0.98),
                        xycoords=("data", "axes fraction"), rotation=90, ha="right", va="top",
                        fontsize=8, color="0.2", bbox=box)  # fmt: skip
        if ax.get_legend() is not None:  # beside the panel, clear of the labels
            ax.legend(title="firm", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()


def replicated_figure(ts: pd.DataFrame, metric: str, label: str) -> Figure:
    """One scenario's replications: each firm's mean over them with its 95% band."""
    runs = pd.DataFrame({"run_id": ts["replication"].unique(), "design_id": 0})
    bands = replication_bands(ts.assign(run_id=ts["replication"]), runs, metric)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for firm, b in bands.groupby("firm"):
        low, high = b["low"], b["high"]
        if metric in BOUNDED:
            low, high = low.clip(0, 1), high.clip(0, 1)
        (line,) = ax.plot(b["step"], b["mean"], label=str(firm))
        ax.fill_between(b["step"], low, high, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("week")
    ax.set_ylabel(label)
    n = ts["replication"].nunique()
    ax.set_title(f"{label.split(' (')[0].capitalize()}: mean of {n} replications, 95% band")
    ax.legend(title="firm")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


ENSEMBLE = {
    "retention": ("cohort_retention", "cohort retention (share of week-0 customers)"),
    "reputation": ("reputation", "reputation (mean trust of all customers)"),
    "profit": ("cumulative_profit", "cumulative profit (money units)"),
    "npv": ("npv", "NPV (money units)"),
}
BOUNDED = {"cohort_retention", "reputation", "share"}  # bands clipped to [0, 1]


def replication_bands(ts: pd.DataFrame, runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Mean and 95% t-interval across replications, per design point, firm and step."""
    from scipy import stats

    merged = ts.merge(runs[["run_id", "design_id"]], on="run_id")
    grouped = merged.groupby(["design_id", "firm", "step"])[metric]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    half = stats.t.ppf(0.975, (out["count"] - 1).clip(lower=1)) * out["std"] / np.sqrt(out["count"])
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out
