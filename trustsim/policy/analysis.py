"""Paired contrasts, break-even weeks and scenario discovery from a policy study's runs.

Everything here is a function of two tables any user can rebuild from the
raw runs: ``runs`` (``run_id``, ``policy``, ``scenario``, ``replication``) and
the long timeseries (``run_id``, ``step``, ``firm``, metrics).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from trustsim.metrics import overtake_step
from trustsim.recovery import FALL_WINDOW

if TYPE_CHECKING:
    from sklearn.tree import DecisionTreeClassifier

KEYS = ["scenario", "replication", "firm", "step"]


def paired_differences(
    runs: pd.DataFrame, timeseries: pd.DataFrame, baseline: str, metrics: list[str]
) -> pd.DataFrame:
    """Long table of policy minus baseline, per (policy, scenario, replication, firm, step)."""
    ts = timeseries.merge(runs[["run_id", "policy", *KEYS[:2]]], on="run_id")
    long = ts.melt(id_vars=["policy", *KEYS], value_vars=metrics, var_name="metric")
    base = long[long["policy"] == baseline].drop(columns="policy")
    treated = long[long["policy"] != baseline]
    paired = treated.merge(base, on=[*KEYS, "metric"], suffixes=("", "_baseline"))
    paired["difference"] = paired["value"] - paired["value_baseline"]
    return paired[["policy", *KEYS, "metric", "difference"]]


def contrasts(differences: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean paired difference over replications with its t-interval and n."""
    groups = differences.groupby(["policy", "scenario", "firm", "metric", "step"], sort=False)
    table = groups["difference"].agg(mean="mean", sd="std", n="count").reset_index()
    half = stats.t.ppf(0.5 + level / 2, np.maximum(table["n"] - 1, 1)) * table["sd"]
    half = (half / np.sqrt(table["n"])).fillna(0.0)
    table["ci_low"] = table["mean"] - half
    table["ci_high"] = table["mean"] + half
    return table.drop(columns="sd")[
        ["policy", "scenario", "firm", "metric", "step", "mean", "ci_low", "ci_high", "n"]
    ]


def breakeven_week(steps: np.ndarray, mean: np.ndarray) -> float:
    """The first step from which ``mean`` stays above 0 to the horizon (NaN: never)."""
    index = overtake_step(np.zeros_like(mean), mean)
    return np.nan if index is None else float(steps[index])


def breakeven(
    contrast: pd.DataFrame, differences: pd.DataFrame, metrics: tuple[str, ...]
) -> pd.DataFrame:
    """Break-even week of the mean contrast, and the share of replications that pay at the end."""
    horizon = int(differences["step"].max())
    final = differences[(differences["step"] == horizon) & differences["metric"].isin(metrics)]
    pays = (
        final.assign(pays=final["difference"] > 0)
        .groupby(["policy", "scenario", "firm", "metric"], sort=False)["pays"]
        .mean()
        .rename("p_pays")
    )
    rows = []
    for key, group in contrast[contrast["metric"].isin(metrics)].groupby(
        ["policy", "scenario", "firm", "metric"], sort=False
    ):
        group = group.sort_values("step")
        week = breakeven_week(group["step"].to_numpy(), group["mean"].to_numpy())
        rows.append((*key, week))
    table = pd.DataFrame(rows, columns=["policy", "scenario", "firm", "metric", "week"])
    return table.merge(pays.reset_index(), on=["policy", "scenario", "firm", "metric"])


PAYS, LOSES, INCONCLUSIVE = "pays", "loses", "inconclusive"


def verdicts(final: pd.DataFrame) -> pd.Series:
    """Per market, whether the policy pays: its paired 95% interval at the horizon lies
    above 0 (``pays``), below 0 (``loses``) or spans 0 (``inconclusive``). ``final`` has
    the contrast's ``ci_low`` and ``ci_high``, one row per market."""
    return pd.Series(
        np.select([final["ci_low"] > 0, final["ci_high"] < 0], [PAYS, LOSES], default=INCONCLUSIVE),
        index=final.index,
        name="verdict",
    )


def breakeven_summary(weeks: pd.Series) -> tuple[float, float]:
    """The share of markets that break even within the horizon, and the median week
    among those (NaN if none): "never" is censored, never averaged with a week."""
    reached = weeks.dropna()
    share = len(reached) / len(weeks) if len(weeks) else float("nan")
    return share, float(reached.median()) if len(reached) else float("nan")


def discover(
    conditions: pd.DataFrame, pays: pd.Series, *, depth: int = 2, min_leaf: float = 0.05
) -> pd.DataFrame:
    """Boxes of market conditions in which the policy pays, and in which it does not.

    A shallow decision tree (scikit-learn) splits the scenarios; each leaf is a
    box (the bounds on its path). ``coverage`` is the share of all scenarios of
    the box's class that fall in it, ``density`` the share of the box's
    scenarios that are of its class (PRIM's measures). One row per box and
    restricted parameter; a box with no restriction has parameter ``None``.
    """
    columns = ["outcome", "box", "parameter", "low", "high", "coverage", "density", "scenarios"]
    y = pays.to_numpy(dtype=bool)
    if len(y) < 4 or y.all() or not y.any():
        return pd.DataFrame(columns=columns)
    from sklearn.tree import DecisionTreeClassifier  # on use: importing it sets env variables

    x = conditions.to_numpy(dtype=float)
    leaf = max(2, int(np.ceil(min_leaf * len(y))))
    tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=leaf, random_state=0)
    tree.fit(x, y)
    leaves = tree.apply(x)
    rows = []
    for number, (node, bounds) in enumerate(_leaf_boxes(tree, list(conditions.columns)).items()):
        inside = leaves == node
        outcome = "pays" if y[inside].mean() >= 0.5 else "does not pay"
        of_class = y if outcome == "pays" else ~y
        coverage = float((inside & of_class).sum() / of_class.sum())
        density = float(of_class[inside].mean())
        restricted = bounds.items() or [(None, (np.nan, np.nan))]
        for parameter, (low, high) in restricted:
            rows.append(
                (outcome, number, parameter, low, high, coverage, density, int(inside.sum()))
            )
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["outcome", "coverage"], ascending=[False, False], kind="stable")


def _leaf_boxes(
    tree: DecisionTreeClassifier, names: list[str]
) -> dict[int, dict[str, tuple[float, float]]]:
    """Each leaf's bounds ``{parameter: (low, high)}`` from the thresholds on its path."""
    t = tree.tree_
    boxes: dict[int, dict[str, tuple[float, float]]] = {}

    def walk(node: int, bounds: dict[str, tuple[float, float]]) -> None:
        if t.children_left[node] == -1:
            boxes[node] = bounds
            return
        name, cut = names[t.feature[node]], float(t.threshold[node])
        low, high = bounds.get(name, (-np.inf, np.inf))
        walk(t.children_left[node], {**bounds, name: (low, min(high, cut))})
        walk(t.children_right[node], {**bounds, name: (max(low, cut), high)})

    walk(0, {})
    return boxes


EVERY_MARKET = "in every market tried"
"""How :func:`describe_box` words a box without bounds (the tree made no split)."""


def describe_box(box: pd.DataFrame) -> str:
    """A box in words: ``market.review_rate > 0.031 and market.beta_rating <= 0.4``."""
    parts = []
    for parameter, low, high in zip(box["parameter"], box["low"], box["high"], strict=True):
        if parameter is None or pd.isna(parameter):
            return EVERY_MARKET
        low, high = float(low), float(high)
        if np.isfinite(low) and np.isfinite(high):
            parts.append(f"{parameter} between {low:.3g} and {high:.3g}")
        elif np.isfinite(low):
            parts.append(f"{parameter} > {low:.3g}")
        else:
            parts.append(f"{parameter} <= {high:.3g}")
    return " and ".join(parts)


SWITCH_COLUMNS = [
    "policy", "scenario", "firm", "switch_week", "cost", "cost_low", "cost_high", "deepest_week",
    "payback_week", "weeks_to_pay_back", "npv", "npv_low", "npv_high",
]  # fmt: skip


def switch_costs(
    contrast: pd.DataFrame, policy: str, firm: str, switch_week: int, horizon: int
) -> pd.DataFrame:
    """What a switch in ``switch_week`` costs while under way, and when it pays back.

    Per scenario, from the paired contrast of cumulative profit for ``firm``: the
    deepest shortfall after the switch (``cost``, positive, with the 95% interval of
    the contrast in that week), the week it is deepest, the week from which the
    contrast stays above 0 (``payback_week``, NaN: not by the horizon) and how many
    weeks after the switch that is; and the NPV contrast at the horizon. Before the
    switch the paired runs are identical, so every contrast there is exactly 0.
    """
    c = contrast[(contrast["policy"] == policy) & (contrast["firm"] == firm)]
    rows = []
    for scenario, group in c.groupby("scenario", sort=False):
        profit = group[group["metric"] == "cumulative_profit"].sort_values("step")
        after = profit[profit["step"] >= switch_week].reset_index(drop=True)
        deepest = after.iloc[int(after["mean"].to_numpy().argmin())]
        shortfall = max(0.0, -float(deepest["mean"]))
        payback = breakeven_week(profit["step"].to_numpy(), profit["mean"].to_numpy())
        npv = group[(group["metric"] == "npv") & (group["step"] == horizon)].iloc[0]
        rows.append((
            policy, scenario, firm, switch_week, shortfall, -float(deepest["ci_high"]),
            -float(deepest["ci_low"]), int(deepest["step"]), payback, payback - switch_week,
            float(npv["mean"]), float(npv["ci_low"]), float(npv["ci_high"]),
        ))  # fmt: skip
    return pd.DataFrame(rows, columns=SWITCH_COLUMNS)


HARM_COLUMNS = [
    "policy", "scenario", "firm", "metric", "event_week", "deepest", "deepest_low",
    "deepest_high", "deepest_week", "halved_week", "weeks_to_halve",
]  # fmt: skip


def harm_halflife(
    contrast: pd.DataFrame, policy: str, firm: str, week: int, metrics: list[str]
) -> pd.DataFrame:
    """How deep the harm of an event in ``week`` goes, and when it has halved.

    Per scenario and metric, from the paired contrast (policy minus baseline) for
    ``firm``: the lowest mean contrast within a quarter of the event (``deepest``, with
    the 95% interval of that week; ``recovery.FALL_WINDOW``), and the first week after
    it at which the mean contrast is back above half of it (``halved_week``, NaN: not
    by the horizon). Unlike the return to the level before the event, this does not
    depend on the firm's trend: the same firm without the event moves the same way.
    """
    c = contrast[(contrast["policy"] == policy) & (contrast["firm"] == firm)]
    rows = []
    for (scenario, metric), group in c[c["metric"].isin(metrics)].groupby(
        ["scenario", "metric"], sort=False
    ):
        after = group[group["step"] >= week].sort_values("step").reset_index(drop=True)
        k = int(after["mean"].to_numpy()[: FALL_WINDOW + 1].argmin())
        deepest = after.iloc[k]
        later = after.iloc[k:]
        halved = later[later["mean"] >= deepest["mean"] / 2]
        halved_week = float(halved["step"].iloc[0]) if len(halved) else float("nan")
        if deepest["mean"] >= 0:  # no harm in this metric
            halved_week = float(week)
        rows.append((
            policy, scenario, firm, metric, week, float(deepest["mean"]),
            float(deepest["ci_low"]), float(deepest["ci_high"]), int(deepest["step"]),
            halved_week, halved_week - week,
        ))  # fmt: skip
    return pd.DataFrame(rows, columns=HARM_COLUMNS)
