"""Policy lab v2: a market in business terms (ODD 8.7), the profit bridge, named
markets and the best setting (ODD 8.5)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import trustsim
from trustsim import policy
from trustsim.business import SWITCH_GIVEN_SEARCH, Money
from trustsim.cli import main
from trustsim.config import ConfigError
from trustsim.experiment import SerialExecutor
from trustsim.policy import bridge, optimize
from trustsim.policy.report import write_report

ROOT = Path(__file__).resolve().parents[1]
CLASSROOM = str(ROOT / "configs" / "classroom.yaml")

TELECOM = {
    "currency": "GBP",
    "period": "month",
    "customers": 2_000_000,
    "revenue_per_customer": 20.0,
    "margin": 0.3,
    "mistake_fee": 10.0,
    "mistake_share": 0.2,
    "annual_churn": 0.15,
    "discovered": 0.4,
}


# --------------------------------------------------------------------------- business terms


def test_business_figures_map_onto_the_parameters_by_hand() -> None:
    scenario = trustsim.load_scenario("baseline", {"business": TELECOM})
    # a customer's encounters a year: need_rate 0.5 x 52 weeks = 26
    unit = 20.0 * 12 / 26  # GBP per encounter at price 1
    for firm in scenario.firms:
        assert firm.unit_cost == pytest.approx(0.7)  # price 1 x (1 - margin 0.3)
        assert firm.mistake_revenue == pytest.approx(10.0 / unit)
    assert scenario.market.mistake_rate == pytest.approx(1 - 0.8 ** (1 / 26))
    weekly = -math.log(1 - 0.15) / 52
    assert scenario.market.review_rate == pytest.approx(weekly / SWITCH_GIVEN_SEARCH)
    assert scenario.market.discovery == 0.4
    money = Money(scenario)
    assert money.unit == pytest.approx(unit)
    # 2,000 simulated customers, half of them the first firm's at t = 0 (initial_share 0.5)
    simulated = scenario.population.size * scenario.firms[0].initial_share
    assert money.scale == pytest.approx(2_000_000 / simulated)


def test_money_scales_linearly_with_the_customer_base() -> None:
    one = Money(trustsim.load_scenario("baseline", {"business": TELECOM}))
    two = Money(trustsim.load_scenario("baseline", {"business": {**TELECOM, "customers": 4e6}}))
    assert two.factor == pytest.approx(2 * one.factor)
    assert two.unit == one.unit  # the price of an encounter does not depend on the base
    assert one(1.0).startswith("GBP ")


def test_without_a_business_section_money_stays_in_model_units() -> None:
    money = Money(trustsim.load_scenario("baseline"))
    assert money.factor == 1.0 and money(1234.4) == "1,234"
    assert "model units" in money.units()


def test_a_built_scenario_keeps_its_mapped_values_and_a_design_may_vary_them() -> None:
    scenario = trustsim.load_scenario("baseline", {"business": TELECOM})
    assert scenario.with_overrides({}) == scenario  # rebuilding maps nothing twice
    varied = scenario.with_overrides({"market.discovery": 0.8})
    assert varied.market.discovery == 0.8 and varied.firms[0].unit_cost == pytest.approx(0.7)
    with pytest.raises(ConfigError, match=r"business\.margin: .*firms\.\*\.unit_cost"):
        scenario.with_overrides({"business.margin": 0.5})


def test_a_file_without_firms_gets_its_figures_and_a_price_lever_keeps_the_cost(
    tmp_path: Path,
) -> None:
    path = tmp_path / "market.yaml"
    path.write_text(yaml.safe_dump({"business": TELECOM}))  # the default firms, unwritten
    unit = 20.0 * 12 / 26
    dearer = trustsim.load_scenario(path, {"firms.trust_first.price": 1.2})
    for scenario in (trustsim.load_scenario(path), dearer):
        for firm in scenario.firms:  # mapped at the file's price 1, not at the lever's
            assert firm.unit_cost == pytest.approx(0.7)
            assert firm.mistake_revenue == pytest.approx(10.0 / unit)
    assert dearer.firms[1].price == 1.2


def test_the_shipped_telecom_market_states_every_figure_with_a_source() -> None:
    scenario = trustsim.load_scenario("telecom_uk")
    business = scenario.business
    assert business is not None and business.customers == 2_000_000
    figures = {k for k, v in business.model_dump().items() if v is not None} - {"sources"}
    assert figures - {"currency", "period", "firm"} <= set(business.sources)
    firm = scenario.firms[1]
    assert firm.unit_cost == pytest.approx(1 - business.margin)  # type: ignore[operator]
    assert firm.mistake_revenue * Money(scenario).unit == pytest.approx(business.mistake_fee)


def test_a_file_may_not_state_a_figure_and_its_parameter_both(tmp_path: Path) -> None:
    path = tmp_path / "market.yaml"
    path.write_text(yaml.safe_dump({"business": TELECOM, "market": {"discovery": 0.5}}))
    with pytest.raises(ConfigError, match=r"business\.discovered sets market\.discovery"):
        trustsim.load_scenario(path)
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("business", "named"),
    [
        ({**TELECOM, "period": "fortnight"}, "business.period"),
        ({**TELECOM, "margin": 1.5}, "business.margin"),
        ({**TELECOM, "firm": "nobody"}, "business.firm"),
        ({**TELECOM, "sources": {"margn": "x"}}, "sources"),
    ],
)
def test_bad_business_figures_name_the_key(business: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        trustsim.load_scenario("baseline", {"business": business})


# --------------------------------------------------------------------------- the bridge

EVENTFUL = {
    "population.size": 300,
    "market.breach_rate": 0.05,
    "firms.trust_first.care_rate": 0.1,
    "events": [
        {"week": 5, "kind": "breach", "firm": "short_term"},
        {"week": 10, "kind": "set", "key": "firms.short_term.price", "value": 1.2},
        {"week": 8, "kind": "enter", "firm": {"name": "new", "strategy": "trust_first"}},
        {"week": 20, "kind": "exit", "firm": "new"},
    ],
}


def test_priced_ledger_counts_add_up_to_each_firms_npv() -> None:
    scenario = trustsim.load_scenario("baseline", {**EVENTFUL, "steps": 30})
    result = trustsim.run(scenario, seed=3)
    flows = bridge.money(result.timeseries, bridge.firm_values(scenario, 30), 300)
    npv = result.final()["npv"]
    assert (flows["breaches"] > 0).any() and (flows["care"] > 0).any()
    pd.testing.assert_series_equal(
        bridge.npv_of(flows).sort_index(), npv.sort_index(), check_names=False, rtol=1e-9
    )


SWITCH_AT_10 = {"week": 10, "kind": "strategy", "firm": "short_term", "preset": "trust_first"}


def write_study(folder: Path, **fields: Any) -> Path:
    spec = {
        "scenario": CLASSROOM,
        "overrides": {"population.size": 200, "market.breach_rate": 0.05},
        "steps": 30,
        "replications": 3,
        "seed": 4,
        "baseline_policy": "never",
        "policies": {
            "never": {"firms.trust_first.warn_rate": 0.0},
            "warn": {"firms.trust_first.warn_rate": 0.9},
            "premium": {"firms.trust_first.price": 1.1, "firms.trust_first.care_rate": 0.1},
            "switch": {"events": [SWITCH_AT_10]},
        },
        "scenarios": {
            "kind": "list",
            "points": [
                {"name": "bill shows overage", "market.discovery": 0.8},
                {"market.review_rate": 0.002},
            ],
        },
        **fields,
    }
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> policy.PolicyResult:
    folder = tmp_path_factory.mktemp("v2")
    result = policy.compare(write_study(folder), out=folder / "out", executor=SerialExecutor())
    write_report(result)
    return result


def test_each_bridge_adds_up_to_the_npv_difference(study: policy.PolicyResult) -> None:
    done = study.runs
    points = study.study.scenario_points(study.study.seed or 0)
    labels = study.study.scenario_labels(len(points))
    scenarios = {
        (p, label): study.study.scenario_of(point, p)
        for label, point in zip(labels, points, strict=True)
        for p in study.study.policies
    }
    parts = bridge.bridge(done, study.timeseries(), scenarios, "never", study.study.horizon)
    assert bridge.adds_up(parts) < 1e-6
    # the total is the paired NPV contrast the study reports
    c = study.contrasts
    npv = c[(c.metric == "npv") & (c.step == study.study.horizon)]
    total = study.bridge[study.bridge.component == bridge.TOTAL]
    both = total.merge(npv, on=["policy", "scenario", "firm"], suffixes=("", "_contrast"))
    assert len(both) == len(total) > 0
    np.testing.assert_allclose(both["mean"], both["mean_contrast"], rtol=1e-9, atol=1e-9)


def test_the_bridge_puts_each_lever_where_it_acts(study: policy.PolicyResult) -> None:
    b = study.bridge.set_index(["policy", "scenario", "firm", "component"])["mean"]
    # warning changes no price; it gives up exploited mistakes and pays for contacts
    assert b["warn", "base", "trust_first", bridge.PRICE] == 0
    assert b["warn", "base", "trust_first", bridge.MISTAKES] < 0
    assert b["warn", "base", "trust_first", "warning contacts"] < 0
    # a price rise earns margin on each encounter it keeps
    assert b["premium", "base", "trust_first", bridge.PRICE] > 0
    # a switch costs the switching firm advertising it no longer buys: a saving
    assert b["switch", "base", "short_term", "advertising"] > 0


def test_named_markets_keep_their_names_in_tables_and_report(study: policy.PolicyResult) -> None:
    assert list(study.scenarios["scenario"]) == ["base", "bill shows overage", "s002"]
    assert set(study.contrasts["scenario"]) == {"base", "bill shows overage", "s002"}
    text = (study.folder / "report.md").read_text()
    assert "## Named market: bill shows overage" in text
    assert "In bill shows overage (market.discovery = 0.8), warn" in text
    assert (study.folder / "contrasts_bill_shows_overage.png").stat().st_size > 10_000
    assert pd.read_parquet(study.folder / "bridge.parquet").columns[:7].tolist() == [
        "policy", "scenario", "firm", "component", "mean", "ci_low", "ci_high"
    ]  # fmt: skip


def test_the_report_gives_a_price_lever_against_both_baselines(
    study: policy.PolicyResult,
) -> None:
    text = (study.folder / "report.md").read_text()
    premium = next(p for p in text.split("\n\n") if p.startswith("premium ("))
    assert "% of its NPV under never" in premium
    assert "Against the rival, the other baseline" in premium
    assert "## Assumptions" in text and "policy lever: 1.1" in text
    assert "## Profit bridge" in text


def test_a_name_used_twice_is_refused(tmp_path: Path) -> None:
    points = [{"name": "a", "market.discovery": 0.8}, {"name": "a", "market.discovery": 0.5}]
    path = write_study(tmp_path, scenarios={"kind": "list", "points": points})
    with pytest.raises(ConfigError, match="the name 'a' is used twice"):
        policy.load(path)


# --------------------------------------------------------------------------- the best setting


def test_the_optimiser_finds_a_planted_optimum_within_its_interval() -> None:
    rng = np.random.default_rng(1)
    x = np.linspace(0.0, 1.0, 11)
    noise = rng.normal(0, 1, (11, 1, 30)) + rng.normal(0, 1, (1, 1, 30))
    y = (-100 * (x - 0.37) ** 2)[:, None, None] + noise
    best, ci, flat, _ = optimize.find_optimum(x[:, None], y)
    assert abs(best[0] - 0.37) < 0.05  # half a grid step
    assert ci[0, 0] <= 0.37 <= ci[0, 1]
    assert flat[4] and not flat[0] and not flat[-1]  # 0.4 is within the noise; the ends not
    grid = np.array([(a, b) for a in x for b in x])
    y2 = -100 * ((grid[:, 0] - 0.37) ** 2 + (grid[:, 1] - 0.62) ** 2)
    best2, _, _, _ = optimize.find_optimum(grid, y2[:, None, None] + rng.normal(0, 1, (121, 1, 30)))
    assert np.allclose(best2, [0.4, 0.6])  # the grid cell nearest the planted optimum


def test_robust_criteria_by_hand() -> None:
    # 2 values x 3 markets x 1 replication
    y = np.array([[[10.0], [0.0], [5.0]], [[6.0], [4.0], [5.0]]])
    assert optimize.criterion_curve(y, "mean").tolist() == [5.0, 5.0]
    assert optimize.criterion_curve(y, "regret").tolist() == [-4.0, -4.0]
    assert optimize.criterion_curve(y, "percentile", 0).tolist() == [0.0, 4.0]


def test_trustsim_optimize_writes_the_optimum(tmp_path: Path) -> None:
    path = write_study(tmp_path, policies=None, baseline_policy=None, scenarios=None,
                       replications=2, outcomes=["npv"],
                       optimize={"levers": {"firms.trust_first.price": [0.9, 1.3]},
                                 "points": 3})  # fmt: skip
    raw = {k: v for k, v in yaml.safe_load(path.read_text()).items() if v is not None}
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    assert main(["optimize", str(path), "--out", str(out), "--backend", "serial"]) == 0
    optimum = pd.read_parquet(out / "optimum.parquet")
    assert optimum["lever"].tolist() == ["firms.trust_first.price"]
    assert 0.9 <= optimum["best"].iloc[0] <= 1.3
    assert optimum["ci_low"].iloc[0] <= optimum["best"].iloc[0] <= optimum["ci_high"].iloc[0]
    text = (out / "report.md").read_text()
    assert "the best firms.trust_first.price is" in text and "within the noise" in text
    assert (out / "response.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("block", "named"),
    [
        ({"levers": {"firms.trust_first.price": [1.3, 0.9]}}, "optimize.levers"),
        ({"levers": {"firms.trust_first.pric": [0.9, 1.3]}}, "optimize.levers"),
        ({"levers": {"firms.trust_first.price": [0.9, 1.3]}, "criterion": "best"},
         "optimize.criterion"),
    ],
)  # fmt: skip
def test_bad_optimize_blocks_exit_2(tmp_path: Path, block: dict[str, Any], named: str) -> None:
    raw = yaml.safe_load(write_study(tmp_path).read_text())
    del raw["policies"], raw["baseline_policy"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**raw, "optimize": block}))
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        policy.load(path)
    assert main(["optimize", str(path), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the API


def test_the_api_people_reach_for() -> None:
    code = "import trustsim; print(trustsim.policy.compare.__name__, trustsim.policy.optimize)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("compare"), done.stderr
    result = trustsim.run(trustsim.load_scenario("baseline", {"population.size": 200}),
                          seed=1, steps=10)  # fmt: skip
    figures = result.plot()
    assert {"retention", "reputation", "profit"} <= set(figures)
    assert all(len(fig.axes[0].lines) >= 2 for fig in figures.values())
