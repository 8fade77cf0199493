"""The summary statistics a fit compares with a market's data (ODD 8.6): one registry.

A statistic reads the simulated runs of one parameter draw (:class:`Simulated`: the
scenario's timeseries over replications) and returns one number, the mean over the
replications. Four families:

- every per-firm metric of the timeseries at a week (``cohort_retention``, ``nps``,
  ``share``, ...; ODD 4), with ``firm`` and ``week``;
- ``churn``: the share of a firm's (or ``all``) customers at the start of a window of
  ``window`` weeks ending at ``week`` who left their firm in the window;
- ``market_nps``: the NPS of all the market's customers at a week;
- ``reconsider``: customers who reconsidered the market in the year to ``week`` per
  customer the firm had on average (a firm, or ``all``), and ``switch_given_reconsider``:
  of those, the share who switched firm or left;
- ``star_share_1`` ... ``star_share_5``: the share of a firm's reviews in weeks 1 to
  ``week`` with that many stars;

and every calibration fact of ODD 8.4 but the three that check a mechanism across
many worlds, computed by the very functions of :mod:`trustsim.facts` (read at week
52); a fact that needs another version of the market (two identical firms that do or
do not warn, a price rise) has those runs made for each draw (``facts.VARIANTS``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from trustsim import facts
from trustsim.config import Scenario
from trustsim.metrics import FIRM_METRICS

YEAR = 52
FactValue = tuple[np.ndarray, float | None]


@dataclass
class Simulated:
    """One draw's runs: each variant's timeseries (a ``replication`` column) and, where a
    fact needs them, the per-customer panels, by variant.

    It is a :class:`trustsim.facts.Tables` (and gives ``panels``), so the facts read
    it as they read ``trustsim facts`` runs: the very same functions.
    """

    scenario: Scenario
    runs: dict[str, pd.DataFrame]
    panel_runs: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    _tables: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict, repr=False)
    _left_after_warning: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _premiums: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def timeseries(self) -> pd.DataFrame:
        """The scenario's own runs."""
        return self.runs["scenario"]

    def table(self, variant: str, metric: str) -> pd.DataFrame:
        """``metric`` of ``variant`` indexed by (replication, step), one column per firm."""
        if variant not in self.runs:
            raise KeyError(f"this fit did not simulate the {variant!r} variant")
        if (variant, metric) not in self._tables:
            self._tables[variant, metric] = self.runs[variant].pivot_table(
                index=["replication", "step"], columns="firm", values=metric
            )
        return self._tables[variant, metric]

    def panels(self, variant: str) -> list[pd.DataFrame]:
        """The per-customer panels of a variant's runs, in replication order."""
        return self.panel_runs[variant]

    def replication(self, r: int) -> Simulated:
        """The same draw's replication ``r`` alone."""
        runs = {v: t[t["replication"] == r] for v, t in self.runs.items()}
        panels = {v: [p[r]] for v, p in self.panel_runs.items()}
        return Simulated(self.scenario, runs, panels)


@dataclass(frozen=True)
class Target:
    """Where a statistic is read: the firm (or ``all``), the week and the window."""

    firm: str | None = None
    week: int | None = None
    window: int | None = None


@dataclass(frozen=True)
class Statistic:
    """One summary statistic: its name, meaning, what a target must give, and how."""

    name: str
    meaning: str
    needs: tuple[str, ...]  # of "firm", "week", "window"
    compute: Callable[[Simulated, Target], float]


def _firm_at(metric: str) -> Callable[[Simulated, Target], float]:
    def compute(sim: Simulated, at: Target) -> float:
        table = sim.table("scenario", metric)
        return float(table.xs(at.week, level="step")[str(at.firm)].mean())

    return compute


def _window(sim: Simulated, metric: str, firm: str | None, first: int, last: int) -> pd.Series:
    """Per replication: ``metric`` summed over weeks first..last for ``firm`` (all: None)."""
    table = sim.table("scenario", metric)
    steps = table.index.get_level_values("step")
    part = table[(steps >= first) & (steps <= last)]
    column = part.sum(axis=1) if firm is None else part[firm]
    return column.groupby(level="replication").sum()


def _customers(sim: Simulated, firm: str | None, step: int) -> pd.Series:
    table = pd.DataFrame(sim.table("scenario", "customers").xs(step, level="step"))
    return table.sum(axis=1) if firm is None else table[firm]


def _pooled(firm: str | None) -> str | None:
    return None if firm in (None, "all") else firm


def churn(sim: Simulated, at: Target) -> float:
    """Churns of the firm (or ``all``) in weeks week-window+1..week over its customers at
    the start (a customer who left twice counts twice)."""
    week, window, firm = int(at.week or 0), int(at.window or 0), _pooled(at.firm)
    left = _window(sim, "churns", firm, week - window + 1, week)
    return float((left / _customers(sim, firm, week - window)).mean())


def market_nps(sim: Simulated, at: Target) -> float:
    """The NPS of all the market's customers at ``week``: the firms' NPS weighted by
    their customers (an industry's average)."""
    customers = pd.DataFrame(sim.table("scenario", "customers").xs(at.week, level="step"))
    nps = pd.DataFrame(sim.table("scenario", "nps").xs(at.week, level="step")).fillna(0.0)
    return float(((nps * customers).sum(axis=1) / customers.sum(axis=1)).mean())


def reconsider(sim: Simulated, at: Target) -> float:
    """Customers who reconsidered in the year to ``week``, per customer on average."""
    week, firm = int(at.week or 0), _pooled(at.firm)
    searched = _window(sim, "searches", firm, week - YEAR + 1, week)
    table = sim.table("scenario", "customers")
    steps = table.index.get_level_values("step")
    held = table[(steps > week - YEAR) & (steps <= week)]
    mean = (held.sum(axis=1) if firm is None else held[firm]).groupby(level="replication").mean()
    return float((searched / mean).mean())


def switch_given_reconsider(sim: Simulated, at: Target) -> float:
    """Of those who reconsidered in the year to ``week``, the share who switched or left."""
    week, firm = int(at.week or 0), _pooled(at.firm)
    moved = _window(sim, "churns", firm, week - YEAR + 1, week)
    searched = _window(sim, "searches", firm, week - YEAR + 1, week)
    return float((moved / searched).mean())


def _star_share(stars: int) -> Callable[[Simulated, Target], float]:
    def compute(sim: Simulated, at: Target) -> float:
        week = int(at.week or 0)
        counts = [_window(sim, f"stars_{k}", at.firm, 1, week).sum() for k in range(1, 6)]
        return float(counts[stars - 1] / max(sum(counts), 1.0))

    return compute


def _fact(fact: facts.Fact) -> Callable[[Simulated, Target], float]:
    def compute(sim: Simulated, at: Target) -> float:
        values, pooled = cast(Callable[[facts.Tables], FactValue], fact.compute)(sim)
        return float(np.nanmean(values)) if pooled is None else float(pooled)

    return compute


MECHANISM_FACTS = ("proof_gini", "proof_unpredictability", "bass_limit")
"""Facts of ODD 8.4 that check a mechanism across many worlds (MusicLab's inequality,
the Bass limit), not something a market's data show: not fit targets."""


def needs(statistic: str) -> tuple[tuple[str, ...], bool]:
    """The variants a statistic's runs must include, and whether they need panels."""
    return facts.FACT_VARIANTS.get(statistic, (("scenario",), False))


STATISTICS: dict[str, Statistic] = {
    **{
        m.name: Statistic(m.name, f"{m.definition} ({m.unit})", ("firm", "week"), _firm_at(m.name))
        for m in FIRM_METRICS
        if m.name != "in_market"
    },
    "churn": Statistic(
        "churn", "share of the firm's (or all) customers at the window's start who left "
        "their firm in it", ("firm", "week", "window"), churn,
    ),
    "market_nps": Statistic(
        "market_nps", "NPS of all the market's customers at week (the firms' NPS weighted "
        "by their customers)", ("week",), market_nps,
    ),
    "reconsider": Statistic(
        "reconsider", "customers who reconsidered in the year to week, per customer "
        "(firm or all)", ("firm", "week"), reconsider,
    ),
    "switch_given_reconsider": Statistic(
        "switch_given_reconsider", "of those who reconsidered in the year to week, the "
        "share who switched or left (firm or all)", ("firm", "week"), switch_given_reconsider,
    ),
    **{
        f"star_share_{k}": Statistic(
            f"star_share_{k}", f"share of the firm's reviews in weeks 1 to week with {k} "
            f"star{'s' * (k > 1)}",
            ("firm", "week"), _star_share(k),
        )
        for k in range(1, 6)
    },
    **{
        f.name: Statistic(f.name, f"fact (ODD 8.4): {f.measure}", (), _fact(f))
        for f in facts.FACTS
        if f.name not in MECHANISM_FACTS
    },
}  # fmt: skip
"""Every statistic a target can name, by name."""


def listing() -> str:
    """The registry in words, for ``trustsim calibrate --list``."""
    width = max(map(len, STATISTICS))
    lines = [
        f"{name:<{width}}  {stat.meaning}"
        + (f"  [needs {', '.join(stat.needs)}]" if stat.needs else "")
        for name, stat in STATISTICS.items()
    ]
    return "\n".join(lines)
