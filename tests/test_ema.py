"""EMA Workbench interop: a TrustSim scenario runs as an EMA model, with the same results."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import trustsim
from trustsim.config import ConfigError, load_scenario

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # ema_workbench warns about optional cluster backends
    from ema_workbench import perform_experiments

from trustsim import ema

CLASSROOM = str(Path(__file__).resolve().parents[1] / "configs" / "classroom.yaml")
KEYS = ["firms.trust_first.warn_rate", "market.review_rate", "market.switching_cost"]


def test_perform_experiments_gives_what_trustsim_run_gives() -> None:
    model = ema.model(
        CLASSROOM, levers=KEYS[:1], uncertainties=KEYS[1:],
        outcomes=["trust_first.npv", "short_term.share"], steps=12, seed=3,
    )  # fmt: skip
    experiments, outcomes = perform_experiments(model, scenarios=3, policies=2)
    assert len(experiments) == 6 and set(outcomes) == {"trust_first__npv", "short_term__share"}
    for row in (0, 5):
        overrides = {key: experiments.at[row, ema.variable(key)] for key in KEYS}
        ts = trustsim.run(load_scenario(CLASSROOM, overrides), seed=3, steps=12).timeseries
        final = ts[ts.step == 12].set_index("firm")
        assert outcomes["trust_first__npv"][row] == pytest.approx(final.at["trust_first", "npv"])
        assert outcomes["short_term__share"][row] == pytest.approx(final.at["short_term", "share"])
    # the ranges are the schema's
    assert experiments["market__review_rate"].between(0.0, 0.1).all()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"uncertainties": ["network.k"]}, "network.k"),
        ({"outcomes": ["trust_first.profitt"]}, "trust_first.profitt"),
        ({"outcomes": ["nobody.npv"]}, "nobody.npv"),
    ],
)
def test_bad_keys_are_named(fields: dict[str, list[str]], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        ema.model(CLASSROOM, **fields)  # type: ignore[arg-type]
