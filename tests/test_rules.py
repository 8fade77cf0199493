"""The trust rules of ODD section 4, one function at a time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from trustsim import layout, rules


def cognitive(x: list[float], rho: float) -> float:
    return rules.cognitive_trust(x[0], x[1], x[2], rho)


def test_power_mean_rho_one_is_the_mean() -> None:
    x = [0.2, 0.5, 0.9]
    assert cognitive(x, 1.0) == pytest.approx(np.mean(x))


def test_power_mean_rho_zero_is_geometric_mean() -> None:
    x = [0.2, 0.5, 0.9]
    assert cognitive(x, 0.0) == pytest.approx(np.prod(x) ** (1 / 3))


@pytest.mark.parametrize("rho", [-2.0, -3.5])
def test_power_mean_matches_formula(rho: float) -> None:
    x = np.array([0.3, 0.6, 0.8])
    assert cognitive(list(x), rho) == pytest.approx(np.mean(x**rho) ** (1 / rho))


def test_very_negative_rho_approaches_the_minimum() -> None:
    x = [0.2, 0.7, 0.9]
    assert cognitive(x, -200.0) == pytest.approx(0.2, abs=2e-3)
    # and it is monotone in rho: the weaker link weighs more as rho falls
    values = [cognitive(x, r) for r in (1.0, 0.0, -2.0, -8.0)]
    assert values == sorted(values, reverse=True)


def test_power_mean_of_a_zero_with_negative_rho_is_zero() -> None:
    assert cognitive([0.0, 0.9, 0.9], -2.0) == 0.0


def test_learning_is_asymmetric() -> None:
    up = rules.learn(0.5, 1.0, 0.1, 0.3)
    down = rules.learn(0.5, 0.0, 0.1, 0.3)
    assert up == pytest.approx(0.55)
    assert down == pytest.approx(0.35)
    assert 0.5 - down > up - 0.5


def test_k_messages_combine_like_k_updates() -> None:
    x, o, w, eta = 0.4, 0.9, 0.3, 0.1
    one_by_one = x
    for _ in range(3):
        one_by_one = one_by_one + w * eta * (o - one_by_one)
    assert rules.learn(x, o, eta, 0.3, weight=w, k=3) == pytest.approx(one_by_one)


def test_learning_stays_in_unit_interval() -> None:
    for x in np.linspace(0, 1, 11):
        for evidence in (0.0, 1.0):
            assert 0.0 <= rules.learn(x, evidence, 1.0, 1.0, weight=1.0, k=5) <= 1.0


def test_trust_buffer_discounts_bad_news_for_trusting_customers() -> None:
    trusting = rules.learn(0.6, 0.0, 0.1, rules.buffered(0.3, 0.9, 0.5))
    wary = rules.learn(0.6, 0.0, 0.1, rules.buffered(0.3, 0.1, 0.5))
    assert 0.6 - trusting < 0.6 - wary
    assert rules.buffered(0.3, 0.9, 0.5) == pytest.approx(0.3 * (1 - 0.45))
    # good news is not buffered
    assert rules.learn(0.6, 1.0, 0.1, rules.buffered(0.3, 0.9, 0.5)) == pytest.approx(0.64)


def test_bank_account_loss_aversion_and_cognitive_gate() -> None:
    assert rules.withdraw(0.0, 1.0, 2.25) == pytest.approx(-2.25)
    assert rules.deposit(0.0, 1.0, 1.0) == pytest.approx(1.0)
    # a deposit counts only as much as the customer trusts the firm's competence
    assert rules.deposit(0.0, 1.0, 0.2) == pytest.approx(0.2)
    assert rules.deposit(0.0, 1.0, 0.0) == 0.0
    # a withdrawal followed by a same-sized deposit leaves the balance below zero
    assert rules.deposit(rules.withdraw(0.0, 1.0, 2.25), 1.0, 1.0) < 0


def test_affective_trust_bounds_and_identification() -> None:
    assert rules.affective(0.0, 0.0, 2.0, 0.3) == pytest.approx(0.35)
    assert rules.affective(1e6, 1.0, 2.0, 0.3) == pytest.approx(1.0)
    assert rules.affective(-1e6, 0.0, 2.0, 0.3) == pytest.approx(0.0)
    assert rules.affective(0.0, 1.0, 2.0, 0.3) > rules.affective(0.0, 0.0, 2.0, 0.3)


def test_risk_shifts_weight_to_cognitive_trust() -> None:
    assert rules.cognitive_weight(0.0, 0.5) == 0.5
    assert rules.cognitive_weight(1.0, 0.5) == 1.0
    assert rules.overall(0.8, 0.2, 1.0) == pytest.approx(0.8)


def test_logit_pick_is_inverse_cdf_of_the_softmax() -> None:
    utilities = np.log(np.array([0.2, 0.5, 0.3]))  # softmax at temperature 1: 0.2, 0.5, 0.3
    assert rules.logit_pick(utilities, 1.0, 0.0) == 0
    assert rules.logit_pick(utilities, 1.0, 0.19) == 0
    assert rules.logit_pick(utilities, 1.0, 0.21) == 1
    assert rules.logit_pick(utilities, 1.0, 0.71) == 2
    assert rules.logit_pick(utilities, 1.0, 0.999999) == 2
    u = np.random.default_rng(0).random(20_000)
    freq = np.bincount([rules.logit_pick(utilities, 1.0, x) for x in u], minlength=3) / u.size
    assert np.allclose(freq, [0.2, 0.5, 0.3], atol=0.015)
    # an unknown firm (-inf) is never chosen; a huge utility does not overflow
    assert rules.logit_pick(np.array([-np.inf, 0.0]), 1.0, 0.0) == 1
    assert rules.logit_pick(np.array([1e4, 0.0]), 0.01, 0.5) == 0


def test_bayesian_rating_shrinks_to_prior() -> None:
    assert rules.bayesian_rating(0.0, 0.0, 3.5, 10.0) == 3.5
    assert rules.bayesian_rating(5.0, 1.0, 3.5, 10.0) == pytest.approx((35 + 5) / 11)
    assert rules.bayesian_rating(1.0 * 1000, 1000.0, 3.5, 10.0) < 1.1


def test_review_stars_follow_salient_events_then_failure_then_experience() -> None:
    cases = [(rules.EXPLOITED, False, 4.0), (rules.WARNED, True, 4.0),
             (rules.RECOVERED, True, 4.0), (0, True, 4.0), (0, False, 3.0)]  # fmt: skip
    assert [rules.review_stars(*case) for case in cases] == [1, 5, 4, 1, 3]


def test_over_promising_costs_about_half_a_star_at_equal_quality() -> None:
    # defaults of reviews.*: honest (promise 0.65) vs over-promising (0.85) at quality 0.7
    def stars(promise: float) -> float:
        x = rules.experienced_satisfaction(0.7, promise, 0.25)
        return float(3.0 + 8.0 * (x - 0.55))

    assert 0.3 <= stars(0.65) - stars(0.85) <= 0.6
    assert rules.experience_stars(2.0, 0.55, 8.0) == 5.0
    assert rules.experience_stars(-1.0, 0.55, 8.0) == 1.0


def test_posting_is_j_shaped_and_negativity_biased() -> None:
    p = [rules.posting_probability(stars, 0.02, 1.5, 2.0) for stars in (1.0, 2.0, 3.0, 4.0, 5.0)]
    assert p[2] == pytest.approx(0.02)  # three stars: the base rate
    assert p[4] > p[3] > p[2] and p[0] > p[1] > p[2]
    assert p[0] == pytest.approx(2 * p[4]) and p[1] == pytest.approx(2 * p[3])
    assert rules.posting_probability(1.0, 0.5, 3.0, 4.0) == 1.0


def test_nps_shares_are_probabilities_of_a_noisy_answer() -> None:
    shares = np.array([rules.nps_shares(t, 10.0, 2.0, 1.5) for t in (0.2, 0.65, 0.95)])
    promoter, detractor = shares[:, 0], shares[:, 1]
    assert np.all((promoter >= 0) & (promoter + detractor <= 1))
    assert promoter[1] == pytest.approx(0.5)  # latent exactly 8.5
    assert promoter[2] > 0.9 and detractor[0] > 0.9
    # a flatter response (the calibrated slope) compresses the NPS of distrust
    assert rules.nps_shares(0.2, 3.0, 6.4, 1.5)[1] < 0.6 < shares[0, 1]
    # the expectation matches simulated answers round(10 T + shift + noise)
    z = np.random.default_rng(1).standard_normal(200_000)
    answers = np.clip(np.rint(10 * 0.5 + 2.0 + 1.5 * z), 0, 10)
    p, d = rules.nps_shares(0.5, 10.0, 2.0, 1.5)
    assert (answers >= 9).mean() == pytest.approx(p, abs=0.005)
    assert (answers <= 6).mean() == pytest.approx(d, abs=0.005)


def choice(
    beta_trust: float,
    beta_proof: float,
    beta_rating: float,
    beta_popularity: float,
    beta_price: float,
    reference_price: float,
    trust: float,
    proof: float,
    rating_gap: float,
    popularity: float,
    price: float,
) -> tuple[Any, ...]:
    """The arguments of ``rules.utility``: the scenario's and the firm's records
    (``trustsim.layout``) carrying these weights and this price, then the signals."""
    p = np.zeros(1, dtype=layout.PARAMS).view(np.recarray)
    for name, value in (
        ("beta_trust", beta_trust),
        ("beta_proof", beta_proof),
        ("beta_rating", beta_rating),
        ("beta_popularity", beta_popularity),
        ("beta_price", beta_price),
        ("reference_price", reference_price),
    ):
        p[f"market_{name}"] = value
    firm = np.zeros(1, dtype=layout.FIRM).view(np.recarray)
    firm["price"] = price
    return p[0], firm[0], trust, proof, rating_gap, popularity  # fmt: skip


def test_log_price_makes_equal_prices_neutral() -> None:
    # beta_trust, beta_proof, beta_rating = 0; beta_price 6.5 around a reference price of 1
    def price_only(price: float) -> float:
        return rules.utility(*choice(0.0, 0.0, 0.0, 0.0, 6.5, 1.0, 0.5, 0.0, 0.0, 0.0, price))

    assert price_only(1.0) == 0.0
    assert price_only(1.1) == pytest.approx(-6.5 * np.log(1.1))


def test_need_rises_with_trust() -> None:
    assert rules.need_probability(0.9, 0.5, 0.5) > rules.need_probability(0.1, 0.5, 0.5)
    assert rules.need_probability(1.0, 0.9, 5.0) == 1.0


def test_bass_step() -> None:
    assert rules.bass_step(0.0, 0.01, 0.3) == pytest.approx(0.01)
    assert rules.bass_step(0.5, 0.01, 0.3) == pytest.approx(0.5 + 0.5 * 0.16)


RULE_INPUTS = {
    "cognitive_trust": lambda r: (*r.random(3), r.choice([1.0, 0.0, -2.0, -5.0])),
    "affective": lambda r: (r.normal(0, 3), r.random(), r.uniform(0.5, 5), r.random() * 0.6),
    "learn": lambda r: (r.random(), r.random(), r.random() * 0.3, r.random() * 0.6,
                        r.random(), float(r.integers(1, 5))),
    "need_probability": lambda r: (r.random(), r.random(), r.random()),
    "experience_stars": lambda r: (r.random(), 0.55, r.uniform(5, 12)),
    "posting_probability": lambda r: (float(r.integers(1, 6)), 0.02, 1.5, 2.0),
    "search_hazard": lambda r: (r.random() * 0.1, 0.12, 0.2, bool(r.integers(2)),
                                bool(r.integers(2))),
    "entry_hazard": lambda r: (0.01, 1.0, r.random(), 0.2, r.random()),
    "utility": lambda r: choice(5.0, 1.0, 0.5, 2.0, 9.0, 1.0, r.random(), r.random(),
                                r.normal(), r.random(), r.uniform(0.5, 2)),
    "nps_shares": lambda r: (r.random(), r.uniform(2, 10), r.uniform(2, 7), 1.5),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(RULE_INPUTS))
def test_compiled_rules_agree_with_the_python_ones(name: str) -> None:
    # the kernels run the numba-compiled rule, the reference the Python one: same source
    from trustsim import kernels

    rng = np.random.default_rng(7)
    python, compiled = getattr(rules, name), getattr(kernels, name)
    for _ in range(50):
        args = RULE_INPUTS[name](rng)
        assert np.allclose(compiled(*args), python(*args), rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------ hand cases (issue: tests
# that bite). Each expectation is written from the ODD's formula, never by calling the code.


def test_power_mean_hand_values_at_each_branch() -> None:
    # rho = 1 (mean), -2 (the default's fast path), -3 and 2 (the general formula)
    assert rules.cognitive_trust(0.2, 0.5, 0.8, 1.0) == pytest.approx(0.5)
    assert rules.cognitive_trust(0.5, 0.5, 1.0, -2.0) == pytest.approx(((4 + 4 + 1) / 3) ** -0.5)
    assert rules.cognitive_trust(0.5, 1.0, 1.0, -3.0) == pytest.approx((10 / 3) ** (-1 / 3))
    assert rules.cognitive_trust(0.5, 1.0, 1.0, 2.0) == pytest.approx((2.25 / 3) ** 0.5)
    # a zero aspect: 0 for rho < 0 (the limit), but an ordinary mean for rho >= 0
    assert rules.cognitive_trust(0.9, 0.0, 0.9, -2.0) == 0.0
    assert rules.cognitive_trust(0.9, 0.9, 0.0, -0.5) == 0.0
    assert rules.cognitive_trust(0.0, 0.6, 0.9, 0.5) == pytest.approx(
        ((0.6**0.5 + 0.9**0.5) / 3) ** 2
    )
    assert rules.cognitive_trust(0.0, 0.6, 0.9, 1.0) == pytest.approx(0.5)


def test_affective_trust_by_hand() -> None:
    # F = (1 - w) sigmoid(e / scale) + w s, with sigmoid(1) = 1 / (1 + e^-1)
    assert rules.affective(2.0, 0.5, 2.0, 0.3) == pytest.approx(0.7 / (1 + np.exp(-1.0)) + 0.15)
    assert rules.affective(-1.0, 0.0, 4.0, 0.0) == pytest.approx(1 / (1 + np.exp(0.25)))
    assert rules.affective(0.5, 0.0, 1.0, 0.0) == pytest.approx(1 / (1 + np.exp(-0.5)))


def test_overall_trust_by_hand() -> None:
    assert rules.overall(0.8, 0.4, 0.65) == pytest.approx(0.65 * 0.8 + 0.35 * 0.4)
    assert rules.overall(0.0, 0.5, 0.25) == pytest.approx(0.375)


def test_learning_by_hand_at_a_tie_and_with_k_messages() -> None:
    # evidence equal to the belief uses eta_up (a tie is not bad news); nothing moves
    assert rules.learn(0.4, 0.4, 0.1, 0.3) == 0.4
    # two messages of weight 0.5 at eta_down 0.3: 1 - (1 - 0.15)^2 of the way
    assert rules.learn(0.8, 0.0, 0.1, 0.3, weight=0.5, k=2.0) == pytest.approx(
        0.8 - (1 - 0.85**2) * 0.8
    )
    assert rules.learn(0.2, 1.0, 0.1, 0.3, weight=0.5, k=2.0) == pytest.approx(
        0.2 + (1 - 0.95**2) * 0.8
    )


def test_withdrawal_by_hand() -> None:
    assert rules.withdraw(1.0, 0.5, 2.25) == pytest.approx(1.0 - 1.125)


def test_need_probability_by_hand() -> None:
    # lambda0 (1 + loyalty (T - 0.5)), clipped
    assert rules.need_probability(0.9, 0.5, 0.5) == pytest.approx(0.5 * 1.2)
    assert rules.need_probability(0.1, 0.5, 0.5) == pytest.approx(0.5 * 0.8)
    assert rules.need_probability(1.0, 0.9, 1.0) == 1.0
    assert rules.need_probability(0.0, 0.5, 3.0) == 0.0


def test_first_impression_by_hand() -> None:
    # pi + strength * advertising * (promise - pi)
    assert rules.first_impression(0.5, 0.85, 0.8, 0.5) == pytest.approx(0.5 + 0.4 * 0.35)
    assert rules.first_impression(0.6, 0.2, 1.0, 1.0) == pytest.approx(0.2)
    assert rules.first_impression(0.6, 0.2, 0.0, 1.0) == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("target", "trust", "tenure", "expected"),
    [(0, 0.1, 0, True), (1, 0.49, 99, False), (1, 0.5, 0, True), (2, 0.9, 12, False),
     (2, 0.0, 13, True)],
)  # fmt: skip
def test_whom_a_firm_warns(target: int, trust: float, tenure: int, expected: bool) -> None:
    # all; trusting: T >= 0.5; tenured: at least 13 weeks
    assert rules.warnable(target, trust, tenure, 0.5, 13) is expected


def test_experience_stars_by_hand() -> None:
    # round(3 + slope (x - neutral)), clipped to 1..5
    assert rules.experienced_satisfaction(0.7, 0.65, 0.25) == pytest.approx(0.7125)
    assert rules.experience_stars(0.70, 0.55, 8.0) == 4.0  # 3 + 1.2
    assert rules.experience_stars(0.55, 0.55, 8.0) == 3.0
    assert rules.experience_stars(0.40, 0.55, 8.0) == 2.0  # 3 - 1.2
    assert rules.experience_stars(0.70, 0.50, 10.0) == 5.0
    assert rules.experience_stars(0.20, 0.50, 10.0) == 1.0


@pytest.mark.parametrize(
    ("story", "quality", "evidence"),
    [(rules.SATISFIED, 0.72, 0.72), (rules.RECOVERED, 0.3, 1.0), (rules.WARNED, 0.3, 1.0),
     (rules.IGNORED, 0.9, 0.0), (rules.EXPLOITED, 0.9, 0.0)],
)  # fmt: skip
def test_story_evidence_for_every_story(story: int, quality: float, evidence: float) -> None:
    # ODD 7.4: a mild story carries the delivered quality; good news 1, bad news 0
    assert rules.story_evidence(story, quality) == evidence


def test_story_of_by_hand() -> None:
    assert rules.story_of(rules.WARNED, 1.0, 0.0, 0.09) == rules.WARNED
    assert rules.story_of(0, 4.0, 0.05, 0.09) == rules.SATISFIED
    assert rules.story_of(0, 5.0, 0.09, 0.09) == rules.NO_STORY  # u must be below p_story
    assert rules.story_of(0, 3.0, 0.0, 0.09) == rules.NO_STORY  # three stars: nothing to tell


def test_posting_probability_by_hand() -> None:
    # p_post (1 + extremity |s - 3|), times negativity below 3 stars
    assert rules.posting_probability(5.0, 0.02, 1.5, 2.0) == pytest.approx(0.08)
    assert rules.posting_probability(4.0, 0.02, 1.5, 2.0) == pytest.approx(0.05)
    assert rules.posting_probability(2.0, 0.02, 1.5, 2.0) == pytest.approx(0.1)
    assert rules.posting_probability(1.0, 0.03, 1.0, 3.0) == pytest.approx(0.27)


def test_search_hazard_by_hand() -> None:
    assert rules.search_hazard(0.007, 0.12, 0.2, False, False) == pytest.approx(0.007)
    assert rules.search_hazard(0.007, 0.12, 0.2, True, False) == pytest.approx(0.127)
    assert rules.search_hazard(0.007, 0.12, 0.2, False, True) == pytest.approx(0.207)
    assert rules.search_hazard(0.007, 0.12, 0.2, True, True) == pytest.approx(0.327)
    assert rules.search_hazard(0.9, 0.5, 0.5, True, True) == 1.0


def test_entry_hazard_by_hand() -> None:
    # p = min(1, p_ad (1 + ad_effect * advertising)); h = p + q_wom * share, clipped
    assert rules.entry_hazard(0.01, 1.0, 1.0, 0.2, 0.0) == pytest.approx(0.02)
    assert rules.entry_hazard(0.01, 2.0, 0.5, 0.2, 0.25) == pytest.approx(0.02 + 0.05)
    assert rules.entry_hazard(0.02, 0.0, 3.0, 0.6, 0.5) == pytest.approx(0.32)
    assert rules.entry_hazard(0.5, 1.0, 2.0, 0.0, 0.0) == 1.0  # p capped at 1
    assert rules.entry_hazard(0.1, 0.0, 0.0, 1.0, 1.0) == 1.0  # h clipped at 1


def test_each_utility_term_by_hand_and_its_sign() -> None:
    # U = bT T + bP proof + bR (rating gap) + bPop pop - bPrice ln(price / reference)
    base = dict(beta_trust=2.0, beta_proof=1.0, beta_rating=0.5, beta_popularity=3.0,
                beta_price=9.0, reference_price=1.0, trust=0.0, proof=0.0, rating_gap=0.0,
                popularity=0.0, price=1.0)  # fmt: skip
    assert rules.utility(*choice(**base)) == 0.0
    assert rules.utility(*choice(**{**base, "trust": 0.5})) == pytest.approx(1.0)
    assert rules.utility(*choice(**{**base, "proof": 0.5})) == pytest.approx(0.5)
    assert rules.utility(*choice(**{**base, "rating_gap": 0.6})) == pytest.approx(0.3)
    assert rules.utility(*choice(**{**base, "rating_gap": -0.6})) == pytest.approx(-0.3)
    assert rules.utility(*choice(**{**base, "popularity": 0.2})) == pytest.approx(0.6)
    assert rules.utility(*choice(**{**base, "price": 1.1})) == pytest.approx(-9.0 * np.log(1.1))
    assert rules.utility(*choice(**{**base, "price": 2.0, "reference_price": 2.0})) == 0.0
    assert rules.utility(
        *choice(**{**base, "price": 1.0, "reference_price": 0.5})
    ) == pytest.approx(-9.0 * np.log(2.0))


def test_social_weights_switch() -> None:
    assert rules.social_weights(True, 1.0, 0.5, 2.0) == (1.0, 0.5, 2.0)
    assert rules.social_weights(False, 1.0, 0.5, 2.0) == (0.0, 0.0, 0.0)


def test_logit_at_temperature_two_follows_softmax_of_half_the_utilities() -> None:
    utilities = np.array([0.0, 1.0, 2.0])
    expected = np.exp(utilities / 2) / np.exp(utilities / 2).sum()  # 0.186, 0.307, 0.506
    u = np.random.default_rng(3).random(40_000)
    picks = [rules.logit_pick(utilities, 2.0, x) for x in u]
    freq = np.bincount(picks, minlength=3) / u.size
    assert np.allclose(freq, expected, atol=0.01)  # 4 standard errors of a share near 0.5
    # a u at the very top still picks an option that exists (the last)
    assert rules.logit_pick(utilities, 2.0, 1.0) == 2
    assert rules.logit_pick(np.array([0.0, 0.0, -np.inf]), 1.0, 1.0) == 2


def test_discounting_and_a_two_week_npv_by_hand() -> None:
    # amount / (1 + rate)^years: a year at 8% is 1 / 1.08, half a year 1 / sqrt(1.08)
    assert rules.discounted(108.0, 0.08, 52, 52) == pytest.approx(100.0)
    assert rules.discounted(1.0, 0.08, 26, 52) == pytest.approx(1 / np.sqrt(1.08))
    assert rules.discounted(5.0, 0.2, 0, 52) == 5.0
    # profit 10 in weeks 1 and 2 at 8% a year, 52 weeks a year (ODD 7.6)
    npv = sum(rules.discounted(10.0, 0.08, t, 52) for t in (1, 2))
    assert npv == pytest.approx(10 / 1.08 ** (1 / 52) + 10 / 1.08 ** (2 / 52))
    assert npv < 20.0


def test_bass_step_by_hand() -> None:
    assert rules.bass_step(0.2, 0.01, 0.3) == pytest.approx(0.2 + 0.8 * (0.01 + 0.06))
