"""Read the contestability sweeps of ODD 8.4: who wins where, and what moves the crossover.

    trustsim sweep experiments/regime_map_full.yaml --out results/regime_map_full
    python experiments/contestability.py regime results/regime_map_full [--figure FILE]
    trustsim sweep experiments/regime_map.yaml --out results/regime_map   # named conditions
    python experiments/contestability.py regime results/regime_map
    trustsim sweep experiments/levers.yaml --out results/levers
    python experiments/contestability.py levers results/levers

``regime`` prints the share of markets each preset wins on NPV at the last week, the
distribution of the week trust_first overtakes on cumulative profit, the
correlation of the NPV gap with each market condition, and the shares in the
markets whose search rate is near the calibrated default (ODD 8.4). Writes a
figure of the NPV gap against the two conditions that correlate most with it.
``levers`` prints, per lever, the overtaking week of each seed, their mean, and
the mean NPV gap.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from trustsim.config import Market
from trustsim.experiment.store import open_results
from trustsim.metrics import overtake_step
from trustsim.policy.analysis import describe_box, discover

CHALLENGER, INCUMBENT = "trust_first", "short_term"
HORIZON = 156
CALIBRATED_SEARCH = Market().review_rate  # the default, calibrated in ODD 8.4


def overtaking_week(profit: pd.DataFrame) -> float:
    """First week from which CHALLENGER stays ahead on cumulative profit (NaN: never)."""
    index = overtake_step(profit[INCUMBENT].to_numpy(), profit[CHALLENGER].to_numpy())
    return np.nan if index is None else float(profit.index[index])


def markets(folder: Path) -> pd.DataFrame:
    """One row per market: its conditions, the NPV gap and the overtaking week."""
    result = open_results(folder)
    runs = result.runs[result.runs["status"] == "ok"].set_index("run_id")
    gap = runs[f"final.{CHALLENGER}.npv"] - runs[f"final.{INCUMBENT}.npv"]
    profit = result.timeseries().pivot_table(
        index=["run_id", "step"], columns="firm", values="cumulative_profit"
    )
    weeks = profit.groupby(level="run_id").apply(lambda p: overtaking_week(p.droplevel(0)))
    conditions = runs.filter(like="param.").rename(columns=lambda c: c.removeprefix("param."))
    return conditions.assign(npv_gap=gap, overtakes=weeks)


def correlations(table: pd.DataFrame) -> pd.Series:
    """Each market condition's correlation with the NPV gap, strongest first."""
    corr = table.drop(columns=["npv_gap", "overtakes"]).corrwith(table["npv_gap"])
    return corr.reindex(corr.abs().sort_values(ascending=False).index)


def summary(table: pd.DataFrame) -> str:
    wins = (table["npv_gap"] > 0).mean()
    weeks = table["overtakes"]
    corr = correlations(table)
    near = table[table["market.review_rate"] <= 3 * CALIBRATED_SEARCH]
    lines = [
        f"{len(table)} markets: {CHALLENGER} wins NPV in {wins:.1%}, {INCUMBENT} in {1 - wins:.1%}",
        f"{CHALLENGER} overtakes on cumulative profit: median week {weeks.median():.0f}, "
        f"mean {weeks.mean():.1f}, range {weeks.min():.0f} to {weeks.max():.0f}, "
        f"never in {int(weeks.isna().sum())}",
        "correlation of the NPV gap with each condition:",
        *(f"  {name:40s} {value:+.2f}" for name, value in corr.items()),
        f"markets with review_rate <= {3 * CALIBRATED_SEARCH:g} (3x the calibrated default): "
        f"{len(near)}, {CHALLENGER} wins {(near['npv_gap'] > 0).mean():.1%}",
        "where each preset wins (decision tree of depth 3, leaves of at least 5% of markets):",
        *boxes(table),
    ]
    return "\n".join(lines)


def boxes(table: pd.DataFrame) -> list[str]:
    """Scenario discovery: boxes of market conditions and the preset that wins inside."""
    conditions = table.drop(columns=["npv_gap", "overtakes"])
    found = discover(conditions, table["npv_gap"] > 0, depth=3)
    lines = []
    for _, box in found.groupby("box", sort=False):
        winner = CHALLENGER if box["outcome"].iloc[0] == "pays" else INCUMBENT
        lines.append(
            f"  {winner} wins {box['density'].iloc[0]:.0%} of {box['scenarios'].iloc[0]} "
            f"markets (coverage {box['coverage'].iloc[0]:.0%}) where {describe_box(box)}"
        )
    return lines


def figure(table: pd.DataFrame, path: Path) -> None:
    x, y = correlations(table).index[:2]
    fig, ax = plt.subplots(figsize=(7, 5), constrained_layout=True)
    wins = table["npv_gap"] > 0
    for mask, label, marker in ((wins, CHALLENGER, "o"), (~wins, INCUMBENT, "x")):
        ax.scatter(table.loc[mask, x], table.loc[mask, y], marker=marker, label=f"{label} wins")
    if x == "market.review_rate":
        ax.axvline(CALIBRATED_SEARCH, color="grey", linestyle="--", label="calibrated default")
    if y == "market.review_rate":
        ax.axhline(CALIBRATED_SEARCH, color="grey", linestyle="--", label="calibrated default")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title("Which preset wins NPV at week 156, by market")
    fig.legend(loc="outside lower center", ncols=3)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def levers(table: pd.DataFrame) -> str:
    lines = []
    for name, group in table.groupby("name", sort=False):
        weeks = group["overtakes"]
        censored = weeks.fillna(HORIZON + 1)  # never overtakes: later than the horizon
        lines.append(
            f"{name:32s} weeks {[None if np.isnan(w) else int(w) for w in weeks]}  "
            f"mean {censored.mean():5.1f}  NPV gap {group['npv_gap'].mean():8.0f}  "
            f"{CHALLENGER} wins {(group['npv_gap'] > 0).sum()}/{len(group)}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["regime", "levers"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--figure", type=Path, help="regime only: where to write the map")
    args = parser.parse_args()
    table = markets(args.folder)
    if args.kind == "levers":
        print(levers(table))
        return
    print(summary(table))
    if args.figure:
        figure(table, args.figure)


if __name__ == "__main__":
    main()
