"""The timeline (ODD 8a): scheduled events change nothing before their week, act in it,
are refused when they cannot happen, and recovery from them is measured as defined."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import EVENTFUL, small

import trustsim
from trustsim import events, recovery
from trustsim.config import ConfigError
from trustsim.model import TrustModel

WEEK = 12
STEPS = 30
NEWCOMER = {"name": "newcomer", "strategy": "trust_first", "advertising": 0.9}
KINDS = {
    "breach": {"kind": "breach", "firm": "trust_first"},
    "viral_review": {"kind": "viral_review", "firm": "trust_first", "reach": 0.6},
    "set": {"kind": "set", "key": "firms.short_term.price", "value": 0.8},
    "strategy": {"kind": "strategy", "firm": "short_term", "preset": "trust_first"},
    "enter": {"kind": "enter", "firm": NEWCOMER},
    "exit": {"kind": "exit", "firm": "short_term"},
}


def timeline(*entries: dict[str, object]) -> trustsim.Scenario:
    return small({**EVENTFUL, "steps": STEPS, "events": list(entries)}, size=300)


def run(scenario: trustsim.Scenario) -> trustsim.RunResult:
    return trustsim.run(scenario, seed=5)


@pytest.fixture(scope="module")
def without() -> trustsim.RunResult:
    return run(timeline())


@pytest.fixture(scope="module", params=sorted(KINDS))
def case(request: pytest.FixtureRequest) -> tuple[str, trustsim.RunResult]:
    kind = str(request.param)
    return kind, run(timeline({"week": WEEK, **KINDS[kind]}))


def incumbents(ts: pd.DataFrame) -> pd.DataFrame:
    return ts[ts["firm"].isin(["short_term", "trust_first"])].reset_index(drop=True)


def test_nothing_before_the_events_week_differs(
    case: tuple[str, trustsim.RunResult], without: trustsim.RunResult
) -> None:
    kind, with_event = case
    before = incumbents(with_event.timeseries)
    base = incumbents(without.timeseries)
    early = before["step"] < WEEK
    pd.testing.assert_frame_equal(
        before[early].drop(columns="in_market"), base[early].drop(columns="in_market")
    )
    pd.testing.assert_frame_equal(
        with_event.population[with_event.population["step"] < WEEK],
        without.population[without.population["step"] < WEEK],
    )
    # ... and from the event's week on, the run is another one
    late = before["step"] >= WEEK
    assert not before[late].drop(columns="in_market").equals(base[late].drop(columns="in_market"))
    assert with_event.events["week"].tolist() == [WEEK]
    assert with_event.events["kind"].tolist() == [kind]


def rows(result: trustsim.RunResult, firm: str) -> pd.DataFrame:
    ts = result.timeseries
    return ts[ts["firm"] == firm].set_index("step")


def test_a_breach_is_recorded_in_its_week() -> None:
    quiet = {"market.breach_rate": 0.0}  # no breach but the scheduled one
    scenario = timeline(KINDS["breach"] | {"week": WEEK}).with_overrides(quiet)
    firm = rows(run(scenario), "trust_first")
    assert firm["breaches"].to_dict() == {s: float(s == WEEK) for s in range(STEPS + 1)}
    customers = firm.loc[WEEK - 1, "customers"]
    breach_cost = scenario.firms[1].breach_cost
    assert firm.loc[WEEK, "costs"] > firm.loc[WEEK - 1, "costs"] + 0.8 * breach_cost * customers


def test_a_strategy_switch_shows_in_the_warnings_from_its_week() -> None:
    firm = rows(run(timeline(KINDS["strategy"] | {"week": WEEK})), "short_term")
    assert firm.loc[: WEEK - 1, "warnings"].sum() == 0  # the short-term preset never warns
    assert firm.loc[WEEK:, "warnings"].sum() > 10
    assert firm.loc[WEEK:, "warnings"].gt(0).mean() > 0.5


def test_a_price_set_changes_revenue_per_encounter_from_its_week() -> None:
    firm = rows(run(timeline(KINDS["set"] | {"week": WEEK})), "short_term")
    revenue = firm["encounters"] * 1.0 + firm["exploited"] * 1.2  # price 1, mistake 1.2
    np.testing.assert_allclose(firm.loc[1 : WEEK - 1, "revenue"], revenue.loc[1 : WEEK - 1])
    cut = firm["encounters"] * 0.8 + firm["exploited"] * 1.2
    np.testing.assert_allclose(firm.loc[WEEK:, "revenue"], cut.loc[WEEK:])


@pytest.mark.parametrize(("tone", "sign"), [("bad", -1), ("good", 1)])
def test_a_viral_story_moves_the_rating_in_its_week(tone: str, sign: int) -> None:
    event = KINDS["viral_review"] | {"week": WEEK, "tone": tone}
    firm = rows(run(timeline(event)), "trust_first")
    step = firm.loc[WEEK, "rating"] - firm.loc[WEEK - 1, "rating"]
    assert sign * step > 0.1
    assert firm.loc[WEEK, "reviews"] - firm.loc[WEEK - 1, "reviews"] >= events.VIRAL_REVIEWS


def test_an_entrant_has_customers_only_after_its_entry() -> None:
    result = run(timeline(KINDS["enter"] | {"week": WEEK}))
    firm = rows(result, "newcomer")
    assert firm.loc[: WEEK - 1, "customers"].eq(0).all()
    assert firm.loc[: WEEK - 1, "in_market"].eq(0).all()
    assert firm.loc[WEEK:, "in_market"].eq(1).all()
    assert firm.loc[WEEK:, "customers"].max() > 0
    assert firm.loc[: WEEK - 1, "costs"].eq(0).all()  # no adverts while out of the market


def test_an_exit_turns_the_customers_into_prospects() -> None:
    result = run(timeline(KINDS["exit"] | {"week": WEEK}))
    firm = rows(result, "short_term")
    had = firm.loc[WEEK - 1, "customers"]
    assert had > 0
    assert firm.loc[WEEK, "churns"] == had and firm.loc[WEEK, "exits"] == had
    assert firm.loc[WEEK:, "customers"].eq(0).all()
    assert firm.loc[WEEK + 1 :, ["acquisitions", "costs", "encounters"]].eq(0).all().all()
    pop = result.population.set_index("step")
    assert pop.loc[WEEK, "gini"] == 0.0  # one firm left in the market


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"week": 99, "kind": "breach", "firm": "trust_first"}, "events.0.week"),
        ({"week": 5, "kind": "boom", "firm": "trust_first"}, "events.0.kind"),
        ({"week": 5, "kind": "breach", "firm": "nobody"}, "events.0.firm"),
        ({"week": 5, "kind": "set", "key": "market.nope", "value": 1}, "market.nope"),
        ({"week": 5, "kind": "set", "key": "population.size", "value": 9}, "events.0.key"),
        ({"week": 5, "kind": "exit", "firm": "newcomer"}, "events.0.week"),
    ],
)
def test_bad_events_are_refused_naming_the_entry(entry: dict[str, object], key: str) -> None:
    entrant = {"week": 10, "kind": "enter", "firm": NEWCOMER}
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        timeline(entry, entrant) if entry["kind"] == "exit" else timeline(entry)


def test_a_bad_event_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "steps: 20\nevents:\n  - {week: 25, kind: breach, firm: short_term}\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "run", str(config), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "events.0.week" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_recovery_weeks_by_hand() -> None:
    # level before week 3 is 10; the 4-week trailing means after it:
    # week 3: 8, week 4: 8.5, week 5: 9, week 6: 9.75, week 7: 10.75 -> back 4 weeks on
    values = np.array([9.0, 9.5, 10.0, 8.0, 9.0, 10.0, 12.0, 12.0, 12.0])
    assert recovery.weeks_to_recover(values, 3) == 4.0
    assert recovery.weeks_to_recover(np.array([5.0, 5.0, 6.0, 7.0]), 2) == 0.0  # no fall
    assert np.isnan(recovery.weeks_to_recover(np.array([5.0, 5.0, 4.0, 4.0, 4.5]), 2))
    # a fall that starts later than a quarter after the event is not the event's
    late = np.r_[np.full(20, 5.0), np.full(5, 4.0)]
    assert recovery.weeks_to_recover(late, 3) == 0.0


def test_recovery_summary_treats_never_as_censored() -> None:
    table = pd.DataFrame(
        {
            "event": 0, "week": 10, "kind": "breach", "firm": "a", "measure": "reputation",
            "before": 0.5, "weeks": [2.0, 4.0, 6.0, np.nan], "recovered": [True, True, True, False],
            "replication": range(4),
        }
    )  # fmt: skip
    row = recovery.summarise(table, horizon=50).iloc[0]
    assert (row["runs"], row["recovered"]) == (4, 3)
    assert 2.0 <= row["median_weeks"] <= 6.0  # never (censored at 40) is not averaged in
    assert "3 of 4 runs" in recovery.describe(row, 50)
    lost = table.assign(weeks=np.nan, recovered=False)
    assert np.isnan(recovery.summarise(lost, horizon=50).iloc[0]["median_weeks"])


def test_a_classroom_button_is_the_same_event() -> None:
    model = TrustModel(timeline(), seed=2)
    for _ in range(4):
        model.step()
    events.BY_NAME["breach"](model, 1)
    events.BY_NAME["viral_bad_review"](model, 0)
    logged = [(e["week"], e["kind"], e["firm"]) for e in model.event_log]
    assert logged == [(4, "breach", "trust_first"), (4, "viral_review", "short_term")]
    assert model.firm_records[-1]["breaches"] == 1.0  # the week shown is refreshed


def test_an_events_week_can_be_swept() -> None:
    base = timeline({"week": WEEK, **KINDS["breach"]}).with_overrides({"market.breach_rate": 0})
    for week in (6, 20):
        firm = rows(run(base.with_overrides({"events.0.week": week})), "trust_first")
        assert firm.index[firm["breaches"] > 0].tolist() == [week]
    assert trustsim.config.is_integer_key("events.0.week")
