"""Observation (ODD section 4, observation): pure functions from arrays to metrics.

:data:`FIRM_METRICS` is the registry: every per-firm metric's name, unit,
definition and formula, in one place. Each engine sums its customers into
tallies its own way (the fast one in a compiled pass, ``phases.tally``, the reference agent by
agent); ``firm_metrics`` turns the tallies into the columns of
``RunResult.timeseries``, and ``population_metrics`` gives those of
``RunResult.population``. ``markdown_table`` is the table in ``docs/ODD.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

EVENT_COUNTS: dict[str, str] = {
    "encounters": "purchases (service encounters)",
    "searches": "customers who reconsidered the market (stay, switch or leave)",
    "stories_positive": "customers with a good story to tell",
    "stories_negative": "customers with a bad story to tell",
    "wom_positive": "positive word-of-mouth messages delivered",
    "wom_negative": "negative word-of-mouth messages delivered",
    "warnings": "customers warned before a costly mistake",
    "exploited": "mistakes exploited (not warned)",
    "discovered": "exploited mistakes the customer found out",
    "complaints": "complaints after a failed service",
    "recoveries": "complaints resolved",
    "breaches": "data breaches",
    "breach_hit": "customers whose data a breach exposed",
    "care_contacts": "proactive care contacts made",
    "new_reviews": "reviews posted",
    **{f"stars_{k}": f"{k}-star reviews posted" for k in range(1, 6)},
}
"""This step's counts of events per firm, straight from the ledger, with their meaning."""

Tallies = Mapping[str, Any]
"""Per-firm arrays (and the scalar ``population``) from which every metric is computed:
sums over each firm's customers (``phases.tally``), this step's ledger flows and the
firm's accounts. Both engines build them their own way; the formulas are here."""


@dataclass(frozen=True)
class Metric:
    """One per-firm column of ``RunResult.timeseries``: its name, unit, definition and
    formula over the :data:`Tallies` (ODD 4, observation)."""

    name: str
    unit: str
    definition: str
    formula: Callable[[Tallies], Any]


def _read(key: str) -> Callable[[Tallies], Any]:
    return lambda t: t[key]


def _per_customer(key: str) -> Callable[[Tallies], Any]:
    return lambda t: ratio(t[key], t["customers"])


FIRM_METRICS: tuple[Metric, ...] = (
    Metric("customers", "customers", "current customers", _read("customers")),
    Metric("share", "fraction", "customers / N", lambda t: t["customers"] / t["population"]),
    Metric("acquisitions", "customers", "customers gained this step", _read("acquisitions")),
    Metric("churns", "customers", "customers lost this step", _read("churns")),
    Metric("entries", "customers", "acquisitions of prospects", _read("entries")),
    Metric("exits", "customers", "churns to the outside option", _read("exits")),
    Metric(
        "period_retention",
        "fraction",
        "1 - churns / customers at the step's start",
        lambda t: 1.0 - ratio(t["churns"], t["customers_start"]),
    ),
    Metric(
        "cohort_retention",
        "fraction",
        "share of the firm's t = 0 customers who have never moved",
        lambda t: ratio(t["cohort_customers"], t["cohort_start"]),
    ),
    Metric("revenue", "money", "this step's revenue, exploited mistakes in", _read("revenue")),
    Metric("costs", "money", "this step's costs, advertising included", _read("costs")),
    Metric("profit", "money", "revenue - costs", _read("profit")),
    Metric("cumulative_profit", "money", "profit summed to this step", _read("cumulative_profit")),
    Metric("npv", "money", "profit discounted at market.discount_rate", _read("npv")),
    Metric("mean_trust", "0..1", "mean T over the firm's customers", _per_customer("trust_sum")),
    Metric(
        "mean_cognitive", "0..1", "mean C over the firm's customers", _per_customer("cognitive_sum")
    ),
    Metric(
        "mean_affective", "0..1", "mean F over the firm's customers", _per_customer("affective_sum")
    ),
    Metric("reputation", "0..1", "mean T over all N customers", _read("reputation")),
    Metric("awareness", "fraction", "share of N aware of the firm", _read("awareness")),
    Metric(
        "in_market",
        "0 or 1",
        "1 while the firm is in the market (ODD 8a)",
        lambda t: t.get("in_market", np.ones(np.shape(t["customers"]))),
    ),
    Metric("rating", "stars", "public rating (Bayesian average, ODD 7.4)", _read("rating")),
    Metric("reviews", "reviews", "reviews posted since t = 0", _read("reviews")),
    Metric(
        "nps",
        "-100..100",
        "100 (promoters - detractors) / customers, expected answers (ODD 7.7)",
        lambda t: 100.0 * ratio(t["promoters"] - t["detractors"], t["customers"]),
    ),
    Metric(
        "csat",
        "fraction",
        "share of encounters in which the promise was kept",
        lambda t: ratio(t["satisfied"], t["encounters"]),
    ),
    *(Metric(name, "count", meaning, _read(name)) for name, meaning in EVENT_COUNTS.items()),
)
"""Every per-firm metric, in column order: the one place a metric is defined."""

FIRM_COLUMNS = tuple(metric.name for metric in FIRM_METRICS)
POPULATION_COLUMNS = ("customers", "prospects", "prospect_share", "gini", "mean_reputation")
EVENT_COLUMNS = ("week", "kind", "firm", "detail", "reached")
"""The columns of ``events.parquet``: one row per event that happened (ODD 8a)."""


def ratio(num: Any, den: Any) -> np.ndarray:
    """``num / den`` with NaN where the denominator is 0 (an undefined rate)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def gini(values: Any) -> float:
    """Gini coefficient of non-negative values (0: all equal; (n-1)/n: one holds all)."""
    x = np.sort(np.asarray(values, dtype=float))
    n, total = x.size, x.sum()
    if n == 0 or total <= 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(2.0 * (ranks * x).sum() / (n * total) - (n + 1.0) / n)


def firm_metrics(tallies: Tallies) -> dict[str, np.ndarray]:
    """Every per-firm metric of :data:`FIRM_METRICS`, as float arrays over firms."""
    return {m.name: np.asarray(m.formula(tallies), dtype=float) for m in FIRM_METRICS}


def markdown_table() -> str:
    """The per-firm metrics as a Markdown table (name, unit, definition), as ODD 4 shows it."""
    rows = [f"| `{m.name}` | {m.unit} | {m.definition} |" for m in FIRM_METRICS]
    return "\n".join(["| metric | unit | definition |", "|---|---|---|", *rows])


def population_metrics(
    customers: np.ndarray, n: int, reputation: np.ndarray, in_market: np.ndarray | None = None
) -> dict[str, float]:
    """Prospects, their share, the Gini coefficient of market shares and the mean
    reputation, over the firms in the market (``in_market``; default all)."""
    present = np.ones(customers.shape, dtype=bool) if in_market is None else in_market
    total = float(customers.sum())
    return {
        "customers": total,
        "prospects": n - total,
        "prospect_share": (n - total) / n,
        "gini": gini(customers[present]),
        "mean_reputation": float(reputation[present].mean()) if present.any() else float("nan"),
    }


def overtake_step(leader: Any, chaser: Any) -> int | None:
    """The first index at which ``chaser`` is above ``leader`` for good (None if never).

    Used for the crossover of cumulative profit: the week from which the
    chasing firm stays ahead. Both are sequences over the same steps.
    """
    ahead = np.asarray(chaser, dtype=float) > np.asarray(leader, dtype=float)
    if ahead.size == 0 or not ahead[-1]:
        return None
    behind = np.flatnonzero(~ahead)
    return 0 if behind.size == 0 else int(behind[-1] + 1)
