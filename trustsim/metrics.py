"""Observation (ODD section 4, observation): pure functions from arrays to metrics.

``firm_metrics`` gives one record per firm and step, ``population_metrics`` one
per step; their keys are the columns of ``RunResult.timeseries`` and
``RunResult.population``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trustsim import rules

# this step's counts of events, per firm (straight from the ledger)
EVENT_COUNTS = (
    "encounters",
    "stories_positive",
    "stories_negative",
    "wom_positive",
    "wom_negative",
    "warnings",
    "exploited",
    "discovered",
    "complaints",
    "recoveries",
    "breaches",
    "new_reviews",
    "stars_1",
    "stars_2",
    "stars_3",
    "stars_4",
    "stars_5",
)
FIRM_COLUMNS = (
    "customers",
    "share",
    "acquisitions",
    "churns",
    "entries",
    "exits",
    "period_retention",
    "cohort_retention",
    "revenue",
    "costs",
    "profit",
    "cumulative_profit",
    "npv",
    "mean_trust",
    "mean_cognitive",
    "mean_affective",
    "reputation",
    "awareness",
    "rating",
    "reviews",
    "nps",
    "csat",
    *EVENT_COUNTS,
)
POPULATION_COLUMNS = ("customers", "prospects", "prospect_share", "gini", "mean_reputation")


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


def firm_metrics(
    *,
    provider: np.ndarray,
    cohort: np.ndarray,
    cohort_start: np.ndarray,
    cognitive: np.ndarray,
    affect: np.ndarray,
    trust: np.ndarray,
    aware: np.ndarray,
    nps: tuple[float, float],
    flows: dict[str, np.ndarray],
    profit: np.ndarray,
    cumulative_profit: np.ndarray,
    npv: np.ndarray,
    rating: np.ndarray,
    reviews: np.ndarray,
) -> dict[str, np.ndarray]:
    """Every per-firm metric (ODD 4, observation), as arrays over firms.

    ``cognitive``, ``affect``, ``trust`` and ``aware`` are (N, M); ``nps`` is
    the survey's (shift, noise); ``flows`` holds this step's ledger
    (acquisitions, churns, revenue, ...).
    """
    n, m = trust.shape
    rows = np.flatnonzero(provider >= 0)
    f = provider[rows]
    pair = rows * m + f  # flat index of (customer, provider)

    def count(weights: Any = None) -> np.ndarray:
        return np.bincount(f, weights=weights, minlength=m).astype(float)

    def own(values: np.ndarray) -> np.ndarray:
        return values.ravel().take(pair)

    customers = count()
    own_trust = own(trust)
    promoters, detractors = rules.nps_shares(own_trust, *nps)
    return {
        "customers": customers,
        "share": customers / n,
        "acquisitions": flows["acquisitions"],
        "churns": flows["churns"],
        "entries": flows["entries"],
        "exits": flows["exits"],
        "period_retention": 1.0 - ratio(flows["churns"], flows["customers_start"]),
        "cohort_retention": ratio(count(cohort[rows]), cohort_start),
        "revenue": flows["revenue"],
        "costs": flows["costs"],
        "profit": profit,
        "cumulative_profit": cumulative_profit,
        "npv": npv,
        "mean_trust": ratio(count(own_trust), customers),
        "mean_cognitive": ratio(count(own(cognitive)), customers),
        "mean_affective": ratio(count(own(affect)), customers),
        "reputation": trust.mean(axis=0),
        "awareness": aware.mean(axis=0),
        "rating": rating,
        "reviews": reviews,
        "nps": 100.0 * ratio(count(promoters) - count(detractors), customers),
        "csat": ratio(flows["satisfied"], flows["encounters"]),
        **{k: flows[k] for k in EVENT_COUNTS},
    }


def population_metrics(customers: np.ndarray, n: int, reputation: np.ndarray) -> dict[str, float]:
    """Prospects, their share, and the Gini coefficient of market shares."""
    total = float(customers.sum())
    return {
        "customers": total,
        "prospects": n - total,
        "prospect_share": (n - total) / n,
        "gini": gini(customers),
        "mean_reputation": float(reputation.mean()),
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
