"""Choice (ODD 7.5): the one switch for the independent condition and the popularity term."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import EVENTFUL, small

import trustsim
from trustsim.cli import main
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


@pytest.mark.parametrize(
    "design",
    [
        "{kind: lhs, n: 4, ranges: {market.temperature: [0.5, 2]}}",
        "{kind: grid, parameters: {market.temperature: [0.5, 2]}}",
        "{kind: list, points: [{name: hot, market.temperature: 2}]}",
    ],
)
def test_a_design_that_varies_temperature_is_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], design: str
) -> None:
    spec = tmp_path / "hot.yaml"
    baseline = Path(__file__).parents[1] / "configs" / "baseline.yaml"
    spec.write_text(f"scenario: {baseline}\nsteps: 2\ndesign: {design}\n")
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    assert "market.temperature cannot be varied" in capsys.readouterr().err
    assert not out.exists()


def test_an_ema_model_may_not_vary_temperature() -> None:
    pytest.importorskip("ema_workbench")
    from trustsim import ema

    with pytest.raises(ConfigError, match="only rescales every beta"):
        ema.model("configs/baseline.yaml", uncertainties=["market.temperature"], outcomes=[])
