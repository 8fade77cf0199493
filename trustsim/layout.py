"""The kernels' records, derived from the schema: one layout, named once.

A kernel reads a scenario's scalar as ``p.market_review_rate`` (the config key
``market.review_rate`` with the dot made an underscore) and a firm's parameter as
``firms[f].warn_rate``; it writes a firm's flows as ``ledger[chunk, f].churns``.
These names come from the pydantic schema (:mod:`trustsim.config`), so a new
scalar or firm parameter reaches the kernels without being listed anywhere else.
Values the kernels need that are derived from the schema are added here once:
``trust_omega`` (ODD 4) and the social weights, already switched off when
``market.social_proof`` is false (ODD 7.5).
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from pydantic import BaseModel

from trustsim import rules
from trustsim.config import Firm, Scenario

# the scenario sections whose scalars the weekly dynamics read
SECTIONS = ("trust", "bank", "market", "wom", "news", "reviews", "survey")
KINDS: dict[Any, type] = {float: np.float64, int: np.float64, bool: np.bool_}


def _scalars(section: type[BaseModel]) -> list[tuple[str, type]]:
    """The section's float, int and bool fields (not optional or composite ones)."""
    return [
        (name, KINDS[info.annotation])
        for name, info in section.model_fields.items()
        if info.annotation in KINDS
    ]


def _section_type(name: str) -> type[BaseModel]:
    return cast(type[BaseModel], Scenario.model_fields[name].annotation)


DERIVED = (("trust_omega", np.float64),)  # omega = omega0 + (1 - omega0) risk (ODD 4)

PARAMS = np.dtype(
    [
        (f"{section}_{name}", kind)
        for section in SECTIONS
        for name, kind in _scalars(_section_type(section))
    ]
    + list(DERIVED),
    align=True,
)
"""One record of every scalar of the dynamics; kernels read it as ``p = params[0]``."""

FIRM = np.dtype(
    [(name, np.float64) for name, kind in _scalars(Firm) if kind is np.float64]
    + [("warn_target", np.float64)]  # coded as rules.WARN_TARGETS
    + [("present", np.float64)],  # 1 while the firm is in the market (ODD 8a), else 0
    align=True,
)
"""One record per firm: its numeric parameters, and whether it is in the market."""

LEDGER_FLOWS = (
    "customers_start",
    "acquisitions",
    "churns",
    "entries",  # acquisitions of prospects (entry into the market)
    "exits",  # churns to the outside option (exit from the market)
    "searches",  # customers who reconsidered the market (7.5), by provider
    "revenue",
    "costs",
    "encounters",
    "satisfied",
    "wom_positive",
    "wom_negative",
    "stories_positive",
    "stories_negative",
    "warnings",
    "exploited",
    "discovered",
    "complaints",
    "recoveries",
    "breaches",
    "breach_hit",  # customers whose data a breach exposed (each costs breach_cost)
    "care_contacts",
    "new_reviews",
    "new_stars",
    "stars_1",  # new reviews with one star, ...
    "stars_2",
    "stars_3",
    "stars_4",
    "stars_5",
)
LEDGER = np.dtype([(name, np.float64) for name in LEDGER_FLOWS])
"""A firm's flows of one step; kernels add to one record per (chunk of customers, firm)."""

TALLY_ROWS = (
    "customers",
    "cohort_customers",
    "trust_sum",
    "cognitive_sum",
    "affective_sum",
    "promoters",
    "detractors",
    "reputation",
    "awareness",
)
TALLY = np.dtype([(name, np.float64) for name in TALLY_ROWS])
"""A firm's customer sums behind the metrics (``metrics.Tallies``)."""


def params(scenario: Scenario) -> np.ndarray:
    """The kernels' view of a scenario: one record of dtype :data:`PARAMS`."""
    record = np.zeros(1, dtype=PARAMS)
    for section in SECTIONS:
        values = getattr(scenario, section)
        for name, _ in _scalars(type(values)):
            record[f"{section}_{name}"] = getattr(values, name)
    mk, tr = scenario.market, scenario.trust
    record["trust_omega"] = rules.cognitive_weight(mk.risk, tr.omega0)
    weights = rules.social_weights(
        mk.social_proof, mk.beta_proof, mk.beta_rating, mk.beta_popularity
    )
    for name, weight in zip(("beta_proof", "beta_rating", "beta_popularity"), weights, strict=True):
        record[f"market_{name}"] = weight
    return record


def firms(scenario: Scenario, present: np.ndarray | None = None) -> np.ndarray:
    """One record of dtype :data:`FIRM` per firm of the scenario; ``present`` says which
    firms are in the market now (default: all)."""
    table = np.zeros(len(scenario.firms), dtype=FIRM)
    for name in FIRM.names or ():
        if name not in ("warn_target", "present"):
            table[name] = [getattr(firm, name) for firm in scenario.firms]
    table["warn_target"] = [rules.WARN_TARGETS.index(f.warn_target) for f in scenario.firms]
    table["present"] = 1.0 if present is None else present
    return table


def chunks(n: int) -> int:
    """How many chunks of :data:`CHUNK` customers cover ``n`` customers."""
    return max(1, -(-n // CHUNK))


CHUNK = 2048
"""Customers per chunk: the unit of parallel work. Each chunk adds to its own ledger
row, and rows are summed in chunk order, so the tables never depend on the thread count."""
