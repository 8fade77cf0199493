"""Sensitivity analysis: analytic reference values, noise, convergence, and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from trustsim import experiment as ex
from trustsim.experiment.spec import OutputSpec
from trustsim.sensitivity import (
    Problem,
    analyze_function,
    analyze_outputs,
    indices_of,
    noise_parts,
    noise_share,
    output_value,
    report,
    subsample_sizes,
)
from trustsim.sensitivity.convergence import convergence_in_words

ROOT = Path(__file__).resolve().parents[1]
PI = np.pi


def ishigami(params: dict[str, float], seed: int) -> dict[str, float]:
    """Ishigami & Homma (1990), a = 7, b = 0.1, on [-pi, pi]^3."""
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)}


# Analytic indices of the Ishigami function (a = 7, b = 0.1)
ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
CUBE = {"x1": (-PI, PI), "x2": (-PI, PI), "x3": (-PI, PI)}


def test_sobol_recovers_the_ishigami_indices() -> None:
    table = analyze_function(ishigami, CUBE, method="sobol", n=2048, seed=1).set_index("parameter")
    assert list(table.columns[:4]) == ["S1", "ST", "S1_conf", "ST_conf"] or {
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    } <= set(table.columns)
    for name in CUBE:
        assert table.loc[name, "S1"] == pytest.approx(ISHIGAMI_S1[name], abs=0.04)
        assert table.loc[name, "ST"] == pytest.approx(ISHIGAMI_ST[name], abs=0.04)
        assert 0 < table.loc[name, "ST_conf"] < 0.1


def test_second_order_flag_drives_sampling_and_analysis() -> None:
    table = analyze_function(ishigami, CUBE, method="sobol", n=512, seed=2, second_order=True)
    # the x1 x x3 interaction is the only one of the Ishigami function (analytic 0.2437)
    assert "S2" in table.columns
    pairs = table.set_index("parameter")["S2"].dropna()
    assert pairs.idxmax() == "x1 x x3"
    assert pairs["x1 x x3"] == pytest.approx(0.2437, abs=0.1)


def test_sobol_needs_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        analyze_function(ishigami, CUBE, method="sobol", n=300, seed=1)


def linear(params: dict[str, float], seed: int) -> dict[str, float]:
    return {"y": 4 * params["a"] + 1 * params["b"] + 0 * params["c"]}


def test_morris_ranks_a_linear_function_exactly() -> None:
    ranges = {"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}
    table = analyze_function(linear, ranges, method="morris", n=20, seed=3).set_index("parameter")
    # elementary effects of a linear function are its coefficients, with no spread
    assert table.loc["a", "mu_star"] == pytest.approx(4.0)
    assert table.loc["b", "mu_star"] == pytest.approx(1.0)
    assert table.loc["c", "mu_star"] == pytest.approx(0.0)
    assert np.allclose(table["sigma"], 0.0, atol=1e-9)


def test_pawn_ranks_the_factors_and_a_null_one_does_not_clear_the_dummy_column() -> None:
    ranges = {"a": (0.0, 1.0), "b": (0.0, 1.0), "c": (0.0, 1.0)}
    table = analyze_function(linear, ranges, method="pawn", n=400, seed=4, bootstrap=40)
    table = table.set_index("parameter")
    order = table["pawn_median"].sort_values(ascending=False).index.tolist()
    assert order[:2] == ["a", "b"] and set(order[2:]) == {"c", "(dummy)"}
    assert table["pawn_median_conf"].notna().all()  # PAWN gets intervals too
    c, dummy = table.loc["c"], table.loc["(dummy)"]
    assert c.pawn_median - c.pawn_median_conf < dummy.pawn_median + dummy.pawn_median_conf


def noisy(params: dict[str, float], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    return {
        "signal": params["a"] + rng.normal(0, 0.05),
        "noise": 0.01 * params["a"] + rng.normal(0, 1.0),
    }


def test_noise_share_separates_signal_from_noise() -> None:
    ranges = {"a": (0.0, 1.0), "b": (0.0, 1.0)}
    table = analyze_function(noisy, ranges, method="sobol", n=64, seed=5, replications=4)
    share = table.groupby("output")["noise_share"].first()
    # signal: noise 0.05^2 against Var(a) = 1/12, a true share of 0.029; the estimate
    # from 4 replications has 3 degrees of freedom, so allow up to 5 times that
    assert share["signal"] < 0.15
    assert share["noise"] > 0.9
    assert noise_share(np.ones((5, 1))) != noise_share(np.ones((5, 1)))  # NaN: one replication


def test_noise_splits_into_the_seeds_main_effect_and_its_interaction() -> None:
    # y = x + a s + b x s with x, s independent N(0, 1): shares 1 : a^2 : b^2 of the variance
    rng = np.random.default_rng(11)
    x, s = rng.normal(size=(400, 1)), rng.normal(size=(1, 400))
    a, b = 1.0, 0.5
    seed, interaction = noise_parts(x + a * s + b * x * s)
    total = 1 + a**2 + b**2
    assert seed == pytest.approx(a**2 / total, abs=0.05)
    assert interaction == pytest.approx(b**2 / total, abs=0.03)
    # no interaction: the seed only shifts every point alike
    assert noise_parts(x + a * s)[1] == pytest.approx(0.0, abs=1e-12)
    # the parts add up to the noise share, at any number of replications
    few = x[:50] + a * s[:, :3] + b * x[:50] * s[:, :3]
    assert sum(noise_parts(few)) == pytest.approx(noise_share(few))
    pure_noise = np.tile([[0.0, 1.0], [1.0, 0.0]], (15, 1))  # equal point means: over 1, clipped
    assert sum(noise_parts(pure_noise)) == pytest.approx(noise_share(pure_noise)) == 1.0


def test_a_seed_that_shifts_every_point_alike_is_no_warning() -> None:
    # `noisy` draws its noise from the seed alone, the same at every point (common random
    # numbers): all of it is the seed's main effect, which cancels from the indices
    ranges = {"a": (0.0, 1.0), "b": (0.0, 1.0)}
    table = analyze_function(noisy, ranges, method="sobol", n=64, seed=5, replications=4)
    parts = table.groupby("output")[["seed_share", "interaction_share"]].first()
    assert parts.loc["noise", "seed_share"] > 0.9
    assert parts.loc["noise", "interaction_share"] < 1e-9


SLOPES = np.array([1.0, 0.6, 0.3, 0.0])
"""An additive test function whose slopes the seed moves: y = sum((a_i + 0.25 g_i) x_i),
g ~ N(0, 1) per seed, x ~ U(0, 1). The mean function's indices are a_i^2 / sum(a^2)."""


def test_intervals_cover_the_true_indices_when_the_seed_moves_the_slopes() -> None:
    # each replication's seed changes the slopes at every point alike, a seed x parameter
    # interaction that resampling design points cannot see (ODD 8.8)
    problem = Problem(list("abcd"), [(0.0, 1.0)] * 4, "sobol")
    true = SLOPES**2 / (SLOPES**2).sum()
    covered: dict[str, list[np.ndarray]] = {"conf": [], "conf_points": []}
    for study in range(40):
        rng = np.random.default_rng(study)
        x = problem.sample(64, rng)
        slopes = SLOPES + 0.25 * rng.normal(size=(4, 4))  # (replications, factors)
        table = indices_of(problem, x, x @ slopes.T, bootstrap=60, conf_level=0.95, seed=study)
        st = table[table["index"] == "ST"].set_index("factor").loc[list("abcd")]
        for kind, hits in covered.items():
            low, high = st["value"] - st[kind], st["value"] + st[kind]
            hits.append(((low <= true) & (true <= high)).to_numpy())
    rate = {kind: float(np.mean(hits)) for kind, hits in covered.items()}
    assert rate["conf"] >= 0.88  # nominal 0.95; 160 intervals
    assert rate["conf_points"] < 0.7  # SALib's point bootstrap alone misses the seeds
    assert np.mean(covered["conf"], axis=0)[3] >= 0.85  # the null factor's interval reaches 0


def test_the_dummy_measures_the_noise_floor_and_screens_out_a_null_factor() -> None:
    # y = 4a + b + white noise of sd 0.5 at every point and seed, R = 4 replications: a
    # factor that only re-draws the random numbers gets ST = (s2 / R) / Var(mean), and
    # Morris mu* = sqrt(2 s2 / R) sqrt(2 / pi) / delta
    sigma, reps = 0.5, 4
    floor = sigma**2 / reps / (17 / 12 + sigma**2 / reps)
    sobol, morris = (Problem(list("abc"), [(0.0, 1.0)] * 3, m) for m in ("sobol", "morris"))
    found = []
    for study in range(12):
        rng = np.random.default_rng(study)
        row: dict[str, Any] = {}
        for problem, n in ((sobol, 256), (morris, 60)):
            x = problem.sample(n, rng)
            values = 4 * x[:, :1] + x[:, 1:2] + sigma * rng.normal(size=(len(x), reps))
            table = indices_of(problem, x, values, bootstrap=60, conf_level=0.95, seed=study)
            row |= {(problem.method, f, i): r for f, i, r in zip(
                table["factor"], table["index"], table.itertuples(), strict=True)}  # fmt: skip
        found.append(row)
    dummy_st = np.array([r["sobol", "(dummy)", "ST"].value for r in found])
    assert dummy_st.mean() == pytest.approx(floor, rel=0.1)
    assert np.mean([abs(r["sobol", "(dummy)", "S1"].value) <= r["sobol", "(dummy)", "S1"].conf
                    for r in found]) >= 0.75  # fmt: skip
    mu_star = np.array([r["morris", "(dummy)", "mu_star"].value for r in found])
    assert mu_star.mean() == pytest.approx(np.sqrt(sigma**2 / reps * 4 / np.pi) / (2 / 3), rel=0.2)
    for method, index in (("sobol", "ST"), ("morris", "mu_star")):
        # the null factor picks up the noise (its ST clears zero), never the dummy
        assert all(r[method, "c", index].flag for r in found)
        assert all(r[method, "a", index].flag == "" for r in found)
    assert sum(r["sobol", "c", "ST"].value - r["sobol", "c", "ST"].conf > 0 for r in found) >= 6


def test_feature_scores_rank_a_linear_function_and_need_ema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trustsim.config import ConfigError
    from trustsim.sensitivity.crosscheck import feature_scores

    problem = Problem(list("abc"), [(0.0, 1.0)] * 3, "sobol")
    x = problem.sample(128, np.random.default_rng(1))
    scores = feature_scores(problem, x, {"y": 4 * x[:, :1] + x[:, 1:2]}, seed=3)
    assert scores.sort_values("value")["factor"].tolist() == ["c", "b", "a"]
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis.feature_scoring", None)
    with pytest.raises(ConfigError, match=r"trustsim\[ema\]"):
        feature_scores(problem, x, {"y": x[:, :1]}, seed=3)


def test_convergence_subsamples_and_flags_a_dummy() -> None:
    problem = Problem(["a", "b", "dummy"], [(0.0, 1.0)] * 3, "sobol")
    x = problem.sample(128, np.random.default_rng(6))
    y = {"y": (3 * x[:, 0] + x[:, 1] ** 2)[:, None]}
    table = analyze_outputs(problem, x, y, bootstrap=100, seed=6)
    assert sorted(table["n"].unique()) == subsample_sizes(128) == [8, 16, 32, 64, 128]
    final = table[(table["n"] == 128) & (table["index"] == "ST")].set_index("factor")
    assert final.loc["dummy", "flag"] in ("negative", "includes zero")
    assert final.loc["a", "flag"] == ""
    # the estimate settles: ST of `a` moves less between the last two sizes than the first two
    st_a = table[(table["factor"] == "a") & (table["index"] == "ST")].set_index("n")["value"]
    assert abs(st_a[128] - st_a[64]) < abs(st_a[16] - st_a[8]) + 0.05


def test_output_values_final_mean_difference_and_censored_overtake() -> None:
    steps = np.arange(5)
    ts = pd.DataFrame(
        {
            "step": np.repeat(steps, 2),
            "firm": ["a", "b"] * 5,
            "cumulative_profit": np.ravel(np.column_stack([[0, 5, 6, 7, 8], [0, 2, 7, 9, 12]])),
        }
    )

    def spec(**kw: Any) -> OutputSpec:
        return OutputSpec(name="o", metric="cumulative_profit", **kw)

    assert output_value(ts, spec(firm="b"), 4) == 12
    assert output_value(ts, spec(firm="b", over="mean"), 4) == pytest.approx(6.0)
    assert output_value(ts, spec(firm="b", minus="a"), 4) == 4
    assert output_value(ts, spec(firm="b", minus="a", overtake=True), 4) == 2
    # a never overtakes b: censored at horizon + 1
    assert output_value(ts, spec(firm="a", minus="b", overtake=True), 4) == 5


def sensitivity_file(folder: Path, **fields: Any) -> Path:
    spec = {
        "scenario": str(ROOT / "configs" / "classroom.yaml"),
        "steps": 15,
        "replications": 2,
        "seed": 9,
        "design": {
            "kind": "sobol",
            "n": 8,
            "ranges": {
                "firms.trust_first.warn_rate": None,
                "firms.short_term.promise": [0.7, 0.95],
                "market.beta_proof": None,
            },
        },
        "outputs": {"metrics": ["reputation", "cumulative_profit"]},
        "analysis": {
            "outputs": [
                {"name": "reputation_tf", "metric": "reputation", "firm": "trust_first"},
                {
                    "name": "overtake",
                    "metric": "cumulative_profit",
                    "firm": "trust_first",
                    "minus": "short_term",
                    "overtake": True,
                },
            ]
        },
        **fields,
    }
    path = folder / "sens.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def sensitivity_cli(path: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``trustsim sensitivity PATH --out OUT ...`` in a fresh process."""
    command = [sys.executable, "-m", "trustsim.cli", "sensitivity", str(path), "--out", str(out)]
    return subprocess.run([*command, *extra], capture_output=True, text=True, check=False, cwd=ROOT)


@pytest.mark.slow
def test_sensitivity_cli_writes_tables_figures_report_and_resumes(tmp_path: Path) -> None:
    path, out = sensitivity_file(tmp_path), tmp_path / "out"
    spec = yaml.safe_load(path.read_text())
    spec["analysis"]["feature_scoring"] = True  # EMA's cross-check beside the indices
    path.write_text(yaml.safe_dump(spec))
    first = sensitivity_cli(path, out, "--backend", "processes", "--workers", "2")
    assert first.returncode == 0, first.stderr
    for name in (
        "sensitivity.parquet",
        "outputs.parquet",
        "report.md",
        "indices.png",
        "indices.svg",
        "convergence.png",
        "runs.parquet",
    ):
        assert (out / name).exists(), name
    table = pd.read_parquet(out / "sensitivity.parquet")
    # the SALib-style wide table at the final n, as CSV and Parquet, agrees with the tidy one
    wide = pd.read_csv(out / "indices_wide.csv")
    pd.testing.assert_frame_equal(wide, pd.read_parquet(out / "indices_wide.parquet"))
    assert {"output", "parameter", "S1", "S1_conf", "ST", "ST_conf"} <= set(wide.columns)
    scored = wide[(wide["output"] == "reputation_tf") & (wide["parameter"] != "(dummy)")]
    assert scored["feature_score"].notna().all()
    assert "Cross-check, EMA Workbench's extra-trees feature scores" in first.stdout
    final = table[(table.n == table.n.max()) & (table["index"] == "ST")]
    tidy = final.set_index(["output", "factor"])["value"]
    assert np.allclose(wide.set_index(["output", "parameter"])["ST"].loc[tidy.index], tidy)
    assert {
        "output",
        "method",
        "factor",
        "index",
        "value",
        "conf",
        "n",
        "flag",
        "noise_share",
    } <= set(table.columns)
    assert len(pd.read_parquet(out / "runs.parquet")) == 8 * 5 * 2
    assert "Replication noise" in first.stdout and "The dummy's ST is" in first.stdout
    assert "matters most" in first.stdout or "No factor is clearly influential" in first.stdout
    # a second call resumes: nothing to run, the same indices
    again = sensitivity_cli(path, out, "--backend", "serial")
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(table, pd.read_parquet(out / "sensitivity.parquet"))


def test_changing_only_the_analysis_reuses_the_runs(tmp_path: Path) -> None:
    path = sensitivity_file(tmp_path)
    spec = yaml.safe_load(path.read_text())
    before = ex.load(path).identity()
    spec["analysis"] |= {"bootstrap": 50, "feature_scoring": True}
    path.write_text(yaml.safe_dump(spec))
    assert ex.load(path).identity() == before
    spec["design"]["n"] = 16  # other runs: another identity
    path.write_text(yaml.safe_dump(spec))
    assert ex.load(path).identity() != before


def test_sensitivity_results_do_not_depend_on_the_backend(tmp_path: Path) -> None:
    from trustsim.sensitivity import run_sensitivity

    experiment = ex.load(sensitivity_file(tmp_path, steps=8))
    tables = []
    for backend in ("serial", "processes"):
        with ex.make_executor(backend, workers=2) as pool:
            tables.append(run_sensitivity(experiment, out=tmp_path / backend, executor=pool))
    pd.testing.assert_frame_equal(tables[0], tables[1])


@pytest.mark.parametrize(
    ("design", "message"),
    [
        (
            {"kind": "sobol", "n": 300, "ranges": {"market.risk": None, "market.q_wom": None}},
            "design.n: Sobol sampling needs a power of two, e.g. 256 or 512 (got 300)",
        ),
        (
            {
                "kind": "morris",
                "n": 8,
                "second_order": True,
                "ranges": {"market.risk": None, "market.q_wom": None},
            },
            "only for kind sobol",
        ),
        (
            {"kind": "sobol", "n": 8, "ranges": {"market.risk": None, "market.nope": None}},
            "market.nope",
        ),
    ],
)
def test_bad_sensitivity_files_exit_2(tmp_path: Path, design: dict[str, Any], message: str) -> None:
    path = sensitivity_file(tmp_path, design=design)
    result = sensitivity_cli(path, tmp_path / "out")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def synthetic_indices(
    values: dict[str, tuple[float, float, bool]], noise: float, interaction: float = 0.0
) -> pd.DataFrame:
    """A Sobol ST table at n = 8 and 16 (the ranking reversed at 8) for one output;
    ``noise`` is the replication noise share, ``interaction`` the seed x parameter part."""
    rows = []
    for n, order in ((8, -1), (16, 1)):
        for factor, (value, conf, flag) in values.items():
            rows.append({"output": "y", "factor": factor, "index": "ST", "n": n,
                         "value": value * (1 if order > 0 else 1 / (1 + value)),
                         "conf": conf, "flag": flag, "noise_share": noise,
                         "seed_share": noise - interaction,
                         "interaction_share": interaction})  # fmt: skip
    return pd.DataFrame(rows)


def fake_experiment(replications: int) -> SimpleNamespace:
    return SimpleNamespace(
        name="t", design=SimpleNamespace(kind="sobol"), replications=replications,
        horizon=52, analysis=SimpleNamespace(conf_level=0.95), common_random_numbers=True,
    )  # fmt: skip


def test_the_report_never_calls_a_factor_whose_interval_includes_zero_the_most_important() -> None:
    indices = synthetic_indices({"a": (4.06, 8.5, True), "b": (0.3, 0.5, True)}, np.nan)
    text = report(indices, fake_experiment(1), {})
    assert "matters most" not in text
    assert "No factor is clearly influential" in text
    assert "n = 16 is too small" in text and "above 1" in text
    assert "Replication noise was not measured" in text


def test_the_report_ranks_clear_factors_and_speaks_of_convergence() -> None:
    indices = synthetic_indices({"a": (0.6, 0.05, False), "b": (0.2, 0.3, True)}, 0.1)
    text = report(indices, fake_experiment(3), {})
    assert "`a` matters most" in text
    # b's interval (0.3) is wider than b's index (0.2): that index is flagged, a's is not
    assert "the interval is wider than the index itself for `b`)" in text
    narrow = report(synthetic_indices({"a": (0.6, 0.05, False)}, 0.1), fake_experiment(3), {})
    assert "too small" not in narrow
    assert "Replication noise is 10%" in text and "Warning: the interaction" not in text
    # the same noise, mostly seed x parameter interaction: now it is worth a warning
    noisy_text = report(
        synthetic_indices({"a": (0.6, 0.05, False)}, 0.5, 0.3), fake_experiment(3), {}
    )
    assert "20% is the seed's main effect" in noisy_text
    assert "Warning: the interaction is large" in noisy_text
    assert "Convergence between n = 8 and n = 16: screening has converged" in text


def test_a_first_order_index_above_the_total_beyond_both_intervals_is_flagged() -> None:
    indices = synthetic_indices({"a": (0.6, 0.05, False), "b": (0.2, 0.02, False)}, 0.1)
    final = indices[indices["n"] == 16]
    s1 = final.assign(index="S1")
    s1.loc[s1.factor == "a", "value"] = 0.5  # below a's ST: fine
    s1.loc[s1.factor == "b", "value"] = 0.3  # 0.3 - 0.02 > 0.2 + 0.02: impossible
    text = report(pd.concat([indices, s1]), fake_experiment(3), {})
    assert "S1 exceeds ST beyond their intervals for `b`**" in text
    s1.loc[s1.factor == "b", "value"] = 0.23  # within the intervals: not flagged
    assert "S1 exceeds ST" not in report(pd.concat([indices, s1]), fake_experiment(3), {})


def test_convergence_has_a_screening_a_ranking_and_an_index_verdict() -> None:
    wide = synthetic_indices({"a": (0.6, 0.05, False), "b": (0.2, 0.3, True)}, 0.1)
    text = convergence_in_words(wide, "y", "ST")
    assert "screening has converged" in text and "ranking of those factors is the same" in text
    assert "indices have not converged" in text and "50% of the largest index" in text
    narrow = synthetic_indices({"a": (0.6, 0.01, False), "b": (0.3, 0.02, False)}, 0.1)
    assert "the indices have converged" in convergence_in_words(narrow, "y", "ST")
    # b clears zero only at the larger sample: screening has not converged yet
    moved = narrow.copy()
    moved.loc[(moved.n == 8) & (moved.factor == "b"), "flag"] = True
    assert "screening has not converged" in convergence_in_words(moved, "y", "ST")


def test_near_zero_factors_trading_places_do_not_unsettle_the_ranking() -> None:
    # a and b are influential and keep their order; c and d (below the dummy) swap
    factors = {"a": (0.6, 0.01, False), "b": (0.3, 0.02, False)}
    factors |= {"c": (0.011, 0.01, True), "d": (0.010, 0.01, True)}
    table = synthetic_indices(factors, 0.1)
    table.loc[(table.n == 8) & (table.factor == "d"), "value"] = 0.02
    table["flag"] = table["flag"].map({True: "not above the dummy", False: ""})
    before = table[table.n == 8].sort_values("value")["factor"].tolist()
    after = table[table.n == 16].sort_values("value")["factor"].tolist()
    assert before[:2] != after[:2]  # the full ranking did change
    text = convergence_in_words(table, "y", "ST")
    assert "screening has converged" in text and "ranking of those factors is the same" in text
    swapped = table.copy()  # now the top two trade places: that is a change of ranking
    swapped.loc[(swapped.n == 16) & (swapped.factor == "b"), "value"] = 0.7
    assert "ranking of those factors changed" in convergence_in_words(swapped, "y", "ST")


def test_the_morris_figure_shows_intervals_reference_lines_and_every_factor() -> None:
    from matplotlib.container import ErrorbarContainer

    from trustsim.plots import SIGMA_RATIOS, morris_figure

    table = analyze_function(linear, {"a": (0, 1), "b": (0, 1), "c": (0, 1)}, method="morris",
                             n=20, seed=3)  # fmt: skip
    indices = table.melt(id_vars=["output", "parameter"], value_vars=["mu_star", "mu", "sigma"],
                         var_name="index").rename(columns={"parameter": "factor"})  # fmt: skip
    conf = table.set_index("parameter")["mu_star_conf"]
    indices["conf"] = indices["factor"].map(conf).where(indices["index"] == "mu_star")
    indices["n"] = 20
    ax = morris_figure(indices).axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3 and all(c.has_xerr for c in bars)
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["a", "b", "c"]
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(dotted) == len(SIGMA_RATIOS)


def test_a_censored_output_is_a_probability_plus_the_week_where_it_happens() -> None:
    from trustsim.experiment.salib import Problem
    from trustsim.sensitivity.outputs import split_censored, week_if_it_happens

    problem = Problem(["a", "b"], [(0.0, 1.0), (0.0, 1.0)], "sobol")
    x = problem.sample(64, np.random.default_rng(2))
    horizon = 52
    # a decides whether it happens at all, b when: never where a > 0.5, else week 10 + 40 b
    week = np.where(x[:, 0] > 0.5, horizon + 1, 10 + 40 * x[:, 1])[:, None].repeat(2, axis=1)
    experiment = SimpleNamespace(
        horizon=horizon, design=SimpleNamespace(kind="sobol"),
        analysis=SimpleNamespace(outputs=[SimpleNamespace(name="overtake", overtake=True)]),
    )  # fmt: skip
    analysed, weeks = split_censored({"overtake": week}, experiment)  # type: ignore[arg-type]
    assert set(analysed) == {"overtake_happens"} and set(weeks) == {"overtake"}
    assert set(np.unique(analysed["overtake_happens"])) == {0.0, 1.0}
    conditional = week_if_it_happens(problem, x, weeks, horizon, 64)
    median = conditional[conditional["index"] == "pawn_median"].set_index("factor")["value"]
    assert median["b"] > 3 * median["a"]  # among the runs where it happens, b sets the week
    assert (conditional["runs"] == 2 * int((x[:, 0] <= 0.5).sum())).all()
    # whether it happens is a's alone: Sobol on the indicator says so
    table = analyze_outputs(problem, x, analysed)
    st = table[(table["index"] == "ST") & (table.n == 64)].set_index("factor")["value"]
    assert st["a"] > 0.8 and st["b"] < 0.05
    indices = table.assign(method="sobol")
    text = report(pd.concat([indices, conditional.assign(method="pawn")]),
                  fake_experiment(2), {"overtake": 0.5})  # fmt: skip
    assert "`overtake` never happened in 50% of runs" in text
    assert "the week depends on, by PAWN median" in text and "`b` (" in text
