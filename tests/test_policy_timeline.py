"""Time-varying policies in the policy lab (ODD 8.5, 8a): a switch at a week is paired
with never switching, its cost and payback come from the contrasts, and harmful events
get recovery times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trustsim import policy
from trustsim.experiment import SerialExecutor
from trustsim.policy import analysis
from trustsim.policy.report import write_report

ROOT = Path(__file__).resolve().parents[1]
SWITCH = 15


def switch(week: int) -> dict[str, object]:
    return {"events": [{"week": week, "kind": "strategy", "firm": "short_term",
                        "preset": "trust_first"}]}  # fmt: skip


@pytest.fixture(scope="module")
def switched(tmp_path_factory: pytest.TempPathFactory) -> policy.PolicyResult:
    study = policy.load({
        "scenario": str(ROOT / "configs" / "classroom.yaml"),
        "overrides": {"market.breach_rate": 0.0},
        "steps": 40, "replications": 3, "seed": 4, "baseline_policy": "never",
        "policies": {
            "never": {},
            "switch": switch(SWITCH),
            "breach": {"events": [{"week": 20, "kind": "breach", "firm": "trust_first"}]},
        },
        "outcomes": ["npv", "cumulative_profit", "reputation", "share", "nps"],
    })  # fmt: skip
    out = tmp_path_factory.mktemp("timeline")
    result = policy.compare(study, out=out, executor=SerialExecutor())
    write_report(result)
    return result


def test_a_switch_changes_nothing_before_its_week(switched: policy.PolicyResult) -> None:
    c = switched.contrasts
    mine = c[(c.policy == "switch") & (c.firm == "short_term")]
    before = mine[mine.step < SWITCH]
    assert (before[["mean", "ci_low", "ci_high"]] == 0).all().all()
    after = mine[(mine.step >= SWITCH) & (mine.metric == "reputation")]
    assert after["mean"].iloc[-1] > 0.05  # keeping its promises raises its reputation


def test_the_switch_table_is_read_off_the_contrasts(switched: policy.PolicyResult) -> None:
    row = switched.switches.set_index("policy").loc["switch"]
    c = switched.contrasts
    profit = c[(c.policy == "switch") & (c.firm == "short_term")
               & (c.metric == "cumulative_profit")].set_index("step")["mean"]  # fmt: skip
    after = profit.loc[SWITCH:]
    assert row["switch_week"] == SWITCH
    assert row["cost"] == pytest.approx(max(0.0, -after.min()))
    assert row["deepest_week"] == after.idxmin()
    ahead = profit > 0
    payback = np.nan if not ahead.iloc[-1] else ahead[~ahead].index.max() + 1
    assert row["payback_week"] == pytest.approx(payback, nan_ok=True)
    assert set(switched.switches["policy"]) == {"switch"}  # a breach is not a switch


def test_switch_costs_by_hand() -> None:
    steps = np.arange(0, 11)
    mean = np.array([0, 0, 0, -5, -8, -6, -2, 1, 3, -1, 4], dtype=float)
    rows = [
        ("p", "base", "f", m, int(s), v, v - 1, v + 1, 3)
        for m in ("cumulative_profit", "npv")
        for s, v in zip(steps, mean, strict=True)
    ]
    contrast = pd.DataFrame(rows, columns=["policy", "scenario", "firm", "metric", "step",
                                           "mean", "ci_low", "ci_high", "n"])  # fmt: skip
    row = analysis.switch_costs(contrast, "p", "f", 3, 10).iloc[0]
    assert (row["cost"], row["cost_low"], row["cost_high"]) == (8.0, 7.0, 9.0)
    assert row["deepest_week"] == 4
    assert (row["payback_week"], row["weeks_to_pay_back"]) == (10.0, 7.0)  # 9 dips again
    assert row["npv"] == 4.0


def test_harmful_events_get_recovery_and_halving_times(switched: policy.PolicyResult) -> None:
    r = switched.recovery
    assert set(r["policy"]) == {"breach"} and set(r["measure"]) == {"reputation", "share", "nps"}
    assert (r["runs"] == 3).all() and (r["week"] == 20).all()
    h = switched.harm.set_index("metric")
    assert h.loc["reputation", "deepest"] < 0 and h.loc["reputation", "deepest_week"] == 20
    c = switched.contrasts
    rep = c[(c.policy == "breach") & (c.firm == "trust_first")
            & (c.metric == "reputation")].set_index("step")["mean"]  # fmt: skip
    deepest = rep.loc[20:33].min()
    later = rep.loc[rep.loc[20:33].idxmin() :]
    halved = later[later >= deepest / 2]
    expected = halved.index[0] - 20 if len(halved) else np.nan
    assert h.loc["reputation", "weeks_to_halve"] == pytest.approx(expected, nan_ok=True)
    assert h.loc["reputation", "deepest"] == pytest.approx(deepest)
    text = (switched.folder / "report.md").read_text(encoding="utf-8")
    assert "Recovery after events" in text and "short_term adopts trust_first in week 15" in text
    assert "The switch happens in week 15" in text


def test_policy_events_join_the_scenarios_own_timeline() -> None:
    study = policy.load({
        "scenario": str(ROOT / "configs" / "classroom.yaml"), "steps": 30,
        "overrides": {"events": [{"week": 5, "kind": "breach", "firm": "trust_first"}]},
        "baseline_policy": "never", "policies": {"never": {}, "switch": switch(10)},
    })  # fmt: skip
    assert [e["week"] for e in study.timeline("switch")] == [5, 10]
    assert [e["week"] for e in study.timeline("never")] == [5]
    assert study.switch_week("switch") == 10 and study.switch_week("never") is None
    assert study.has_harm
