"""Bad input, output safety, loud failure and Mesa habits (each case: exit code, message,
and nothing written or changed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import mesa
import pandas as pd
import pytest
import yaml

from trustsim import experiment as ex
from trustsim.cli import main
from trustsim.config import ConfigError, load_scenario
from trustsim.experiment.runner import ExperimentFailed
from trustsim.model import TrustModel

ROOT = Path(__file__).resolve().parents[1]
CLASSROOM = str(ROOT / "configs" / "classroom.yaml")
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding an earlier run's results."""
    out = tmp_path_factory.mktemp("earlier") / "out"
    assert main(["run", CLASSROOM, "--steps", "3", "--seed", "1", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BOMB, "aliases expand to"),
        ("", "empty"),
        (b"\x00\x9f\x92\x96garbage", "not a text file"),
        ("population:\n  size: 10000000000000\n", "population.size: 10,000,000,000,000 customers"),
        ("firms:\n  - {name: a, warn_rat: 0.5}\n", "firms.a.warn_rat: unknown key; did you mean"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_a_bad_config_exits_2_and_leaves_earlier_results_alone(
    tmp_path: Path, earlier: Path, capsys: pytest.CaptureFixture[str],
    content: str | bytes, message: str,
) -> None:  # fmt: skip
    config = tmp_path / "bad.yaml"
    config.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = snapshot(earlier)
    assert main(["run", str(config), "--out", str(earlier)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") <= 2
    assert snapshot(earlier) == before


def test_an_alias_bomb_is_refused_within_two_seconds(tmp_path: Path) -> None:
    config = tmp_path / "bomb.yaml"
    config.write_text(BOMB)
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases expand to 490,329,064 values"):
        load_scenario(config)
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--steps", "0"], "--steps: must be a whole number >= 1"),
        (["--out", "{file}"], "is a file; give a folder"),
        (["--out", "{sweep}"], "holds an experiment (trustsim sweep or sensitivity)"),
    ],
)
def test_bad_run_flags_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("mine")
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "manifest.json").write_text('{"experiment_hash": "x"}')
    args = [a.format(file=afile, sweep=sweep) for a in args]
    assert exit_code(["run", CLASSROOM, *args]) == 2
    assert message in capsys.readouterr().err
    assert afile.read_text() == "mine"
    assert snapshot(sweep) == {"manifest.json": b'{"experiment_hash": "x"}'}


def exit_code(argv: list[str]) -> int:
    """main's return code, or argparse's exit code for a bad flag."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


def test_a_directory_as_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_set_variants_do_not_overwrite_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for value in ("0.1", "0.9"):
        args = ["run", CLASSROOM, "--steps", "2", "--set", f"firms.trust_first.warn_rate={value}"]
        assert main(args) == 0
    folders = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len(folders) == 2 and all(f.startswith("classroom-") for f in folders)
    assert main(["run", CLASSROOM, "--steps", "2"]) == 0
    assert (tmp_path / "results" / "classroom" / "manifest.json").exists()


def test_files_get_the_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = tmp_path / "out"
        assert main(["run", CLASSROOM, "--steps", "2", "--out", str(out)]) == 0
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
    assert set(modes.values()) == {0o644}, modes


def test_status_and_plot_on_a_run_folder(earlier: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", str(earlier)]) == 0
    assert "a single run of 3 weeks" in capsys.readouterr().out
    assert main(["plot", str(earlier)]) == 0
    assert "wrote 4 figures" in capsys.readouterr().out


def write_experiment(folder: Path, scenario: str, **fields: object) -> Path:
    spec = {
        "scenario": scenario, "steps": 3, "replications": 2, "seed": 1,
        "design": {"kind": "list", "points": [{"market.q_wom": 0.1}, {"market.q_wom": 0.5}]},
        **fields,
    }  # fmt: skip
    path = folder / "exp.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_an_experiments_scenario_is_found_beside_it_and_the_error_lists_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "mine.yaml").write_text(Path(CLASSROOM).read_text())
    studies = tmp_path / "studies"
    studies.mkdir()
    monkeypatch.chdir(ROOT)  # a working directory without that file
    assert ex.load(write_experiment(studies, "../configs/mine.yaml")).base.population.size == 150
    with pytest.raises(ConfigError) as err:
        ex.load(write_experiment(studies, "configs/nope.yaml"))
    assert str(studies / "configs" / "nope.yaml") in str(err.value)
    assert str(ROOT / "configs" / "nope.yaml") in str(err.value)


def test_validate_counts_an_experiments_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_experiment(tmp_path, CLASSROOM)
    assert main(["validate", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 runs of 150 customers x 3 weeks" in out and "estimated time" in out
    assert main(["validate", str(ROOT / "experiments" / "warn_policy.yaml")]) == 0
    assert "1,040 runs" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("trustsim ")


def test_an_experiment_whose_every_run_fails_fails_loudly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # valid for the schema, impossible for the model: the complete network needs N >= 2 ...
    path = write_experiment(
        tmp_path, CLASSROOM, overrides={"network.kind": "karate_club"},
        design={"kind": "list", "points": [{"market.q_wom": 0.1}]},
    )  # fmt: skip
    with pytest.raises(ExperimentFailed, match="every one of the 2 runs failed; the first error"):
        ex.run_experiment(ex.load(path), out=tmp_path / "api", executor=ex.SerialExecutor())
    assert main(["sweep", str(path), "--out", str(tmp_path / "cli"), "--backend", "serial"]) == 1
    assert "every one of the 2 runs failed" in capsys.readouterr().err


def test_ctrl_c_turned_into_an_error_still_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted_then_failed(*args: object, **kwargs: object) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise OSError("write cut short") from None  # a library's clean-up error

    monkeypatch.setattr("trustsim.cli.load_scenario", interrupted_then_failed)
    assert main(["run", CLASSROOM]) == 130
    assert "interrupted" in capsys.readouterr().err
    monkeypatch.setattr("trustsim.cli.load_scenario", lambda *a, **k: 1 / 0)
    assert main(["run", CLASSROOM]) == 1  # a real internal error is still one


@pytest.mark.slow
def test_a_script_without_a_main_guard_is_told_so(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        "from trustsim import experiment\n"
        f"exp = experiment.load({str(write_experiment(tmp_path, CLASSROOM))!r})\n"
        f"experiment.run_experiment(exp, out={str(tmp_path / 'out')!r})\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode != 0
    assert 'if __name__ == "__main__":' in done.stderr


def test_mesa_batch_run_works_as_mesa_users_expect() -> None:
    rows = mesa.batch_run(
        TrustModel,
        parameters={"scenario": CLASSROOM, "market.review_rate": [0.005, 0.05]},
        rng=[1, 2],
        max_steps=4,
        data_collection_period=1,
        display_progress=False,
    )
    table = pd.DataFrame(rows)
    assert len(table) == 2 * 2 * 5  # runs x (steps 0..4)
    assert {"share_trust_first", "npv_short_term", "reputation_trust_first"} <= set(table.columns)
    one = table[(table["market.review_rate"] == 0.05) & (table["seed"] == 1)].sort_values("Step")
    direct = TrustModel(CLASSROOM, seed=1, **{"market.review_rate": 0.05})
    for _ in range(4):
        direct.step()
    expected = direct.datacollector.get_model_vars_dataframe()["share_trust_first"]
    assert one["share_trust_first"].tolist() == pytest.approx(expected.tolist())
    # the collector reads the model's own records: one value per step, none copied twice
    records = [r["share"] for r in direct.firm_records if r["firm"] == "trust_first"]
    assert expected.tolist() == records and len(records) == 5


def sweep_figures(tmp_path: Path, **fields: object) -> list[str]:
    path = write_experiment(tmp_path, CLASSROOM, **fields)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--backend", "serial"]) == 0
    return sorted(p.stem for p in out.glob("*.png"))


def test_a_sampled_design_gets_scatter_plots_not_heatmaps(tmp_path: Path) -> None:
    ranges = {k: None for k in ("market.review_rate", "market.switching_cost",
                                "wom.p_negative", "market.beta_rating")}  # fmt: skip
    names = sweep_figures(tmp_path, design={"kind": "lhs", "n": 6, "ranges": ranges},
                          replications=1)  # fmt: skip
    assert names == ["scatter_cohort_retention", "scatter_npv", "scatter_reputation"]


def test_final_only_outputs_draw_no_empty_time_panels(tmp_path: Path) -> None:
    grid = {"kind": "grid", "parameters": {"market.q_wom": [0.1, 0.5],
                                           "firms.trust_first.warn_rate": [0.0, 0.9]}}  # fmt: skip
    names = sweep_figures(tmp_path, design=grid, outputs={"every": "final"})
    assert names == ["heatmap_cohort_retention", "heatmap_cumulative_profit", "heatmap_reputation"]


def test_a_grid_sweep_draws_profit_and_npv(tmp_path: Path) -> None:
    names = sweep_figures(tmp_path)
    assert {"profit", "npv", "retention", "reputation"} <= set(names)


def test_the_run_profit_figure_marks_the_crossover() -> None:
    from trustsim.figures import profit_figure

    steps = range(10)
    ts = pd.DataFrame(
        [{"step": t, "firm": "a", "cumulative_profit": 10.0 * t} for t in steps]
        + [{"step": t, "firm": "b", "cumulative_profit": 2.0 * t * t} for t in steps]
    )  # b overtakes a for good at week 6 (72 > 60)
    fig = profit_figure(ts)
    marks = [line.get_xdata()[0] for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert marks == [6]
