"""Choice (ODD 7.5): the one switch for the independent condition and the popularity term."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import EVENTFUL, small

import trustsim
from trustsim.config import ConfigError, Scenario, check_variable

SOCIAL = {**EVENTFUL, "market.beta_popularity": 2.0, "market.review_rate": 0.1}


def test_social_proof_off_is_every_social_beta_zeroed_by_hand() -> None:
    off = trustsim.run(small({**SOCIAL, "market.social_proof": False}), seed=5, steps=30)
    zeroed = small(
        {**SOCIAL, "market.beta_proof": 0, "market.beta_rating": 0, "market.beta_popularity": 0}
    )
    by_hand = trustsim.run(zeroed, seed=5, steps=30)
    pd.testing.assert_frame_equal(off.timeseries, by_hand.timeseries)
    pd.testing.assert_frame_equal(off.population, by_hand.population)
    # and the switch does something: with it on, the same seed chooses differently
    on = trustsim.run(small(SOCIAL), seed=5, steps=30)
    assert not on.timeseries["share"].equals(off.timeseries["share"])


def test_popularity_moves_choices_toward_the_bigger_firm() -> None:
    # the short-term firm starts bigger; shown counts pull reconsidering customers to it
    def share(beta: float) -> float:
        sc = small(
            {
                "market.beta_popularity": beta,
                "market.review_rate": 0.2,
                "firms.short_term.initial_share": 0.6,
                "firms.trust_first.initial_share": 0.2,
            },
            size=600,
        )
        shares = [
            trustsim.run(sc, seed=s, steps=20).final().loc["short_term", "share"] for s in range(4)
        ]
        return float(sum(shares) / len(shares))

    assert share(4.0) > share(0.0) + 0.02


def test_temperature_has_no_range_and_designs_may_not_vary_it() -> None:
    from trustsim.config import sensitivity_ranges

    assert "market.temperature" not in sensitivity_ranges()
    assert Scenario().market.temperature == 1.0
    with pytest.raises(ConfigError, match="only rescales every beta"):
        check_variable("market.temperature", "design.ranges")
