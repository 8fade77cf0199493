"""The calibration targets of ODD 8.4, measured by ``trustsim facts`` at its defaults.

16 seeds of 2,000 customers over 52 weeks (about 20 s). A fact holds only when
its whole 95% interval lies inside its target (``facts.verdict``): a point
estimate near a bound is not enough. In quick mode (8 seeds of 1,000) the
rating's interval, [4.35, 4.43], straddles its 4.4 bound, so the test uses the
published setting, where it is [4.35, 4.38].

Beside the literature's wide ranges, each calibrated fact is pinned near the
value published in docs/validation.md, within about four standard errors of
its Monte Carlo error at these seeds (twice the 95% half-width measured there):
a change to the model that moves a calibrated fact by more than the noise of a
new set of seeds fails here even when the fact still lies in its range.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from trustsim.cli import main
from trustsim.facts import FACTS, behavioural_premium, verdict


@pytest.fixture(scope="module")
def facts(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    out = tmp_path_factory.mktemp("facts")
    code = main(["facts", "configs/baseline.yaml", "--out", str(out)])
    assert code in (0, 1)  # 1: a fact missed; the tests below say which
    return pd.read_parquet(out / "facts.parquet"), out


@pytest.mark.slow
@pytest.mark.parametrize("name", [f.name for f in FACTS])
def test_fact_holds(facts: tuple[pd.DataFrame, Path], name: str) -> None:
    table = facts[0].set_index("fact")
    row = table.loc[name]
    assert row.verdict == "holds", (
        f"{name}: {row.value:.3g} [{row.ci_low:.3g}, {row.ci_high:.3g}] not inside "
        f"[{row.target_low}, {row.target_high}]"
    )


def test_behavioural_premium_solves_the_equal_choice_condition() -> None:
    # one customer with gap g: the premium is exp(g / beta_price) - 1 exactly
    assert behavioural_premium(np.array([0.9]), 9.0) == pytest.approx(np.expm1(0.1))
    # a spread of gaps around the same mean: the logit's curvature moves the premium
    gaps = np.array([0.1, 0.9, 2.5])
    x = behavioural_premium(gaps, 9.0)
    chosen = special.expit(gaps - 9.0 * np.log1p(x))
    assert chosen.sum() == pytest.approx(1.5)  # half of the three choose the trusted firm
    assert x != pytest.approx(np.expm1(gaps.mean() / 9.0), rel=1e-3)


# value published in docs/validation.md (16 seeds, N = 2,000) and its tolerance
PINS = {
    "wom_ratio": (3.10, 0.20),
    "listeners": (1.83, 0.05),
    "warning_search": (1.78, 0.34),
    "churn_control": (5.64, 1.2),
    "churn_warned": (9.75, 1.0),
    "price_elasticity": (-3.08, 0.18),
    "trust_premium": (11.0, 0.4),
    "trust_premium_parametric": (10.5, 0.3),
    "rating": (4.37, 0.03),
    "nps_leader": (34.4, 1.2),
    "nps_laggard": (-19.9, 0.8),
    "switch_given_search": (0.337, 0.018),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PINS))
def test_calibrated_fact_stays_at_its_published_value(
    facts: tuple[pd.DataFrame, Path], name: str
) -> None:
    value, tolerance = PINS[name]
    measured = facts[0].set_index("fact").loc[name, "value"]
    assert measured == pytest.approx(value, abs=tolerance)


def test_a_fact_holds_only_when_its_interval_is_inside_the_target() -> None:
    fact = next(f for f in FACTS if f.name == "rating")  # 3.8 to 4.4
    assert verdict(4.37, 4.35, 4.38, fact) == "holds"
    assert verdict(4.39, 4.35, 4.43, fact) == "undecided"  # the point alone would pass
    assert verdict(4.5, 4.45, 4.55, fact) == "misses"
    assert verdict(4.0, float("nan"), float("nan"), fact) == "holds"


@pytest.mark.slow
def test_facts_writes_a_report_and_a_figure_per_fact(facts: tuple[pd.DataFrame, Path]) -> None:
    out = facts[1]
    text = (out / "facts.md").read_text()
    for fact in FACTS:
        assert f"| {fact.name} |" in text
        assert (out / f"fact_{fact.name}.png").stat().st_size > 10_000
    assert (out / "fact_stars.png").exists()


def test_facts_rejects_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("market: {review_rate: 2}\n")  # a probability above 1
    assert main(["facts", str(bad), "--quick", "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
