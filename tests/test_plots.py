"""The run figures (plots.py): every panel has data, a title and labelled axes."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import trustsim
from trustsim.figures import FIGURES, figures, profit_figure
from trustsim.plots import save_run_figures


@pytest.fixture(scope="module")
def timeseries() -> object:
    scenario = trustsim.Scenario().with_overrides({"population.size": 300})
    return trustsim.run(scenario, seed=3, steps=30).timeseries


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_no_empty_panel(name: str, timeseries: object) -> None:
    fig = FIGURES[name](timeseries)
    try:
        for ax in fig.axes:
            assert ax.get_title() or fig._suptitle is not None  # type: ignore[attr-defined]
            assert ax.get_xlabel() and ax.get_ylabel()
            lines = [line for line in ax.get_lines() if len(line.get_xdata()) > 1]
            assert lines, f"{name}: a panel without data"
            assert ax.get_legend() is not None or len(lines) == 1 or fig.legends
    finally:
        plt.close(fig)


def vertical_lines(fig: object) -> list[float]:
    return [
        float(line.get_xdata()[0])
        for ax in fig.axes  # type: ignore[attr-defined]
        for line in ax.get_lines()
        if len(set(line.get_xdata())) == 1
    ]


@pytest.mark.parametrize(("b_overtakes", "marks"), [(True, [9.0]), (False, [])])
def test_profit_figure_marks_the_week_the_leader_took_the_lead(
    b_overtakes: bool, marks: list[float]
) -> None:
    # a earns 5 a week; b earns nothing for 4 weeks, then 10 a week: ahead from week 9 (50 > 45)
    weeks = np.arange(21)
    a = 5.0 * weeks
    b = np.where(weeks < 5, 0.0, 10.0 * (weeks - 4)) if b_overtakes else 2.0 * weeks
    ts = pd.DataFrame(
        {
            "step": np.concatenate([weeks, weeks]),
            "firm": ["a"] * 21 + ["b"] * 21,
            "cumulative_profit": np.concatenate([a, b]),
        }
    )
    fig = profit_figure(ts)
    try:
        assert vertical_lines(fig) == marks
    finally:
        plt.close(fig)


def test_save_run_figures_writes_pngs(tmp_path: Path, timeseries: object) -> None:
    paths = save_run_figures(timeseries, tmp_path)  # type: ignore[arg-type]
    assert sorted(p.name for p in paths) == sorted(f"{n}.png" for n in FIGURES)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_a_run_results_standard_figures_for_a_notebook() -> None:
    sc = trustsim.Scenario().with_overrides({"population.size": 60})
    one = figures(trustsim.run(sc, seed=1, steps=5).timeseries)
    assert sorted(one) == ["profit", "reputation", "retention", "trust"]
    many = figures(trustsim.run_replications(sc, 3, seed=1, steps=5).timeseries)
    assert sorted(many) == ["npv", "profit", "reputation", "retention"]
    for figure in [*one.values(), *many.values()]:
        assert figure.axes and all(ax.has_data() for ax in figure.axes if ax.get_visible())
        plt.close(figure)
