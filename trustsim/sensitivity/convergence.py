"""Convergence: indices on growing sub-samples, and whether the ranking still moves."""

from __future__ import annotations

import numpy as np
import pandas as pd


def subsample_sizes(n: int) -> list[int]:
    """Powers of two from 8 (or n) up to n, then n itself."""
    sizes = [2**k for k in range(3, int(np.log2(n)) + 1) if 2**k < n]
    return [*sizes, n]


INDEX_TOLERANCE = 0.05
"""An index has converged when its interval's half-width is at most this share of the
largest index of the output (Sarrazin, Pianosi & Wagener 2016 use 0.05 for Sobol)."""


def convergence_in_words(indices: pd.DataFrame, output: str, key: str) -> str:
    """Convergence as Sarrazin, Pianosi & Wagener (2016) read it, between the two
    largest sub-samples: screening (the same factors are influential: clear of zero and
    of the dummy), ranking (the same order among them) and index (intervals narrow
    against the largest index), each with its own verdict."""
    rows = indices[(indices["output"] == output) & (indices["index"] == key)]
    rows = rows[rows["flag"] != "dummy"]  # the dummy is the yardstick, not a factor
    sizes = sorted(rows["n"].unique())
    if len(sizes) < 2:
        return "Convergence was not checked (one sample size)."
    before, last = (rows[rows["n"] == size] for size in sizes[-2:])
    clear = [set(t.loc[~t["flag"].astype(bool), "factor"]) for t in (before, last)]
    screening = (
        "screening has converged (the same factors are influential)"
        if clear[0] == clear[1]
        else "screening has not converged (the influential factors changed)"
    )
    order = [
        [f for f in t.sort_values("value", ascending=False)["factor"] if f in clear[1]]
        for t in (before, last)
    ]
    if order[0] == order[1]:
        ranking = "the ranking of those factors is the same" if clear[1] else "no factor is clear"
    else:
        ranking = "the ranking of those factors changed: take a larger n"
    top = float(last["value"].abs().max())
    widest = float(last["conf"].max()) if last["conf"].notna().any() else float("nan")
    if not np.isfinite(widest) or top == 0:
        index = "the indices have no intervals to judge"
    elif widest <= INDEX_TOLERANCE * top:
        index = "the indices have converged (every interval within 5% of the largest index)"
    else:
        index = (
            f"the indices have not converged (the widest interval, ±{widest:.3g}, is "
            f"{widest / top:.0%} of the largest index)"
        )
    return (
        f"Convergence between n = {sizes[-2]} and n = {sizes[-1]}: {screening}; {ranking}; {index}."
    )
