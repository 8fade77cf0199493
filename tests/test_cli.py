"""The ``trustsim`` command: files written, summaries printed, bad input refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trustsim.cli import main
from trustsim.io import read_run

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
FILES = {
    "timeseries.parquet",
    "population.parquet",
    "manifest.json",
    "retention.png",
    "reputation.png",
    "trust.png",
    "profit.png",
}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustsim.cli", *args], capture_output=True, text=True, check=False
    )


def test_run_writes_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "run",
            str(CONFIGS / "classroom.yaml"),
            "--out",
            str(out),
            "--seed",
            "3",
            "--steps",
            "12",
            "--set",
            "market.q_wom=0.4",
        ]
    )
    assert code == 0
    assert {p.name for p in out.iterdir()} == FILES
    stored = read_run(out)
    ts = stored.timeseries
    assert sorted(ts.firm.unique()) == ["short_term", "trust_first"]
    assert ts.step.max() == 12
    assert len(stored.population) == 13
    assert stored.manifest == json.loads((out / "manifest.json").read_text())
    manifest = stored.manifest
    assert manifest["seed_entropy"] == "3"
    assert manifest["scenario"]["market"]["q_wom"] == 0.4
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "short_term" in printed and "trust_first" in printed and "reputation" in printed


def test_default_output_folder_is_results_config_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(CONFIGS / "classroom.yaml"), "--steps", "2", "--seed", "1"]) == 0
    assert (tmp_path / "results" / "classroom" / "retention.png").exists()


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("network:\n  kind: moebius\n", "network.kind"),
        ("market:\n  q_wom: -1\n", "market.q_wom"),
        ("firms:\n  - name: a\n    strategy: greedy\n", "firms.a.strategy"),
        ("populaton:\n  size: 3\n", "populaton"),
    ],
)
def test_bad_config_exits_2_naming_the_key_and_writes_nothing(
    tmp_path: Path, yaml_text: str, key: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text)
    out = tmp_path / "out"
    result = run_cli("run", str(config), "--out", str(out))
    assert result.returncode == 2
    assert key in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_failed_run_leaves_earlier_results_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        main(
            [
                "run",
                str(CONFIGS / "classroom.yaml"),
                "--out",
                str(out),
                "--steps",
                "3",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = run_cli(
        "run", str(CONFIGS / "classroom.yaml"), "--out", str(out), "--set", "network.kind=moebius"
    )
    assert result.returncode == 2
    assert "network.kind" in result.stderr and "watts_strogatz" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize(
    "args",
    [
        ["--steps", "-1"],
        ["--seed", "x"],
        ["--set", "novalue"],
        ["--set", "firms.nobody.promise=0.5"],
        ["--threads", "0"],
    ],
)
def test_bad_flags_exit_2(args: list[str]) -> None:
    result = run_cli("run", str(CONFIGS / "classroom.yaml"), *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_missing_config_exits_2() -> None:
    result = run_cli("validate", "no/such/file.yaml")
    assert result.returncode == 2
    assert "no/such/file.yaml: no such scenario, experiment or study file" in result.stderr


def test_validate_accepts_shipped_configs() -> None:
    for config in CONFIGS.glob("*.yaml"):
        result = run_cli("validate", str(config))
        assert result.returncode == 0, result.stderr
        assert "valid" in result.stdout


def test_the_summary_says_n_a_where_no_firm_had_week_0_customers() -> None:
    from trustsim.cli import summary
    from trustsim.simulate import run

    nobody_at_first = summary(run("classroom-social-proof", seed=2).timeseries)
    assert "NaN" not in nobody_at_first and "n/a" in nobody_at_first
    assert "no customers in week 0" in nobody_at_first
    assert "n/a" not in summary(run("classroom", seed=2, steps=3).timeseries)
