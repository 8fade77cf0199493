"""Each phase against a tiny case computed by hand from the formulas of ODD 4 and 7.

Four customers and two firms: customers 0 and 1 buy from firm 0, customer 2 from
firm 1, customer 3 is a prospect. The expected values are written out with the
formulas themselves, not with ``trustsim.rules``, so a wrong rule fails here
even though both engines share it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import scripted_encounter

from trustsim import rules
from trustsim.config import Scenario
from trustsim.draws import BreachDraws
from trustsim.network import SparseNetwork
from trustsim.phases import Context, breach, encounter, talk, tally
from trustsim.state import Accounts, CustomerState, Ledger

N, M = 4, 2
SCENARIO = Scenario().with_overrides(
    {"population.size": N, "market.breach_rate": 0.05, "reviews.enabled": False}
)
TR, BANK, MARKET = SCENARIO.trust, SCENARIO.bank, SCENARIO.market


def state() -> CustomerState:
    beliefs = np.array(
        [
            [[0.6, 0.7, 0.8], [0.5, 0.5, 0.5]],
            [[0.9, 0.4, 0.6], [0.5, 0.5, 0.5]],
            [[0.3, 0.5, 0.4], [0.7, 0.8, 0.9]],
            [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],
        ]
    )
    return CustomerState(
        beliefs=beliefs,
        balance=np.array([[0.5, 0.0], [-0.4, 0.0], [0.0, 1.0], [0.0, 0.0]]),
        identification=np.array([[0.6, 0.4], [0.5, 0.5], [0.2, 0.9], [0.5, 0.5]]),
        propensity=np.full(N, 0.5),
        talkativeness=np.ones(N),
        provider=np.array([0, 0, 1, -1]),
        tenure=np.array([20, 3, 8, 0]),
        cohort=np.array([True, True, True, False]),
        aware=np.array([[1, 0], [1, 0], [0, 1], [0, 0]], dtype=bool),
    )


def context(scenario: Scenario = SCENARIO, network: SparseNetwork | None = None) -> Context:
    star = SparseNetwork(N, np.array([0, 0, 0]), np.array([1, 2, 3]))  # 0 knows 1, 2, 3
    return Context.of(scenario, network or star)


def hand_trust(st: CustomerState, i: int, f: int, scenario: Scenario = SCENARIO) -> float:
    """T by hand: power mean, bank-account sigmoid, risk-weighted blend (ODD 4)."""
    tr = scenario.trust
    cognitive = hand_cognitive(st, i, f, scenario)
    sigmoid = 1 / (1 + math.exp(-st.balance[i, f] / scenario.bank.scale))
    affect = (1 - tr.w_id) * sigmoid + tr.w_id * st.identification[i, f]
    omega = tr.omega0 + (1 - tr.omega0) * scenario.market.risk
    return omega * cognitive + (1 - omega) * affect


def hand_cognitive(st: CustomerState, i: int, f: int, scenario: Scenario = SCENARIO) -> float:
    """C by hand: the power mean of the three beliefs (ODD 4)."""
    rho = scenario.trust.weakest_link
    return float(np.mean(st.beliefs[i, f] ** rho) ** (1 / rho))


def toward(x: float, evidence: float, trust: float, weight: float = 1.0, k: int = 1) -> float:
    """One learning step by hand: up at eta_up, down at eta_down * (1 - buffer * T)."""
    eta = TR.eta_up if evidence >= x else TR.eta_down * (1 - TR.buffer * trust)
    return x + (1 - (1 - weight * eta) ** k) * (evidence - x)


def test_breach_hits_the_firms_customers_and_the_news_reaches_others() -> None:
    st, ctx, ledger = state(), context(), Ledger.empty(M)
    before = state()
    # firm 0 is breached (u below breach_rate * (1 - protection)); firm 1 is not.
    # Customer 2 hears the news (u_news below news.reach), customer 3 does not.
    u_news = np.array([[0.0, 0.0], [0.0, 0.0], [0.1, 0.9], [0.99, 0.99]])
    breach(st, ledger, ctx, BreachDraws(np.array([0.0, 0.99]), u_news))

    for i in (0, 1):
        t = hand_trust(before, i, 0)
        assert st.beliefs[i, 0, 2] == pytest.approx(toward(before.beliefs[i, 0, 2], 0.0, t))
        assert st.balance[i, 0] == pytest.approx(before.balance[i, 0] - BANK.loss_aversion)
    t = hand_trust(before, 2, 0)
    heard = toward(before.beliefs[2, 0, 2], 0.0, t, weight=SCENARIO.news.weight)
    assert st.beliefs[2, 0, 2] == pytest.approx(heard)
    assert st.balance[2, 0] == before.balance[2, 0]  # news moves beliefs, not the bank account
    np.testing.assert_array_equal(st.beliefs[3], before.beliefs[3])
    np.testing.assert_array_equal(st.beliefs[:, 1], before.beliefs[:, 1])  # firm 1 untouched
    np.testing.assert_array_equal(st.breached, [True, True, False, False])
    np.testing.assert_array_equal(ledger.breaches, [1, 0])
    breach_cost = SCENARIO.firms[0].breach_cost
    np.testing.assert_allclose(ledger.costs, [2 * breach_cost, 0.0])


def test_a_warned_customer_learns_benevolence_and_the_firm_pays_for_it() -> None:
    # customer 0 (firm 0, made to warn everyone) has a need and a mistake; it is warned
    scenario = SCENARIO.with_overrides(
        {"firms.0.warn_rate": 1.0, "firms.0.warn_target": "all", "market.need_rate": 0.9}
    )
    st, ctx, ledger = state(), context(scenario), Ledger.empty(M)
    before = state()
    firm = scenario.firms[0]
    y = firm.promise  # delivered exactly as promised: kept, no extra, no failure
    zeros = np.zeros(N)
    only_0_buys = np.array([0.0, 1.0, 1.0, 1.0])
    draws = scripted_encounter(N, y, u_need=only_0_buys, u_mistake=zeros, u_warn=zeros)
    encounter(st, ledger, ctx, draws)

    t, c = hand_trust(before, 0, 0, scenario), hand_cognitive(before, 0, 0)
    a, b, g = before.beliefs[0, 0]
    np.testing.assert_allclose(
        st.beliefs[0, 0], [toward(a, y, t), toward(b, 1, t), toward(g, 1, t)]
    )
    assert st.balance[0, 0] == pytest.approx(before.balance[0, 0] + BANK.d_warn * c)
    assert st.warned[0] and not st.exploited.any()
    np.testing.assert_array_equal(st.beliefs[1:], before.beliefs[1:])  # nobody else bought
    np.testing.assert_allclose(ledger.warnings, [1, 0])
    np.testing.assert_allclose(ledger.revenue, [firm.price, 0])  # the mistake's revenue forgone
    np.testing.assert_allclose(ledger.costs, [firm.unit_cost + firm.warn_cost, 0])
    np.testing.assert_allclose(ledger.satisfied, [1, 0])


def test_one_teller_reaches_its_three_neighbours() -> None:
    # customer 0 has a bad story about firm 0 (an ignored complaint: benevolence 0) and
    # tells everyone it knows: two more customers and a prospect who never bought
    scenario = SCENARIO.with_overrides({"wom.p_negative": 1.0})
    st, ctx, ledger = state(), context(scenario), Ledger.empty(M)
    before = state()
    st.story[0], st.story_firm[0], st.story_evidence[0] = rules.IGNORED, 0, 0.0
    talk(st, ledger, Accounts.empty(M), ctx, np.random.default_rng(0), np.ones(N))

    for j in (1, 2, 3):
        t = hand_trust(before, j, 0, scenario)
        expected = toward(before.beliefs[j, 0, 1], 0.0, t, weight=scenario.wom.weight)
        assert st.beliefs[j, 0, 1] == pytest.approx(expected)
        assert st.aware[j, 0]  # hearing of firm 0 puts it in the consideration set
    np.testing.assert_array_equal(st.beliefs[0], before.beliefs[0])  # the teller learns nothing
    np.testing.assert_allclose(ledger.wom_negative, [3, 0])
    np.testing.assert_allclose(ledger.stories_negative, [1, 0])


def test_tally_sums_each_firms_customers_by_hand() -> None:
    st = state()
    sums = tally(st, context())
    own = [(0, 0), (1, 0), (2, 1)]  # (customer, firm) of the three customers
    for f in range(M):
        mine = [i for i, g in own if g == f]
        assert sums["customers"][f] == len(mine)
        assert sums["trust_sum"][f] == pytest.approx(sum(hand_trust(st, i, f) for i in mine))
        assert sums["cognitive_sum"][f] == pytest.approx(
            sum(hand_cognitive(st, i, f) for i in mine)
        )
        every = [hand_trust(st, i, f) for i in range(N)]
        assert sums["reputation"][f] == pytest.approx(np.mean(every))
        promoters = sum(
            0.5 * math.erfc(-(6.4 + 3.0 * hand_trust(st, i, f) - 8.5) / 1.5 / math.sqrt(2))
            for i in mine
        )
        assert sums["promoters"][f] == pytest.approx(promoters)
    np.testing.assert_allclose(sums["awareness"], [0.5, 0.25])
    np.testing.assert_allclose(sums["cohort_customers"], [2, 1])
