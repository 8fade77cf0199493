"""Throughput of the experiment runner, and its overhead against a plain loop.

Usage::

    python benchmarks/bench_runner.py          # 96 runs of 1,000 customers x 104 weeks

Prints runs per minute on 1 and 2 worker processes, and the runner's overhead:
the serial backend (which writes every run atomically and keeps the store)
against calling ``trustsim.run`` in a plain loop on the same runs.
Target: overhead under 10%.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

import trustsim
from trustsim import experiment as ex

ROOT = Path(__file__).resolve().parents[1]


def write_experiment(folder: Path, runs: int) -> Path:
    path = folder / "bench.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "scenario": str(ROOT / "configs" / "baseline.yaml"),
                "overrides": {"population.size": 1000},
                "steps": 104,
                "seed": 1,
                "replications": runs // 4,
                "design": {
                    "kind": "grid",
                    "parameters": {
                        "firms.trust_first.warn_rate": [0.0, 0.9],
                        "market.q_wom": [0.1, 0.3],
                    },
                },
            },
            sort_keys=False,
        )
    )
    return path


def plain_loop(experiment: ex.Experiment) -> float:
    start = time.perf_counter()
    for spec in ex.plan(experiment, np.random.SeedSequence(1)):
        trustsim.run(
            experiment.base.with_overrides(spec.parameters),
            seed=spec.seed,
            steps=experiment.horizon,
        )
    return time.perf_counter() - start


def with_runner(experiment: ex.Experiment, backend: str, workers: int, out: Path) -> float:
    start = time.perf_counter()
    with ex.make_executor(backend, workers=workers) as pool:
        result = ex.run_experiment(experiment, out=out, executor=pool, backend=backend)
    elapsed = time.perf_counter() - start
    assert (result.runs.status == "ok").all()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=96, help="runs per measurement (x4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        experiment = ex.load(write_experiment(folder, args.runs))
        n = len(ex.plan(experiment, np.random.SeedSequence(1)))
        loop = plain_loop(experiment)
        serial = with_runner(experiment, "serial", 1, folder / "serial")
        rows = [("plain loop (no runner)", 1, loop), ("runner, serial", 1, serial)]
        for workers in (1, 2):
            rows.append(
                (
                    "runner, processes",
                    workers,
                    with_runner(experiment, "processes", workers, folder / f"p{workers}"),
                )
            )
    print(f"{n} runs of 1,000 customers x 104 weeks\n")
    print(f"{'how':<24}{'workers':>8}{'seconds':>9}{'runs/min':>10}")
    for how, workers, seconds in rows:
        print(f"{how:<24}{workers:>8}{seconds:>9.1f}{60 * n / seconds:>10.1f}")
    print(
        f"\nrunner overhead (serial backend vs plain loop): {100 * (serial / loop - 1):+.1f}% "
        f"(target < 10%)"
    )


if __name__ == "__main__":
    main()
