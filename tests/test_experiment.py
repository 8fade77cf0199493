"""The experiment runner: backends agree, crashes resume, failures are data, design order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd
import pytest
import yaml

from trustsim import experiment as ex
from trustsim.config import ConfigError
from trustsim.experiment.runner import status

ROOT = Path(__file__).resolve().parents[1]
CLASSROOM = str(ROOT / "configs" / "classroom.yaml")


def write_experiment(folder: Path, name: str = "exp", **fields: Any) -> Path:
    spec = {
        "scenario": CLASSROOM,
        "steps": 12,
        "replications": 2,
        "seed": 7,
        "design": {
            "kind": "grid",
            "parameters": {"market.q_wom": [0.1, 0.5], "firms.trust_first.warn_rate": [0.0, 0.9]},
        },
        "outputs": {"metrics": ["customers", "reputation", "cohort_retention"], "every": 1},
        **fields,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def tables(result: ex.ExperimentResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs table without wall times (the only thing allowed to differ), and timeseries."""
    return result.runs.drop(columns=["wall_time"]), result.timeseries()


def sweep_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "sweep", "--no-plots", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def sweep_until(path: Path, out: Path, runs: int) -> subprocess.Popen[str]:
    """Start a serial sweep in a subprocess and return once ``runs`` runs are recorded."""
    command = ["sweep", "--no-plots", str(path), "--out", str(out), "--backend", "serial"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "trustsim.cli", *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell without job control starts background jobs with SIGINT ignored, and
        # Python keeps an inherited SIG_IGN: restore the default so Ctrl-C is delivered
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while len(list((out / "runs").glob("*.json"))) < runs and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc


def test_design_order_seeds_and_outputs(tmp_path: Path) -> None:
    experiment = ex.load(write_experiment(tmp_path, outputs={"every": 5}))
    runs = ex.plan(experiment, np.random.SeedSequence(7))
    assert [r.run_id for r in runs] == [f"d{d}-r{r}" for d in range(4) for r in range(2)]
    assert runs[2].parameters == {"market.q_wom": 0.1, "firms.trust_first.warn_rate": 0.9}
    with ex.make_executor("serial") as serial:
        result = ex.run_experiment(experiment, out=tmp_path / "out", executor=serial)
    ts = result.timeseries()
    assert sorted(ts.step.unique()) == [0, 5, 10, 12]  # every 5 steps, and the last one
    assert list(ts.run_id.unique()) == list(result.runs.run_id)
    assert {
        "param.market.q_wom",
        "final.trust_first.cumulative_profit",
        "seed_entropy",
        "spawn_key",
        "status",
        "error",
    } <= set(result.runs.columns)
    assert (result.runs["seed_entropy"] == "7").all()


def test_common_random_numbers(tmp_path: Path) -> None:
    def step0(crn: bool) -> pd.DataFrame:
        path = write_experiment(tmp_path, f"crn{crn}", common_random_numbers=crn)
        with ex.make_executor("serial") as serial:
            result = ex.run_experiment(ex.load(path), out=tmp_path / f"out{crn}", executor=serial)
        ts = result.timeseries().merge(result.runs[["run_id", "design_id", "replication"]])
        return ts[ts.step == 0]

    with_crn, without = step0(True), step0(False)
    # q_wom and warn_rate do not touch the initial state: with CRN, replication r
    # starts from the same world at every design point; without, worlds differ
    for frame, same in ((with_crn, True), (without, False)):
        for r in (0, 1):
            rep = frame[frame.replication == r]
            starts = [g["customers"].tolist() for _, g in rep.groupby("design_id")]
            assert all(s == starts[0] for s in starts) is same
    # and the two replications differ from each other either way
    rep0 = with_crn[(with_crn.replication == 0) & (with_crn.design_id == 0)]
    rep1 = with_crn[(with_crn.replication == 1) & (with_crn.design_id == 0)]
    assert rep0.reputation.tolist() != rep1.reputation.tolist()


@pytest.mark.slow
def test_serial_processes_and_dask_give_identical_tables(tmp_path: Path) -> None:
    experiment = ex.load(write_experiment(tmp_path))
    results = {}
    for backend in ("serial", "processes", "dask"):
        with ex.make_executor(backend, workers=2) as pool:
            results[backend] = tables(
                ex.run_experiment(
                    experiment, out=tmp_path / backend, executor=pool, backend=backend
                )
            )
    for backend in ("processes", "dask"):
        pd.testing.assert_frame_equal(results["serial"][0], results[backend][0])
        pd.testing.assert_frame_equal(results["serial"][1], results[backend][1])
    assert len(results["serial"][0]) == 8 and (results["serial"][0].status == "ok").all()


def test_each_run_gets_its_thread_cap_on_every_backend() -> None:
    # runs in parallel take one thread each by default, a serial run every core
    most = numba.config.NUMBA_NUM_THREADS
    expected = {
        ("serial", None): most,
        ("serial", 1): 1,
        ("processes", None): 1,
        ("processes", 2): min(2, most),
        ("dask", None): 1,
    }
    for (backend, threads), want in expected.items():
        with ex.make_executor(backend, workers=1, threads=threads) as pool:
            assert pool.submit(numba.get_num_threads).result() == want, (backend, threads)
    with ThreadPoolExecutor(1) as raw:  # an executor of the user's own: one thread per run
        assert ex.capped(raw).submit(numba.get_num_threads).result() == 1
    with pytest.raises(ConfigError, match="--threads: must be at least 1"):
        with ex.make_executor("serial", threads=0):
            pass


class BigRunsLast(ThreadPoolExecutor):
    """Runs every task at once, holding back the big populations, so the completion
    order surely differs from the design order (a process pool under load may not)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        big = args[-1].spec.parameters["population.size"] > 100  # the last argument: the task

        def held_back() -> Any:
            time.sleep(0.5 if big else 0.0)
            return fn(*args, **kwargs)

        return super().submit(held_back)


@pytest.mark.slow
def test_results_come_back_in_design_order_whatever_finishes_first(tmp_path: Path) -> None:
    # big and small populations alternate, and small runs finish first
    path = write_experiment(
        tmp_path,
        replications=1,
        steps=30,
        design={
            "kind": "list",
            "points": [{"population.size": n} for n in (3000, 40, 2000, 30, 1500, 20)],
        },
    )
    seen: list[str] = []
    with BigRunsLast(max_workers=6) as pool:
        result = ex.run_experiment(
            ex.load(path),
            out=tmp_path / "out",
            executor=pool,
            on_result=lambda rec, done, total: seen.append(rec["run_id"]),
        )
    design_order = [f"d{d}-r0" for d in range(6)]
    assert set(seen[:3]) == {"d1-r0", "d3-r0", "d5-r0"}  # the small runs came back first
    assert list(result.runs.run_id) == design_order
    assert list(result.timeseries().run_id.unique()) == design_order
    stored = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert list(stored.run_id) == design_order


def test_a_failing_run_is_recorded_and_retried_on_resume(tmp_path: Path) -> None:
    edges = tmp_path / "edges.txt"
    path = write_experiment(
        tmp_path,
        replications=1,
        overrides={
            "network.kind": "file",
            "network.path": str(tmp_path / "ring.txt"),
            "population.size": 4,
        },
        design={
            "kind": "list",
            "points": [{"network.path": str(tmp_path / "ring.txt")}, {"network.path": str(edges)}],
        },
    )
    (tmp_path / "ring.txt").write_text("a b\nb c\nc d\nd a\n")
    out = tmp_path / "out"
    with ex.make_executor("serial") as serial:
        first = ex.run_experiment(ex.load(path), out=out, executor=serial)
    assert first.runs.status.tolist() == ["ok", "failed"]
    assert "network.path" in first.runs.error.iloc[1]
    assert status(out) == {"total": 2, "done": 1, "failed": 1, "missing": 0}
    edges.write_text("a b\nb c\nc d\n")  # the cause is fixed; resume retries only that run
    done_before = (out / "timeseries" / "d0-r0.parquet").stat().st_mtime_ns
    with ex.make_executor("serial") as serial:
        second = ex.run_experiment(ex.load(path), out=out, executor=serial)
    assert second.runs.status.tolist() == ["ok", "ok"]
    assert (out / "timeseries" / "d0-r0.parquet").stat().st_mtime_ns == done_before


@pytest.mark.slow
def test_sigkill_then_resume_equals_an_uninterrupted_sweep(tmp_path: Path) -> None:
    path = write_experiment(tmp_path, replications=4, steps=60, overrides={"population.size": 3000})
    whole = sweep_cli(str(path), "--out", str(tmp_path / "whole"), "--backend", "serial")
    assert whole.returncode == 0, whole.stderr

    out = tmp_path / "killed"
    proc = sweep_until(path, out, runs=3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(list((out / "runs").glob("*.json")))
    assert 3 <= partial < 16, "kill must land part-way through the sweep"
    assert status(out)["missing"] > 0

    resumed = sweep_cli(str(path), "--out", str(out), "--backend", "serial")
    assert resumed.returncode == 0, resumed.stderr
    a, b = ex.open_results(tmp_path / "whole"), ex.open_results(out)
    pd.testing.assert_frame_equal(tables(a)[0], tables(b)[0])
    pd.testing.assert_frame_equal(tables(a)[1], tables(b)[1])
    assert not list(out.rglob(".*.tmp"))  # no temporary file left behind


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_keeps_finished_runs(tmp_path: Path) -> None:
    # runs long enough (about 1 s each) that the sweep cannot finish between
    # the third run and the signal
    path = write_experiment(
        tmp_path, replications=4, steps=300, overrides={"population.size": 1500}
    )
    out = tmp_path / "out"
    proc = sweep_until(path, out, runs=3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "resumes" in err and "Traceback" not in err
    kept = pd.read_parquet(out / "runs.parquet")  # consolidated on the way out
    assert 3 <= len(kept) < 16 and (kept.status == "ok").all()


@pytest.mark.slow
def test_a_dask_worker_killed_mid_sweep_does_not_lose_the_sweep(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    path = write_experiment(tmp_path, replications=6, steps=40, overrides={"population.size": 800})
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]

        def kill_once(record: dict[str, Any], done: int, total: int) -> None:
            if done == 3:
                os.kill(victim, signal.SIGKILL)

        result = ex.run_experiment(
            ex.load(path),
            out=tmp_path / "out",
            executor=client.get_executor(pure=False),
            on_result=kill_once,
        )
        assert victim not in client.run(os.getpid).values()  # the worker really died
    assert len(result.runs) == 24
    assert (result.runs.status == "ok").all()


def test_a_folder_holding_another_experiment_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with ex.make_executor("serial") as serial:
        ex.run_experiment(ex.load(write_experiment(tmp_path, steps=3)), out=out, executor=serial)
        with pytest.raises(ConfigError, match="holds experiment"):
            ex.run_experiment(
                ex.load(write_experiment(tmp_path, "other", steps=4)), out=out, executor=serial
            )


def test_lhs_uses_declared_ranges_and_is_reproducible(tmp_path: Path) -> None:
    path = write_experiment(
        tmp_path,
        design={"kind": "lhs", "n": 16, "ranges": {"market.q_wom": None, "wom.weight": [0.1, 0.2]}},
    )
    experiment = ex.load(path)
    points = [r.parameters for r in ex.plan(experiment, np.random.SeedSequence(7))][::2]
    q = np.array([p["market.q_wom"] for p in points])
    assert q.min() >= 0.0 and q.max() <= 0.6  # the range declared in the schema
    # a Latin hypercube: exactly one point in each of the 16 strata
    assert sorted(np.floor(q / 0.6 * 16).astype(int)) == list(range(16))
    again = [r.parameters for r in ex.plan(experiment, np.random.SeedSequence(7))][::2]
    assert points == again


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        (
            {"design": {"kind": "spiral"}},
            "kind must be one of grid, list, lhs, sobol, morris, pawn",
        ),
        (
            {"design": {"kind": "grid", "parameters": {"network.kind": ["moebius"]}}},
            "design.parameters.network.kind",
        ),
        ({"design": {"kind": "grid", "parameters": {"market.nope": [1]}}}, "market.nope"),
        ({"replications": 0}, "replications"),
        ({"outputs": {"metrics": ["happiness"]}}, "outputs.metrics"),
        ({"colour": "red"}, "colour"),
        ({"scenario": "configs/none.yaml"}, "scenario: configs/none.yaml not found; looked at"),
    ],
)
def test_bad_experiment_files_exit_2_naming_the_key(
    tmp_path: Path, fields: dict[str, Any], key: str
) -> None:
    result = sweep_cli(
        str(write_experiment(tmp_path, **fields)),
        "--out",
        str(tmp_path / "out"),
        "--backend",
        "serial",
    )
    assert result.returncode == 2
    assert key in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_sweep_status_and_plot_commands(tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = write_experiment(tmp_path, steps=6)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trustsim.cli",
            "sweep",
            str(path),
            "--out",
            str(out),
            "--backend",
            "serial",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "8 runs" in done.stdout
    assert done.stderr == ""  # the progress bar stays quiet when stderr is not a terminal
    for name in ("retention", "reputation", "heatmap_reputation", "heatmap_cumulative_profit"):
        for fmt in ("png", "svg"):
            assert (out / f"{name}.{fmt}").stat().st_size > 1000
    shown = subprocess.run(
        [sys.executable, "-m", "trustsim.cli", "status", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "8 done, 0 failed, 0 missing of 8 runs" in shown.stdout
