"""Convergence: indices on growing sub-samples, and whether the ranking still moves."""

from __future__ import annotations

import numpy as np
import pandas as pd


def subsample_sizes(n: int) -> list[int]:
    """Powers of two from 8 (or n) up to n, then n itself."""
    sizes = [2**k for k in range(3, int(np.log2(n)) + 1) if 2**k < n]
    return [*sizes, n]


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
