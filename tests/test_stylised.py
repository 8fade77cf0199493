"""Stylised facts of ODD section 1 that must come out of the mechanisms.

The comparisons use common random numbers (the same seeds on both sides) and
average over seeds; the figures asserted were measured, not written in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import scripted_encounter, small

import trustsim
from trustsim import phases
from trustsim.metrics import overtake_step
from trustsim.model import TrustModel
from trustsim.state import Ledger

SEEDS = range(8)


def one_encounter(model: TrustModel, quality: float) -> float:
    """Serve customer 0 once with delivered ``quality``; return its overall trust after."""
    n = model.state.n
    draws = scripted_encounter(n, quality, u_need=np.zeros(n))
    phases.encounter(model.state, Ledger(1, n), model.context, model.dice("encounter"), draws)
    return float(model.trust_of(np.array([0]), np.array([0]))[2][0])


def lone_customer(promise: float) -> TrustModel:
    scenario = small(
        {
            "firms": [{"name": "firm", "promise": promise, "initial_share": 1.0}],
            "market.tolerance": 0.05,
            "network.kind": "complete",
        },
        size=2,
    )
    model = TrustModel(scenario, seed=0)
    model.state.beliefs[:] = 0.5  # a customer with no history, wherever its prior was
    return model


def test_one_broken_promise_costs_more_than_a_kept_one_gives() -> None:
    quality = 0.7
    start = float(lone_customer(0.7).trust_of(np.array([0]), np.array([0]))[2][0])
    kept = one_encounter(lone_customer(0.7), quality) - start  # kept, no extra
    broken = start - one_encounter(lone_customer(0.9), quality)  # same y, promise broken
    assert kept > 0 and broken > 0
    assert broken > 2 * kept


def test_after_a_broken_promise_several_kept_ones_are_needed() -> None:
    model = lone_customer(0.7)
    start = float(model.trust_of(np.array([0]), np.array([0]))[2][0])
    model.reconfigure({"firms.0.promise": 0.9})
    one_encounter(model, 0.7)  # broken
    model.reconfigure({"firms.0.promise": 0.7})
    kept = 0
    while one_encounter(model, 0.7) < start:
        kept += 1
    assert kept >= 3


def baseline(overrides: dict[str, object] | None = None) -> trustsim.Scenario:
    return small(overrides, size=1000)


CROSSOVER_HORIZON = 156


def mean_crossover(overrides: dict[str, object]) -> float:
    """Mean week trust_first overtakes on cumulative profit. A seed where it never does
    counts as week 157: censored at the horizon, which only pulls a late mean earlier."""
    weeks = []
    for seed in SEEDS:
        ts = trustsim.run(baseline(overrides), seed=seed, steps=CROSSOVER_HORIZON).timeseries
        profit = ts.pivot(index="step", columns="firm", values="cumulative_profit")
        week = overtake_step(profit["short_term"].to_numpy(), profit["trust_first"].to_numpy())
        weeks.append(CROSSOVER_HORIZON + 1 if week is None else week)
    return float(np.mean(weeks))


@pytest.mark.slow
def test_crossover_short_term_first_trust_first_later() -> None:
    default = mean_crossover({})
    assert default < CROSSOVER_HORIZON  # trust_first does overtake under the defaults
    assert default > 4  # short_term leads at first: the crossover is not at week 0
    louder = mean_crossover({"wom.weight": 0.8, "wom.p_positive": 0.6, "wom.p_negative": 1.0})
    stickier = mean_crossover({"market.switching_cost": 3.0})
    assert louder < default < stickier


def final_mean(
    overrides: dict[str, object], firm: str, column: str, steps: int, total: bool = False
) -> float:
    values = []
    for seed in SEEDS:
        ts = trustsim.run(baseline(overrides), seed=seed, steps=steps).timeseries
        series = ts.loc[ts.firm == firm, column]
        values.append(series.sum() if total else series.iloc[-1])
    return float(np.mean(values))


@pytest.mark.slow
def test_warnings_raise_reputation_and_short_run_churn() -> None:
    no_warning = {"firms.trust_first.warn_rate": 0.0}
    assert (
        final_mean({}, "trust_first", "reputation", 52)
        > final_mean(no_warning, "trust_first", "reputation", 52) + 0.05
    )
    searching = {"market.warn_search": 0.5}
    assert final_mean(searching, "trust_first", "churns", 8, total=True) > final_mean(
        {**searching, **no_warning}, "trust_first", "churns", 8, total=True
    )


@pytest.mark.slow
def test_negative_word_of_mouth_lowers_the_over_promisers_reputation() -> None:
    # measured over 16 paired seeds: reputation -0.079 +- 0.001 at week 104. Its NPV moves
    # by +7 +- 28, no detectable effect, so the test claims reputation only
    loud = {"wom.p_negative": 1.0, "wom.weight": 0.8}
    silent = {"wom.p_negative": 0.0}
    assert (
        final_mean(loud, "short_term", "reputation", 104)
        < final_mean(silent, "short_term", "reputation", 104) - 0.05
    )
    # ... although few of its encounters end in a story worth telling
    ts = trustsim.run(baseline(loud), seed=0, steps=104).timeseries
    short = ts[ts.firm == "short_term"]
    bad = short.discovered.sum() + (short.complaints - short.recoveries).sum()
    assert bad / short.encounters.sum() < 0.1


@pytest.mark.slow
def test_social_proof_raises_inequality_among_identical_firms() -> None:
    firms = [{"name": f"firm{i}", "initial_share": 0.0} for i in range(4)]

    def gini(beta_proof: float) -> float:
        sc = small(
            {
                "firms": firms,
                "market.beta_proof": beta_proof,
                "market.beta_rating": 0,
                "network.kind": "watts_strogatz",
            },
            size=400,
        )
        return float(
            np.mean([trustsim.run(sc, seed=s, steps=60).population.gini.iloc[-1] for s in SEEDS])
        )

    # the v3 target of the proof_gini fact (ODD 8.4): at least 1.3 times (measured: 1.7)
    assert gini(6.0) > 1.3 * gini(0.0)


def test_the_rating_moves_shares_only_through_its_weight_in_choice() -> None:
    # guards ODD 7.4/7.5: reviews act on choice through the rating and nothing else, so
    # with beta_rating = 0 switching the platform off changes no share (the review phase
    # draws from its own stream); with the default weight it does
    def shares(beta_rating: float, reviews: bool) -> pd.Series:
        sc = small({"market.beta_rating": beta_rating, "reviews.enabled": reviews,
                    "market.review_rate": 0.05}, size=400)  # fmt: skip
        return trustsim.run(sc, seed=3, steps=40).timeseries["share"]

    pd.testing.assert_series_equal(shares(0.0, True), shares(0.0, False))
    assert not shares(0.5, True).equals(shares(0.5, False))
