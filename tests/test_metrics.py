"""Metrics against hand computations (ODD 4, observation): both engines share these
formulas, so the reference equivalence cannot catch a bug in them. The customer
sums (the tallies) are checked by hand in test_phases.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from trustsim import rules
from trustsim.metrics import (
    FIRM_COLUMNS,
    FIRM_METRICS,
    firm_metrics,
    gini,
    markdown_table,
    overtake_step,
    population_metrics,
    ratio,
)
from trustsim.state import LEDGER_FLOWS


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 1, 1, 1], 0.0),
        ([0, 0, 0, 4], 0.75),  # one of n holds all: (n - 1) / n
        ([1, 2, 3, 4], 0.25),  # mean absolute difference 1.25 / (2 * mean 2.5)
        ([0.2, 0.3], 0.1),
        ([], 0.0),
        ([0, 0], 0.0),
    ],
)
def test_gini_by_hand(values: list[float], expected: float) -> None:
    assert gini(values) == pytest.approx(expected)


def test_gini_is_half_the_relative_mean_absolute_difference() -> None:
    x = np.random.default_rng(1).gamma(2.0, size=50)
    by_definition = np.abs(x[:, None] - x[None, :]).mean() / (2 * x.mean())
    assert gini(x) == pytest.approx(by_definition)


def test_ratio_is_nan_where_undefined() -> None:
    out = ratio([1.0, 2.0, 0.0], [2.0, 0.0, 0.0])
    assert out[0] == 0.5 and np.isnan(out[1]) and np.isnan(out[2])


def test_overtake_step() -> None:
    assert overtake_step([0, 1, 2, 3], [1, 0, 3, 4]) == 2  # behind at 1, ahead from 2 on
    assert overtake_step([0, 1, 2], [1, 2, 1]) is None  # not ahead at the end
    assert overtake_step([0, 0], [1, 1]) == 0


def nps_of(trust: float) -> tuple[float, float]:
    return rules.nps_shares(trust, 10.0, 2.0, 1.5)


def hand_case() -> dict[str, np.ndarray]:
    """Tallies of 4 customers and 2 firms: customers 0 and 1 with firm 0 (trust 0.8
    and 0.6), customer 2 with firm 1 (trust 0.9), customer 3 none; C is T + 0.05
    and F is T - 0.05 for everyone."""
    (p0, d0), (p1, d1), (p2, d2) = nps_of(0.8), nps_of(0.6), nps_of(0.9)
    return {
        "customers": np.array([2.0, 1.0]),
        "cohort_customers": np.array([1.0, 1.0]),
        "trust_sum": np.array([1.4, 0.9]),
        "cognitive_sum": np.array([1.5, 0.95]),
        "affective_sum": np.array([1.3, 0.85]),
        "promoters": np.array([p0 + p1, p2]),
        "detractors": np.array([d0 + d1, d2]),
        "reputation": np.array([0.5, 0.5]),
        "awareness": np.array([0.75, 0.5]),
    }


def test_firm_metrics_by_hand() -> None:
    flows = {k: np.zeros(2) for k in LEDGER_FLOWS}
    flows["churns"] = np.array([1.0, 0.0])
    flows["satisfied"], flows["encounters"] = np.array([1.0, 0.0]), np.array([2.0, 0.0])
    m = firm_metrics(
        {
            **hand_case(), **flows, "population": 4, "customers_start": np.array([3.0, 0.0]),
            "cohort_start": np.array([2.0, 2.0]), "profit": np.zeros(2),
            "cumulative_profit": np.zeros(2), "npv": np.zeros(2),
            "rating": np.array([3.0, 4.0]), "reviews": np.array([5.0, 1.0]),
        }
    )  # fmt: skip
    assert list(m) == list(FIRM_COLUMNS)
    np.testing.assert_allclose(m["customers"], [2, 1])
    np.testing.assert_allclose(m["share"], [0.5, 0.25])
    np.testing.assert_allclose(m["mean_trust"], [0.7, 0.9])
    np.testing.assert_allclose(m["mean_cognitive"], [0.75, 0.95])
    np.testing.assert_allclose(m["mean_affective"], [0.65, 0.85])
    np.testing.assert_allclose(m["reputation"], [0.5, 0.5])
    np.testing.assert_allclose(m["awareness"], [0.75, 0.5])
    np.testing.assert_allclose(m["cohort_retention"], [0.5, 0.5])  # 1 of 2 and 1 of 2 kept
    np.testing.assert_allclose(m["period_retention"][0], 1 - 1 / 3)
    assert np.isnan(m["period_retention"][1])  # no customers at the start: undefined
    np.testing.assert_allclose(m["csat"][0], 0.5)
    # NPS: promoters minus detractors among each firm's customers, in percent
    (p0, d0), (p1, d1) = nps_of(0.8), nps_of(0.6)
    assert m["nps"][0] == pytest.approx(100 * (p0 + p1 - d0 - d1) / 2)


def test_registry_names_are_unique_and_documented() -> None:
    names = [metric.name for metric in FIRM_METRICS]
    assert len(names) == len(set(names))
    assert all(metric.unit and metric.definition for metric in FIRM_METRICS)


def test_odd_shows_the_registry() -> None:
    # the table in ODD 4 (observation) is the registry's, so the docs cannot drift
    odd = (Path(__file__).parents[1] / "docs" / "ODD.md").read_text(encoding="utf-8")
    assert markdown_table() in odd


def test_nps_shares_are_the_expected_survey_answer() -> None:
    # answer = round(10 T + shift + noise z): promoter if >= 9, i.e. 10 T + shift + noise z >= 8.5
    t, shift, noise = 0.7, 2.0, 1.5
    promoters, detractors = rules.nps_shares(t, 10.0, shift, noise)
    assert promoters == pytest.approx(stats.norm.sf((8.5 - 10 * t - shift) / noise))
    assert detractors == pytest.approx(stats.norm.cdf((6.5 - 10 * t - shift) / noise))
    promoters, detractors = rules.nps_shares(t, 3.0, 6.4, noise)
    assert promoters == pytest.approx(stats.norm.sf((8.5 - 3 * t - 6.4) / noise))
    assert detractors == pytest.approx(stats.norm.cdf((6.5 - 3 * t - 6.4) / noise))


def test_ratio_broadcasts_both_ways() -> None:
    np.testing.assert_allclose(ratio([[1.0, 2.0], [3.0, 4.0]], [2.0, 4.0]), [[0.5, 0.5], [1.5, 1]])
    np.testing.assert_allclose(ratio(1.0, [2.0, 4.0]), [0.5, 0.25])
    assert ratio(3, 4) == pytest.approx(0.75)  # whole numbers divide as floats


def test_overtake_step_ties_and_empty_series() -> None:
    assert overtake_step([0, 1, 2], [0, 1, 3]) == 2  # a tie is not ahead
    assert overtake_step([1, 1], [1, 1]) is None
    assert overtake_step([], []) is None


def test_population_metrics_by_hand() -> None:
    m = population_metrics(np.array([3, 1]), 10, np.array([0.2, 0.6]))
    assert m == {
        "customers": 4.0,
        "prospects": 6.0,
        "prospect_share": 0.6,
        "gini": pytest.approx(gini([1, 3])),
        "mean_reputation": pytest.approx(0.4),
    }
    assert gini([1, 3]) == pytest.approx(0.25)  # |1 - 3| / (2 * 2 * 2)


def test_firm_metrics_are_floats_even_from_whole_number_tallies() -> None:
    flows = {k: np.zeros(2, dtype=int) for k in LEDGER_FLOWS}
    tallies = {**hand_case(), **flows, "customers": np.array([2, 1]), "population": 4,
               "cohort_start": np.array([2, 2]), "profit": np.zeros(2),
               "cumulative_profit": np.zeros(2), "npv": np.zeros(2),
               "rating": np.array([3, 4]), "reviews": np.array([5, 1])}  # fmt: skip
    m = firm_metrics(tallies)
    assert all(values.dtype == np.float64 for values in m.values())
