"""The per-customer panel (ODD 4, observation) agrees with the firm tables."""

from __future__ import annotations

import numpy as np
from conftest import EVENTFUL, small

import trustsim
from trustsim.state import PANEL_EVENTS

# panel event -> the timeseries count of the same events, by the serving firm
COUNTS = {
    "warned": "warnings",
    "exploited": "exploited",
    "discovered": "discovered",
    "complained": "complaints",
    "recovered": "recoveries",
    "left": "churns",
}


def test_panel_sums_equal_the_firm_counts() -> None:
    scenario = small(EVENTFUL, size=300)
    result = trustsim.run(scenario, seed=5, steps=30, panel_every=1)
    panel, ts = result.panel, result.timeseries
    firms = scenario.firm_names
    assert list(panel.columns) == [
        "step", "customer", "provider", *(f"trust_{f}" for f in firms), *PANEL_EVENTS,
    ]  # fmt: skip
    assert len(panel) == 31 * 300
    served = panel[panel["provider"] != ""]
    sums = served.groupby(["step", "provider"])[[*COUNTS, "breached"]].sum()
    table = ts.set_index(["step", "firm"])
    for event, column in COUNTS.items():
        expected = table[column].rename_axis(["step", "provider"])
        got = sums[event].reindex(expected.index, fill_value=0)
        assert (got.to_numpy() == expected.to_numpy()).all(), event
        assert expected.sum() >= 5, f"{column} too rare to test"
    # a breach hits every customer the firm had when the step began
    customers_before = table["customers"].groupby(level="firm").shift(1)
    breached = sums["breached"].reindex(table.index.rename(["step", "provider"]), fill_value=0)
    hit = (table["breaches"] * customers_before).dropna()
    assert (breached.loc[hit.index].to_numpy() == hit.to_numpy()).all()
    assert hit.sum() > 0
    # prospects have no events; trust is the model's trust in each firm
    assert not panel.loc[panel["provider"] == "", ["warned", "left"]].any().any()
    final = ts[ts.step == 30].set_index("firm")
    for firm in firms:
        mine = panel[(panel.step == 30) & (panel.provider == firm)]
        left = mine["left"].to_numpy()
        stayed = mine.loc[~left, f"trust_{firm}"].to_numpy()
        assert np.all((stayed >= 0) & (stayed <= 1))
    assert set(final.index) == set(firms)


def test_panel_is_empty_when_off_and_sampled_every_k() -> None:
    scenario = small(size=100)
    off = trustsim.run(scenario, seed=1, steps=6)
    assert off.panel.empty
    every3 = trustsim.run(scenario, seed=1, steps=7, panel_every=3)
    assert sorted(every3.panel["step"].unique()) == [0, 3, 6]
    # observing never changes the run
    assert off.timeseries.equals(trustsim.run(scenario, seed=1, steps=6, panel_every=2).timeseries)
