"""The package as a newcomer meets it: help that never crashes, built-in scenarios by
name, entry points that take what users pass, and the wheel in an empty folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

import trustsim
from trustsim import builtin, experiment, policy
from trustsim.cli import build_parser, main
from trustsim.config import ConfigError, Scenario

ROOT = Path(__file__).resolve().parents[1]


def commands() -> list[str]:
    """Every subcommand of the ``trustsim`` program."""
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)  # type: ignore[arg-type]


def test_the_program_has_the_commands_the_readme_lists() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in commands():
        assert f"trustsim {command}" in readme, command


@pytest.mark.parametrize("command", [None, *commands()])
def test_help_never_crashes(command: str | None) -> None:
    args = ["-h"] if command is None else [command, "-h"]
    done = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: trustsim") and not done.stderr


# ------------------------------------------------------------------ built-ins and inputs


def test_builtin_names_are_the_repositorys_files() -> None:
    # the repository's configs/ and experiments/ point at the package data: one copy
    for kind, folder in (("scenario", "configs"), ("experiment", "experiments")):
        names = builtin.names(kind)
        assert names
        for name in names:
            repo = ROOT / folder / f"{name}.yaml"
            assert repo.resolve() == builtin.resolve(name, kind).resolve()


def test_scenarios_lists_each_builtin_with_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in [*builtin.names("scenario"), *builtin.names("experiment")]:
        assert re.search(rf"^  {name}\s+\S", out, re.M), name


def test_init_makes_a_project_whose_studies_find_their_scenarios(tmp_path: Path) -> None:
    project = tmp_path / "project"
    assert main(["init", str(project)]) == 0
    assert (project / "configs" / "baseline.yaml").is_file()
    assert (project / "notebooks" / "warn_policy.ipynb").is_file()
    study = policy.load(project / "experiments" / "warn_policy.yaml")
    assert study.base.name == "baseline"
    assert main(["init", str(project)]) == 2  # not empty: refused, nothing overwritten


SCENARIO_FORMS = {
    "object": Scenario().with_overrides({"population.size": 50}),
    "name": "bass_limit",
    "str path": str(ROOT / "configs" / "bass_limit.yaml"),
    "Path": ROOT / "configs" / "bass_limit.yaml",
}


@pytest.mark.parametrize("form", sorted(SCENARIO_FORMS))
def test_run_takes_a_scenario_a_path_or_a_name(form: str) -> None:
    result = trustsim.run(SCENARIO_FORMS[form], seed=1, steps=2)
    assert result.timeseries["step"].max() == 2


@pytest.mark.parametrize("form", ["name", "str path", "Path"])
def test_load_scenario_takes_a_path_or_a_name(form: str) -> None:
    assert trustsim.load_scenario(SCENARIO_FORMS[form]).name == "bass_limit"


def test_a_wrong_type_is_a_type_error_that_names_what_is_accepted() -> None:
    with pytest.raises(
        TypeError, match="a loaded Scenario, a path to a scenario YAML file or a built-in"
    ):
        trustsim.run(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a path or a built-in name"):
        trustsim.load_scenario(3.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a loaded Experiment, a path"):
        trustsim.run_experiment({"design": "grid"})
    with pytest.raises(TypeError, match="a loaded PolicyExperiment, a path"):
        policy.compare(["warn"], out="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="built-in scenarios: baseline"):
        trustsim.load_scenario("baseline_typo")


def test_studies_take_a_path_or_a_name(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        "scenario: bass_limit\nsteps: 2\nreplications: 2\nseed: 1\n"
        "overrides: {population.size: 30}\ndesign: {kind: list, points: [{name: a}]}\n"
    )
    for form in (str(spec), spec):
        result = experiment.run_experiment(form, out=tmp_path / f"out-{type(form).__name__}")
        assert len(result.runs) == 2
    assert experiment.load("strategy_grid").name == "strategy_grid"
    assert policy.load("warn_policy").name == "warn_policy"


def test_ema_model_takes_a_name() -> None:
    pytest.importorskip("ema_workbench")
    from trustsim import ema

    model = ema.model("baseline", uncertainties=["market.review_rate"])
    assert [u.name for u in model.uncertainties] == ["market__review_rate"]


# ------------------------------------------------------------------ run --seeds, --force


def test_run_seeds_keeps_every_replication_and_summarises_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reps"
    args = ["run", "baseline", "--seeds", "3", "--seed", "4", "--steps", "6", "--out", str(out),
            "--set", "population.size=300"]  # fmt: skip
    assert main(args) == 0
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert sorted(ts["replication"].unique()) == [0, 1, 2]
    final = ts[(ts.step == 6) & (ts.firm == "trust_first")]
    assert final["npv"].nunique() == 3  # the replications differ
    mean = final["npv"].mean()
    half = stats.t.ppf(0.975, 2) * final["npv"].std(ddof=1) / 3**0.5
    printed = capsys.readouterr().out
    line = next(row for row in printed.splitlines() if row.startswith("trust_first"))
    assert f"{mean:.4g} [{mean - half:.4g}, {mean + half:.4g}]" in line
    assert (out / "retention.png").stat().st_size > 10_000


WRITERS = {
    "run": ["run", "bass_limit", "--steps", "2", "--set", "population.size=30"],
    "sweep": ["sweep", "TINY", "--backend", "serial", "--no-plots"],
    "facts": ["facts", "bass_limit", "--quick", "--seeds", "2", "--size", "30",
              "--backend", "serial"],
}  # fmt: skip


@pytest.mark.parametrize("command", sorted(WRITERS))
def test_force_replaces_a_folder_of_another_kind_and_never_mixes(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(
        "scenario: bass_limit\nsteps: 2\nreplications: 1\nseed: 1\n"
        "overrides: {population.size: 30}\ndesign: {kind: list, points: [{name: a}]}\n"
    )
    args = [str(tiny) if a == "TINY" else a for a in WRITERS[command]]
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("someone else's file")
    assert main([*args, "--out", str(other)]) == 2
    assert "--force to replace it" in capsys.readouterr().err
    assert (other / "notes.txt").exists()  # refused: nothing lost
    main([*args, "--out", str(other), "--force"])
    assert not (other / "notes.txt").exists()  # replaced, not mixed
    assert any(other.iterdir())


def test_every_command_that_writes_a_folder_has_force() -> None:
    for command in ("run", "sweep", "sensitivity", "compare", "facts"):
        done = subprocess.run(
            [sys.executable, "-m", "trustsim.cli", command, "-h"], capture_output=True, text=True
        )
        assert "--force" in done.stdout, command


# ------------------------------------------------------------------ the wheel


def shell(venv_bin: Path, cwd: Path, *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [str(venv_bin / "trustsim"), *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "MPLBACKEND": "Agg"},
    )  # fmt: skip
    assert done.returncode in (0, 1), f"trustsim {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_the_wheel_works_from_an_empty_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel, sdist = next(dist.glob("trustsim-*.whl")), next(dist.glob("trustsim-*.tar.gz"))
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", str(wheel), str(sdist)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0 and checked.stdout.count("PASSED") == 2, checked.stdout
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [str(bin_dir / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert shell(bin_dir, empty, "-h").startswith("usage: trustsim")
    for command in commands():
        assert shell(bin_dir, empty, command, "-h").startswith("usage: trustsim")
    listed = shell(bin_dir, empty, "scenarios")
    assert "baseline" in listed and "warn_policy" in listed
    assert "after 3 weeks" in shell(bin_dir, empty, "run", "baseline", "--steps", "3")
    assert "after 20 weeks" in shell(bin_dir, empty, "run", "classroom-social-proof")  # a lesson
    facts = shell(bin_dir, empty, "facts", "baseline", "--seeds", "2", "--size", "300", timeout=600)
    assert "| trust_premium |" in facts
    served = subprocess.Popen(
        [str(bin_dir / "trustsim"), "classroom", "--port", "8791"], cwd=empty,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        import httpx

        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get("http://127.0.0.1:8791/", timeout=2).status_code
            except httpx.HTTPError:
                time.sleep(0.5)
        assert status == 200
    finally:
        served.terminate()
        served.wait(timeout=10)
    assert not any(p.name == "configs" for p in empty.iterdir())  # nothing needed a clone


def test_import_trustsim_reaches_the_study_packages_lazily() -> None:
    code = (
        "import sys, trustsim\n"
        "assert 'trustsim.policy' not in sys.modules\n"
        "assert trustsim.policy.compare and trustsim.sensitivity and trustsim.experiment\n"
        "assert trustsim.run_experiment is trustsim.experiment.runner.run_experiment\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
