"""Invariants over random valid parameter sets (Hypothesis)."""

from __future__ import annotations

import numpy as np
from conftest import small
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustsim.config import Scenario, sensitivity_ranges
from trustsim.model import TrustModel

KINDS = ["watts_strogatz", "erdos_renyi", "barabasi_albert", "complete"]
# each network kind has its own parameters, so its own ranges (ODD 8.3)
RANGES = {
    kind: sensitivity_ranges(Scenario().with_overrides({"network.kind": kind})) for kind in KINDS
}


@st.composite
def parameter_sets(draw: st.DrawFn) -> dict[str, object]:
    """A random subset of parameters, each anywhere in (or at the ends of) its range."""
    kind = draw(st.sampled_from(KINDS))
    ranges = RANGES[kind]
    chosen = draw(st.lists(st.sampled_from(sorted(ranges)), min_size=1, max_size=12, unique=True))
    values: dict[str, object] = {"network.kind": kind}
    for key in chosen:
        lo, hi = ranges[key]
        values[key] = draw(st.one_of(st.sampled_from([lo, hi]), st.floats(lo, hi, allow_nan=False)))
    values["market.outside_option"] = draw(st.booleans())
    return values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=parameter_sets(), seed=st.integers(0, 2**32 - 1))
def test_state_and_tables_stay_valid(params: dict[str, object], seed: int) -> None:
    scenario = small(params, size=60)
    model = TrustModel(scenario, seed=seed, agent_handles=False)
    n, m = scenario.population.size, len(scenario.firms)
    for _ in range(12):
        provider_before = model.state.provider.copy()
        model.step()
        st_ = model.state
        assert np.all((st_.beliefs >= 0) & (st_.beliefs <= 1))
        assert np.isfinite(st_.balance).all()
        _, _, trust = model.trust_of(np.repeat(np.arange(n), m), np.tile(np.arange(m), n))
        assert np.all((trust >= 0) & (trust <= 1))
        # one provider at most, and a valid one
        assert st_.provider.shape == (n,)
        assert np.all((st_.provider >= -1) & (st_.provider < m))
        # revenue is the price of each encounter plus each exploited mistake
        fp, led = model.context.firms, model.ledger
        paid = fp["price"] * led.encounters + fp["mistake_revenue"] * led.exploited
        assert np.allclose(led.revenue, paid)
        assert np.all(st_.served == provider_before)
        # a customer always knows its provider (its consideration set holds it)
        has = np.flatnonzero(st_.provider >= 0)
        assert st_.aware[has, st_.provider[has]].all()
    ts, pop = model.firm_records, model.population_records
    for row in pop:
        assert row["customers"] + row["prospects"] == n
        assert 0.0 <= row["gini"] <= 1.0
    for row in ts:
        retention = row["period_retention"]
        assert np.isnan(retention) or 0.0 <= retention <= 1.0
        assert 0.0 <= row["share"] <= 1.0
        for key in ("mean_trust", "mean_cognitive", "mean_affective", "reputation", "csat"):
            assert np.isnan(row[key]) or 0.0 <= row[key] <= 1.0
        assert 1.0 <= row["rating"] <= 5.0
        assert -100.0 <= row["nps"] <= 100.0 or np.isnan(row["nps"])
