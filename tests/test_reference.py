"""The vectorised model and the agent-by-agent reference agree to 1e-9, every step."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import EVENTFUL, small

import trustsim
from trustsim.metrics import FIRM_COLUMNS, POPULATION_COLUMNS
from trustsim.reference import run_reference

THREE_FIRMS = [
    {"name": "short_term", "strategy": "short_term"},
    {"name": "trust_first", "strategy": "trust_first"},
    {
        "name": "middle",
        "warn_rate": 0.5,
        "promise": 0.72,
        "recovery": 0.5,
        "care_rate": 0.1,
        "initial_share": 0.2,
    },
]

SCENARIOS = {
    "small_world": {**EVENTFUL},
    "complete_three_firms_forgetting_window": {
        **EVENTFUL,
        "network.kind": "complete",
        "firms": THREE_FIRMS,
        "trust.forgetting": 0.02,
        "reviews.window": 5,
        "trust.weakest_link": 0.0,
    },
    "scale_free_no_outside_option": {
        **EVENTFUL,
        "network.kind": "barabasi_albert",
        "market.outside_option": False,
        "market.warn_search": 0.4,
        "trust.buffer": 0.9,
        "wom.p_negative": 1.0,
    },
    "reviews_off_price_gap_unaware": {
        **EVENTFUL,
        "reviews.enabled": False,
        "firms.trust_first.price": 1.2,
        "market.initial_awareness": 0.1,
        "market.ad_reach": 0.1,
    },
    "targeted_warnings": {
        **EVENTFUL,
        "firms.trust_first.warn_target": "trusting",
        "firms.trust_first.warn_min_trust": 0.55,
        "firms.short_term.warn_rate": 0.9,
        "firms.short_term.warn_target": "tenured",
        "firms.short_term.warn_min_tenure": 6,
    },
    "popularity_shown": {
        **EVENTFUL,
        "firms": THREE_FIRMS,
        "market.beta_popularity": 3.0,
        "market.review_rate": 0.05,
    },
    "social_proof_off": {
        **EVENTFUL,
        "market.social_proof": False,
        "market.beta_popularity": 3.0,
        "market.review_rate": 0.05,
    },
    "sparse_random_with_isolates": {
        **EVENTFUL,
        "network.kind": "erdos_renyi",
        "network.mean_degree": 1.5,
        "trust.weakest_link": 1.0,
        "market.risk": 1.0,
    },
    "timeline": {
        **EVENTFUL,
        "events": [
            {"week": 5, "kind": "breach", "firm": "trust_first"},
            {"week": 8, "kind": "viral_review", "firm": "short_term", "reach": 0.4},
            {"week": 10, "kind": "enter", "firm": {"name": "newcomer", "strategy": "trust_first"}},
            {
                "week": 12,
                "kind": "strategy",
                "firm": "short_term",
                "preset": "trust_first",
                "overrides": {"price": 0.9},
            },
            {"week": 15, "kind": "set", "key": "market.review_rate", "value": 0.3},
            {"week": 20, "kind": "viral_review", "firm": "newcomer", "tone": "good"},
            {"week": 25, "kind": "breach", "firm": "newcomer"},
            {"week": 30, "kind": "exit", "firm": "trust_first"},
        ],
    },
}
EVENTS = (
    "warnings",
    "exploited",
    "discovered",
    "breaches",
    "complaints",
    "recoveries",
    "churns",
    "acquisitions",
    "entries",
    "searches",
    "wom_positive",
    "wom_negative",
    "stories_positive",
    "stories_negative",
)
REVIEWED = ("new_reviews", "stars_1", "stars_5")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_reference_agrees_with_vectorised_model(name: str) -> None:
    scenario = small(SCENARIOS[name], size=150)
    fast = trustsim.run(scenario, seed=11, steps=40)
    slow = run_reference(scenario, seed=11, steps=40)

    assert list(fast.timeseries.columns) == ["step", "firm", *FIRM_COLUMNS]
    assert list(fast.population.columns) == ["step", *POPULATION_COLUMNS]
    pd.testing.assert_frame_equal(
        fast.timeseries, slow.timeseries, check_exact=False, rtol=0, atol=1e-9
    )
    pd.testing.assert_frame_equal(
        fast.population, slow.population, check_exact=False, rtol=0, atol=1e-9
    )

    # the comparison is only worth something if every event type happens often
    reviews_on = SCENARIOS[name].get("reviews.enabled", True)
    totals = fast.timeseries[list(EVENTS) + list(REVIEWED if reviews_on else ())].sum()
    if not reviews_on:
        assert fast.timeseries["new_reviews"].sum() == 0
    # awareness grew from adverts and talk, so consideration sets were exercised
    first, last = (fast.timeseries.groupby("step")["awareness"].mean().iloc[i] for i in (0, -1))
    assert last > first
    rare = totals[totals < 5]
    assert rare.empty, f"events too rare to test: {rare.to_dict()}"
    if SCENARIOS[name].get("market.outside_option", True):
        assert fast.timeseries["exits"].sum() >= 5
