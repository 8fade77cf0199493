"""Shocks change the state as ODD 8a says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import trustsim
from trustsim import events
from trustsim.config import ConfigError
from trustsim.model import TrustModel

CLASSROOM = Path(__file__).resolve().parents[1] / "configs" / "classroom.yaml"


@pytest.fixture
def model() -> TrustModel:
    m = TrustModel(trustsim.load_scenario(CLASSROOM), seed=4)
    for _ in range(5):
        m.step()
    return m


def rating(m: TrustModel, firm: int) -> float:
    from trustsim.phases import rating as public_rating

    return float(public_rating(m.accounts, m.context)[firm])


def test_viral_bad_review_lowers_rating_and_benevolence_of_that_firm_only(
    model: TrustModel,
) -> None:
    before, other = model.state.beliefs.copy(), rating(model, 1)
    r0 = rating(model, 0)
    readers = events.viral_review(model, 0, "bad", model.config.news.reach)
    n = model.state.n
    assert 0.3 * n < readers < 0.7 * n  # news.reach = 0.5
    assert rating(model, 0) < r0 - 0.3
    assert rating(model, 1) == other
    drop = before[:, 0, 1] - model.state.beliefs[:, 0, 1]
    assert np.count_nonzero(drop > 0) == readers  # benevolence of exactly the readers fell
    assert np.all(drop >= 0)
    np.testing.assert_array_equal(before[:, 1], model.state.beliefs[:, 1])
    np.testing.assert_array_equal(before[:, 0, [0, 2]], model.state.beliefs[:, 0, [0, 2]])


def test_data_breach_follows_submodel_6_1(model: TrustModel) -> None:
    customers = np.flatnonzero(model.state.provider == 1)
    integrity, balance = model.state.beliefs[:, 1, 2].copy(), model.state.balance[:, 1].copy()
    costs = model.ledger.costs.copy()
    events.breach(model, 1)
    sc = model.config
    assert model.ledger.breaches.tolist() == [0.0, 1.0]
    assert model.ledger.costs[1] - costs[1] == pytest.approx(
        sc.firms[1].breach_cost * customers.size
    )
    # customers: integrity evidence 0 at full weight, and a withdrawal of la * d_breach
    assert np.all(model.state.beliefs[customers, 1, 2] < integrity[customers])
    assert np.allclose(
        balance[customers] - model.state.balance[customers, 1],
        sc.bank.loss_aversion * sc.bank.d_breach,
    )
    # others: some hear the news (at news.weight), none lose bank balance
    others = np.setdiff1d(np.arange(model.state.n), customers)
    heard = model.state.beliefs[others, 1, 2] < integrity[others]
    assert 0.3 < heard.mean() < 0.7
    np.testing.assert_array_equal(model.state.balance[others, 1], balance[others])


def test_warning_month_warns_at_every_mistake_then_ends(model: TrustModel) -> None:
    assert model.config.firms[0].warn_rate == 0.0  # the short-term firm never warns
    events.warning_month(model, 0)
    rows = []
    for _ in range(8):
        model.step()
        rows.append(model.firm_records[-2])  # firm 0's record of this step
    warned = [r["warnings"] for r in rows]
    exploited = [r["exploited"] for r in rows]
    assert sum(warned[:4]) > 0 and sum(exploited[:4]) == 0  # every mistake warned about
    assert sum(warned[4:]) == 0 and sum(exploited[4:]) > 0  # back to its own policy
    assert model.config.firms[0].warn_rate == 0.0


def test_one_bad_experience_reaches_people_who_never_bought(model: TrustModel) -> None:
    st = model.state
    degree = model.network.degree
    teller = next(
        i
        for i in np.flatnonzero(st.provider == 0)
        if np.sum(st.provider[model.network.neighbours(i)] < 0) >= 3
    )
    before = st.beliefs.copy()
    st.talkativeness[teller] = 10.0  # a talker: tells every neighbour (probability 1)
    heard = events.bad_experience(model, teller)
    assert heard == degree[teller]
    prospects = [j for j in model.network.neighbours(teller) if st.provider[j] < 0]
    assert all(st.beliefs[j, 0, 1] < before[j, 0, 1] for j in prospects)
    assert st.beliefs[teller, 0, 1] < before[teller, 0, 1]


def test_live_changes_apply_and_world_shaping_keys_are_refused(model: TrustModel) -> None:
    model.reconfigure({"market.beta_proof": 3.0})
    assert model.config.market.beta_proof == 3.0
    assert model.context.scenario.market.beta_proof == 3.0
    with pytest.raises(ConfigError, match=r"network\.k"):
        model.reconfigure({"network.k": 4})
