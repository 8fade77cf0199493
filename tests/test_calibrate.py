"""Fitting to a market's data (ODD 8.6): the statistics, bad fit files, recovery of a
known parameter, resuming after a kill, and the calibrated scenario end to end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from trustsim import calibrate, facts
from trustsim.calibrate.statistics import STATISTICS, Simulated, Target
from trustsim.cli import main
from trustsim.config import Scenario

ROOT = Path(__file__).resolve().parents[1]
TRUTH = {"market.review_rate": 0.04}


def fit_file(folder: Path, **fields: Any) -> Path:
    spec: dict[str, Any] = {
        "scenario": str(ROOT / "configs" / "baseline.yaml"),
        "overrides": {"population.size": 200},
        "steps": 52,
        "parameters": {"market.review_rate": {}},
        "targets": [
            {"statistic": "reconsider", "firm": "all", "week": 52, "value": 2.0, "se": 0.1},
            {"statistic": "cohort_retention", "firm": "trust_first", "week": 52,
             "value": 0.8, "se": 0.03},
        ],
        "method": {"population": 20, "generations": 3, "seed": 3},
        **fields,
    }  # fmt: skip
    path = folder / "fit.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_statistics_by_hand() -> None:
    # two firms, one replication, steps 0..3
    rows = []
    customers = {"a": [10, 9, 8, 8], "b": [5, 6, 7, 7]}
    churns = {"a": [0, 2, 1, 0], "b": [0, 0, 1, 1]}
    searches = {"a": [0, 4, 2, 2], "b": [0, 1, 1, 2]}
    for step in range(4):
        for firm in ("a", "b"):
            rows.append(
                {
                    "replication": 0,
                    "step": step,
                    "firm": firm,
                    "customers": customers[firm][step],
                    "churns": churns[firm][step],
                    "searches": searches[firm][step],
                    "nps": 10.0 if firm == "a" else -20.0,
                    **{f"stars_{k}": float(k == 5) * 3 + float(k == 1) for k in range(1, 6)},
                }
            )
    sim = Simulated(Scenario(), {"scenario": pd.DataFrame(rows)})
    churn = STATISTICS["churn"].compute(sim, Target("a", week=3, window=2))
    assert churn == pytest.approx((1 + 0) / 9)  # weeks 2-3 over customers at week 1
    pooled = STATISTICS["churn"].compute(sim, Target("all", week=3, window=3))
    assert pooled == pytest.approx((2 + 1 + 0 + 0 + 1 + 1) / 15)  # weeks 1-3, from week 0
    nps = STATISTICS["market_nps"].compute(sim, Target(week=3))
    assert nps == pytest.approx((8 * 10 + 7 * -20) / 15)  # weighted by customers
    # a year ending at week 3 covers weeks 1-3 here (earlier weeks do not exist)
    reconsider = STATISTICS["reconsider"].compute(sim, Target("all", week=3))
    assert reconsider == pytest.approx((5 + 3 + 4) / np.mean([15, 15, 15]))
    moved = STATISTICS["switch_given_reconsider"].compute(sim, Target("b", week=3))
    assert moved == pytest.approx(2 / 4)
    assert STATISTICS["star_share_5"].compute(sim, Target("a", week=3)) == pytest.approx(3 / 4)


@pytest.mark.parametrize("name", ["nps_leader", "price_elasticity", "churn_warned"])
def test_a_fact_statistic_is_the_facts_own_function(name: str) -> None:
    # the statistic's runs include the variants the fact needs (price rise, warnings)
    scenario = Scenario().with_overrides({"population.size": 300})
    targets = [calibrate.TargetSpec(statistic=name, value=0.0, se=1.0)]
    variants = calibrate.variants_of(targets)
    assert set(variants) == {"scenario", *facts.FACT_VARIANTS.get(name, ((), False))[0]}
    sim = calibrate.simulate(scenario, {}, 52, seed=4, replications=2, variants=variants)
    fact = next(f for f in facts.FACTS if f.name == name)
    values, _ = fact.compute(sim)  # type: ignore[arg-type]
    assert np.isfinite(values).all()
    assert STATISTICS[name].compute(sim, Target()) == pytest.approx(np.nanmean(values))
    assert name in calibrate.listing() and "churn" in calibrate.listing()
    assert not any(m in calibrate.listing() for m in ("bass_limit", "proof_gini"))


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"targets": [{"statistic": "cohort_retension", "firm": "trust_first", "week": 52,
                       "value": 0.8, "se": 0.1}]}, "did you mean 'cohort_retention'"),
        ({"targets": [{"statistic": "nps", "firm": "nobody", "week": 52, "value": 1,
                       "se": 1}]}, "targets.0.firm"),
        ({"targets": [{"statistic": "nps", "firm": "trust_first", "week": 52, "value": 1,
                       "se": 0}]}, "targets.0.se"),
        ({"targets": [{"statistic": "nps", "firm": "trust_first", "week": 99, "value": 1,
                       "se": 1}]}, "targets.0.week"),
        ({"parameters": {"market.temperature": {}}}, "market.temperature"),
        ({"parameters": {"market.review_rat": {}}}, "did you mean 'market.review_rate'"),
        ({"parameters": {"market.review_rate": {"low": -1, "high": 0.1}}},
         "parameters.market.review_rate"),
    ],
)  # fmt: skip
def test_bad_fit_files_exit_2_naming_the_key(
    tmp_path: Path, change: dict[str, Any], key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["calibrate", str(fit_file(tmp_path, **change)), "--out", str(out)]) == 2
    assert key in capsys.readouterr().err
    assert not out.exists()


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> calibrate.FitResult:
    folder = tmp_path_factory.mktemp("fit")
    path = fit_file(folder)
    data = calibrate.observe(path, truth=TRUTH, seed=11, replications=6)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["targets"] = data.drop(columns="window").to_dict("records")
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return calibrate.fit(path, out=folder / "out")


def test_a_fit_recovers_a_known_parameter(recovered: calibrate.FitResult) -> None:
    row = recovered.summary.set_index("parameter").loc["market.review_rate"]
    assert row["low_90"] <= TRUTH["market.review_rate"] <= row["high_90"]
    assert row["width_ratio"] < 0.5 and bool(row["identified"])
    posterior = recovered.posterior
    assert set(posterior.columns) == {"market.review_rate", "weight", "generation"}
    assert sorted(posterior["generation"].unique()) == [0, 1, 2]
    final = recovered.final()
    assert final["weight"].sum() == pytest.approx(1.0)
    assert (recovered.epsilons["epsilon"].diff().dropna() < 0).all()  # thresholds fall


def test_a_fit_records_what_made_it(recovered: calibrate.FitResult) -> None:
    from trustsim.io import folder_kind

    manifest = json.loads((recovered.folder / "manifest.json").read_text())
    assert {"pyabc", "SALib", "numpy", "trustsim"} <= set(manifest["versions"])
    assert manifest["fit"]["parameters"].keys() == {"market.review_rate"}
    assert {"git_commit", "uncommitted_changes"} <= set(manifest)
    assert folder_kind(recovered.folder) == "fit"  # the manifest does not make it a run


def test_the_calibrated_scenario_runs(recovered: calibrate.FitResult, tmp_path: Path) -> None:
    calibrated = recovered.folder / "calibrated.yaml"
    median = recovered.summary.set_index("parameter").loc["market.review_rate", "median"]
    loaded = yaml.safe_load(calibrated.read_text(encoding="utf-8"))
    assert loaded["market"]["review_rate"] == pytest.approx(median)
    out = tmp_path / "run"
    assert main(["run", str(calibrated), "--steps", "3", "--seed", "1", "--out", str(out)]) == 0
    assert (out / "timeseries.parquet").exists()
    text = (recovered.folder / "report.md").read_text(encoding="utf-8")
    assert "These targets identify market.review_rate." in text
    for figure in ("marginals", "pairs", "predictive", "epsilon"):
        assert (recovered.folder / f"{figure}.png").stat().st_size > 10_000


def test_a_killed_fit_resumes_to_the_same_posterior(tmp_path: Path) -> None:
    path = fit_file(tmp_path, method={"population": 10, "generations": 3, "seed": 5})
    command = [sys.executable, "-m", "trustsim.cli", "calibrate", str(path), "--backend", "serial"]
    whole = calibrate.fit(path, out=tmp_path / "whole")
    broken = tmp_path / "broken"
    process = subprocess.Popen([*command, "--out", str(broken)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and calibrate._generations_done(broken / "history.db") < 1:
        time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 1 <= calibrate._generations_done(broken / "history.db") < 3  # killed mid-fit
    done = subprocess.run([*command, "--out", str(broken)], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    resumed = pd.read_parquet(broken / "posterior.parquet")
    pd.testing.assert_frame_equal(resumed, whole.posterior, check_exact=False, rtol=1e-12)


def test_a_policy_study_draws_its_markets_from_a_posterior(tmp_path: Path) -> None:
    from trustsim import policy
    from trustsim.experiment import SerialExecutor
    from trustsim.policy.report import write_report

    fit = tmp_path / "fit"
    fit.mkdir()
    particles = pd.DataFrame({
        "market.review_rate": [0.005, 0.02, 0.08, 0.5], "weight": [0.4, 0.3, 0.3, 1.0],
        "generation": [1, 1, 1, 0],  # the last generation is the posterior
    })  # fmt: skip
    particles.to_parquet(fit / "posterior.parquet")
    study_file = tmp_path / "study.yaml"
    study_file.write_text(yaml.safe_dump({
        "scenario": str(ROOT / "configs" / "classroom.yaml"), "steps": 30, "replications": 2,
        "seed": 3, "baseline_policy": "never",
        "policies": {"never": {"firms.trust_first.warn_rate": 0.0},
                     "warn": {"firms.trust_first.warn_rate": 0.9}},
        "scenarios": {"kind": "posterior", "from": "fit", "n": 6},
    }), encoding="utf-8")  # fmt: skip
    study = policy.load(study_file)
    result = policy.compare(study, out=tmp_path / "out", executor=SerialExecutor())
    drawn = result.scenarios.set_index("scenario")["market.review_rate"].drop("base")
    assert len(drawn) == 6 and set(drawn) <= {0.005, 0.02, 0.08}  # never the old generation
    text = write_report(result)
    gain = policy.final_gain(study, result.contrasts, "warn").drop("base")
    assert (
        f"the posterior probability that it pays (a mean NPV gain at week 30 above 0) is "
        f"{(gain > 0).mean():.0%}" in text
    )
    assert f"its expected gain is {gain.mean():+,.0f}" in text


def test_targets_from_raw_data_agree_with_observe(tmp_path: Path) -> None:
    from trustsim.calibrate import data

    assert main(["targets", "--example", str(tmp_path / "raw")]) == 0
    out = tmp_path / "targets.yaml"
    raw = tmp_path / "raw"
    code = main(["targets", "--customers", str(raw / "customers.csv"), "--surveys",
                 str(raw / "surveys.csv"), "--reviews", str(raw / "reviews.csv"),
                 "--weeks", "26,52", "--out", str(out)])  # fmt: skip
    assert code == 0
    found = yaml.safe_load(out.read_text(encoding="utf-8"))
    kept = [t for t in found if t["statistic"] in ("cohort_retention", "nps") and t["week"] == 52]
    assert len(kept) == 4  # two firms, retention and NPS
    path = fit_file(tmp_path, overrides={"population.size": 1000}, targets="targets.yaml")
    spec = calibrate.load(path)  # a fit file can name the targets file
    assert len(spec.targets) == len(found)
    simulated = calibrate.observe(
        fit_file(tmp_path, overrides={"population.size": 1000}, targets=kept),
        truth={}, seed=9, replications=6,
    )  # fmt: skip
    for target, row in zip(kept, simulated.to_dict("records"), strict=True):
        gap = abs(target["value"] - row["value"])
        assert gap <= 3 * np.hypot(target["se"], row["se"]), (target, row)
    with pytest.raises(Exception, match="missing column"):
        (raw / "bad.csv").write_text("firm,begin\nx,1\n", encoding="utf-8")
        data.read_table(raw / "bad.csv", "customers")
