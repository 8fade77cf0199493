"""The policy lab (ODD 8.5): paired contrasts, break-even weeks, scenario discovery, report."""

from __future__ import annotations

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
from conftest import small
from scipy import stats

import trustsim
from trustsim import policy
from trustsim.cli import main
from trustsim.experiment import SerialExecutor
from trustsim.policy import analysis

ROOT = Path(__file__).resolve().parents[1]
CLASSROOM = str(ROOT / "configs" / "classroom.yaml")


def write_study(folder: Path, name: str = "study", **fields: Any) -> Path:
    spec = {
        "scenario": CLASSROOM,
        "steps": 40,
        "replications": 3,
        "seed": 11,
        "baseline_policy": "never",
        "policies": {
            "never": {"firms.trust_first.warn_rate": 0.0},
            "warn": {"firms.trust_first.warn_rate": 0.9},
        },
        "scenarios": {
            "kind": "lhs",
            "n": 4,
            "ranges": {"market.switching_cost": None, "market.review_rate": None},
        },
        **fields,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def compare(path: Path, out: Path) -> policy.PolicyResult:
    return policy.compare(policy.load(path), out=out, executor=SerialExecutor())


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> policy.PolicyResult:
    folder = tmp_path_factory.mktemp("policy")
    return compare(write_study(folder), folder / "out")


def test_every_policy_runs_in_every_scenario_on_the_same_streams(
    study: policy.PolicyResult,
) -> None:
    runs = study.runs.merge(study.experiment.runs[["run_id", "spawn_key"]], on="run_id")
    assert len(runs) == 2 * 5 * 3  # policies x (base + 4 scenarios) x replications
    keys = runs.groupby(["scenario", "replication"])["spawn_key"].nunique()
    assert (keys == 1).all()  # the pairing: one stream per (scenario, replication)


def test_contrasts_recomputed_from_the_raw_runs(study: policy.PolicyResult) -> None:
    ts = study.timeseries().merge(study.runs, on="run_id")
    metric = "reputation"
    wide = ts.pivot_table(index=["scenario", "replication", "firm", "step"], columns="policy",
                          values=metric)  # fmt: skip
    diff = (wide["warn"] - wide["never"]).rename("d").reset_index()
    groups = diff.groupby(["scenario", "firm", "step"])["d"]
    mean, sd, n = groups.mean(), groups.std(), groups.count()
    half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
    table = study.contrasts[study.contrasts.metric == metric].set_index(
        ["scenario", "firm", "step"]
    )
    table = table.loc[mean.index]
    np.testing.assert_allclose(table["mean"], mean, atol=1e-12)
    np.testing.assert_allclose(table["ci_low"], mean - half, atol=1e-9)
    np.testing.assert_allclose(table["ci_high"], mean + half, atol=1e-9)
    assert (table["n"] == 3).all()


def test_breakeven_recomputed_from_the_contrasts(study: policy.PolicyResult) -> None:
    c = study.contrasts
    for row in study.breakeven.itertuples():
        series = c[(c.policy == row.policy) & (c.scenario == row.scenario) & (c.firm == row.firm)
                   & (c.metric == row.metric)].sort_values("step")  # fmt: skip
        above = series["mean"].to_numpy() > 0
        steps = series["step"].to_numpy()
        expected = next((steps[i] for i in range(len(steps)) if above[i:].all()), None)
        if expected is None:
            assert np.isnan(row.week)
        else:
            assert row.week == expected


def test_an_identical_policy_has_zero_contrasts_and_never_breaks_even(tmp_path: Path) -> None:
    path = write_study(tmp_path, policies={"never": {}, "same": {}}, scenarios=None)
    result = compare(path, tmp_path / "out")
    assert (result.contrasts["mean"] == 0).all()
    assert (result.contrasts["ci_low"] == 0).all() and (result.contrasts["ci_high"] == 0).all()
    assert result.breakeven["week"].isna().all()
    assert (result.breakeven["p_pays"] == 0).all()


def test_over_promising_lowers_the_firms_own_reputation_in_every_market(tmp_path: Path) -> None:
    path = write_study(
        tmp_path,
        policies={"honest": {}, "overpromise": {"firms.trust_first.promise": 0.95}},
        baseline_policy="honest",
    )
    result = compare(path, tmp_path / "out")
    c = result.contrasts
    final = c[(c.firm == "trust_first") & (c.metric == "reputation") & (c.step == 40)]
    assert len(final) == 5
    assert (final["mean"] < 0).all()


def test_scenario_discovery_recovers_a_planted_rule() -> None:
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(0, 1, (200, 3)), columns=["a", "b", "noise"])
    pays = (x["a"] > 0.6) & (x["b"] < 0.5)
    rules = analysis.discover(x, pays)
    best = rules[rules.outcome == "pays"]
    best = best[best.box == best.iloc[0]["box"]].set_index("parameter")
    assert set(best.index) == {"a", "b"}
    assert abs(best.loc["a", "low"] - 0.6) < 0.05 and abs(best.loc["b", "high"] - 0.5) < 0.05
    assert best.iloc[0]["density"] == 1.0 and best.iloc[0]["coverage"] == 1.0


def test_backends_agree(study: policy.PolicyResult, tmp_path: Path) -> None:
    from trustsim.experiment import make_executor

    with make_executor("processes", workers=2) as pool:
        again = policy.compare(study.study, out=tmp_path / "p", executor=pool)
    pd.testing.assert_frame_equal(study.contrasts, again.contrasts)
    pd.testing.assert_frame_equal(study.breakeven, again.breakeven)


@pytest.mark.slow
def test_sigkill_then_resume_gives_the_same_tables(tmp_path: Path) -> None:
    path = write_study(tmp_path, steps=60, overrides={"population.size": 2000})
    whole = tmp_path / "whole"
    assert main(["compare", str(path), "--out", str(whole), "--backend", "serial"]) == 0
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "trustsim.cli", "compare", str(path), "--out", str(out),
           "--backend", "serial"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((out / "runs" / "runs").glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "contrasts.parquet").exists()
    assert main(["compare", str(path), "--out", str(out), "--backend", "serial"]) == 0
    for table in ("contrasts", "breakeven", "rules", "scenarios"):
        a, b = (
            pd.read_parquet(whole / f"{table}.parquet"),
            pd.read_parquet(out / f"{table}.parquet"),
        )
        pd.testing.assert_frame_equal(a, b)


def test_the_cli_writes_a_report_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(["compare", str(write_study(tmp_path)), "--out", str(out), "--backend", "serial"]) == 0
    )
    text = (out / "report.md").read_text()
    assert "warn (firms.trust_first.warn_rate = 0.9, against never)" in text
    assert "in the base market" in text and "markets tried" in text
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3  # figures embedded: self-contained
    for name in ("contrasts", "breakeven", "regime_warn"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    for name in ("contrasts", "breakeven", "scenarios", "rules", "runs", "firm_gaps"):
        assert (out / f"{name}.parquet").exists()


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"baseline_policy": "nope"}, "baseline_policy"),
        ({"policies": {"never": {}, "warn": {"firms.trust_first.warn_rat": 0.9}}},
         "policies.warn"),
        ({"policies": {"never": {}, "warn": {"market.switching_cost": 2.0}}},
         "policies.warn.market.switching_cost"),
        ({"outcomes": ["profitt"]}, "outcomes"),
        ({"scenarios": {"kind": "lhs", "n": 4, "ranges": {"market.nope": None}}},
         "scenarios.ranges.market.nope"),
    ],
)  # fmt: skip
def test_bad_study_files_exit_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fields: dict[str, Any], named: str
) -> None:
    out = tmp_path / "out"
    assert main(["compare", str(write_study(tmp_path, **fields)), "--out", str(out)]) == 2
    assert named in capsys.readouterr().err
    assert not out.exists()


def warnings_under(**firm: Any) -> pd.DataFrame:
    overrides = {f"firms.trust_first.{k}": v for k, v in firm.items()}
    scenario = small({**overrides, "firms.trust_first.warn_rate": 1.0}, size=400)
    return trustsim.run(scenario, seed=5, steps=60, panel_every=1).panel


def test_a_trust_threshold_above_everyone_means_no_warnings() -> None:
    assert warnings_under(warn_target="all", warn_min_trust=1.0)["warned"].sum() > 0
    assert warnings_under(warn_target="trusting", warn_min_trust=1.0)["warned"].sum() == 0


def test_tenured_targeting_never_warns_a_newer_customer() -> None:
    panel = warnings_under(warn_target="tenured", warn_min_tenure=20)
    panel = panel.sort_values(["customer", "step"])
    # weeks in a row with the same provider before this one: tenure is this or one more
    same = panel["provider"].eq(panel.groupby("customer")["provider"].shift())
    run = same.astype(int).groupby([panel["customer"], (~same).cumsum()]).cumsum()
    ours = panel["provider"] == "trust_first"
    assert panel.loc[ours & panel["warned"], "step"].size > 0
    assert (run[ours & panel["warned"]] >= 19).all()
    assert (run[ours & panel["exploited"]] < 19).any()  # newer customers had mistakes too


def test_verdicts_count_only_intervals_that_exclude_zero(study: policy.PolicyResult) -> None:
    c, horizon = study.contrasts, study.study.horizon
    final = c[(c.policy == "warn") & (c.firm == "trust_first") & (c.metric == "npv")
              & (c.step == horizon)].set_index("scenario")  # fmt: skip
    verdict = analysis.verdicts(final)
    by_hand = [
        "pays" if lo > 0 else "loses" if hi < 0 else "inconclusive"
        for lo, hi in zip(final["ci_low"], final["ci_high"], strict=True)
    ]
    assert verdict.tolist() == by_hand
    planted = pd.DataFrame({"ci_low": [1.0, -3.0, -1.0, 0.0], "ci_high": [2.0, -1.0, 1.0, 2.0]})
    assert analysis.verdicts(planted).tolist() == ["pays", "loses", "inconclusive", "inconclusive"]
    counts = verdict.value_counts()
    headline = policy.report.headline(study, "warn")
    assert f"it pays in {counts.get('pays', 0)}, loses in {counts.get('loses', 0)}" in headline


def test_breakeven_never_is_censored_not_averaged() -> None:
    # 2 markets never break even, 2 break even in week 100: half of them, week 100
    share, median = analysis.breakeven_summary(pd.Series([np.nan, np.nan, 100.0, 100.0]))
    assert share == 0.5 and median == 100.0
    share, median = analysis.breakeven_summary(pd.Series([np.nan, 153.0]))
    assert share == 0.5 and median == 153.0  # not (153 + "157") / 2
    assert np.isnan(analysis.breakeven_summary(pd.Series([np.nan]))[1])


def test_a_study_loads_from_a_mapping_as_from_its_file(tmp_path: Path) -> None:
    path = write_study(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["scenario"] = str((path.parent / raw["scenario"]).resolve())
    from_file, from_mapping = policy.load(path), policy.load(raw)
    assert from_mapping.name == "study"
    assert from_mapping.policies == from_file.policies
    assert from_mapping.base == from_file.base
    with pytest.raises(TypeError, match="a path, a built-in name or a mapping"):
        policy.load(42)  # type: ignore[arg-type]
