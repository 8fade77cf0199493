"""The Sobol flagship end to end: ``trustsim sensitivity experiments/sobol_baseline.yaml``.

Usage::

    python benchmarks/bench_sensitivity.py            # 7,680 runs of 1,000 x 104 weeks
    python benchmarks/bench_sensitivity.py --workers 1

Runs the command in a fresh process into a temporary folder (so nothing is
resumed), on the processes backend, and prints its wall time and the runs per
minute it implies, against the goal of the performance issue: the flagship's
2,560 runs (then one replication) in under 90 s on a 2-core machine, a rate of
1,707 runs a minute. The wall time includes the analysis, which resamples
replications and grows with them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "experiments" / "sobol_baseline.yaml"


def runs() -> int:
    """The flagship's number of runs, from its own design."""
    import numpy as np

    from trustsim import experiment as ex

    return len(ex.plan(ex.load(FLAGSHIP), np.random.SeedSequence(0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, help="worker processes (default: cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "trustsim.cli", "sensitivity", str(FLAGSHIP),
                   "--out", str(Path(tmp) / "sobol")]  # fmt: skip
        if args.workers:
            command += ["--workers", str(args.workers)]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
    n = runs()
    print(f"{FLAGSHIP.name}: {n:,} runs and their analysis in {wall:.0f} s "
          f"({60 * n / wall:,.0f} runs/min); goal 1,707 runs/min")  # fmt: skip


if __name__ == "__main__":
    main()
