"""Recovery of known parameters by ``trustsim calibrate`` (ODD 8.6): coverage and time.

Usage::

    python benchmarks/bench_calibrate.py               # 20 fits of a two-parameter problem
    python benchmarks/bench_calibrate.py --fits 40 --workers 2

For each fit, the truth is drawn from the prior (uniform over the declared ranges of
``market.review_rate`` and ``market.beta_trust``); the targets are the fit file's
statistics simulated at the truth on seeds the fit never uses (``calibrate.observe``,
8 runs each, so every target carries its standard error); then the fit runs. It
prints, per parameter, the share of fits whose 90% credible interval holds the truth
(goal: at least 80%), the mean width of that interval over the prior's 90% width,
and the wall time per fit. ``--out`` keeps the table of every fit.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from trustsim import calibrate
from trustsim.experiment import make_executor

ROOT = Path(__file__).resolve().parents[1]
PARAMETERS = {"market.review_rate": (0.0, 0.1), "market.beta_trust": (1.0, 6.0)}
TARGETS = [
    {"statistic": "reconsider", "firm": "all", "week": 52},
    {"statistic": "switch_given_reconsider", "firm": "all", "week": 52},
    {"statistic": "share", "firm": "trust_first", "week": 52},
    {"statistic": "cohort_retention", "firm": "short_term", "week": 52},
]


def fit_spec(targets: list[dict[str, object]], seed: int) -> dict[str, object]:
    return {
        "name": f"recovery-{seed}",
        "scenario": str(ROOT / "configs" / "baseline.yaml"),
        "overrides": {"population.size": 500},
        "steps": 52,
        "parameters": {key: {"low": lo, "high": hi} for key, (lo, hi) in PARAMETERS.items()},
        "targets": targets,
        "method": {"population": 60, "generations": 5, "seed": seed},
    }


def one_fit(number: int, folder: Path, workers: int) -> dict[str, object]:
    rng = np.random.default_rng(1000 + number)
    truth = {key: float(rng.uniform(lo, hi)) for key, (lo, hi) in PARAMETERS.items()}
    placeholder = [{**t, "value": 0.0, "se": 1.0} for t in TARGETS]
    observed = calibrate.observe(fit_spec(placeholder, number), truth, seed=50_000 + number)
    targets = observed.drop(columns="window").to_dict("records")
    start = time.perf_counter()
    with make_executor("processes", workers=workers) as pool:
        result = calibrate.fit(fit_spec(targets, number), out=folder / f"fit{number}",
                               executor=pool)  # fmt: skip
    wall = time.perf_counter() - start
    row: dict[str, object] = {"fit": number, "seconds": wall}
    for r in result.summary.to_dict("records"):
        key = str(r["parameter"])
        row[f"{key}.truth"] = truth[key]
        row[f"{key}.covered"] = bool(r["low_90"] <= truth[key] <= r["high_90"])
        row[f"{key}.width_ratio"] = r["width_ratio"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=20, help="fits (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", type=Path, help="write every fit's row as Parquet here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(args.fits):
            rows.append(one_fit(number, Path(tmp), args.workers))
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    if args.out:
        table.to_parquet(args.out, index=False)
    setup = f"500 customers x 52 weeks, 60 particles x 5 generations, {args.workers} workers"
    print(f"\n{args.fits} fits of {len(PARAMETERS)} parameters to {len(TARGETS)} targets ({setup})")
    for key in PARAMETERS:
        covered = table[f"{key}.covered"].mean()
        width = table[f"{key}.width_ratio"].mean()
        print(f"  {key}: 90% interval holds the truth in {covered:.0%} of fits "
              f"(goal >= 80%); mean width {width:.2f} of the prior's")  # fmt: skip
    print(f"  time per fit: median {table['seconds'].median():.0f} s "
          f"(min {table['seconds'].min():.0f}, max {table['seconds'].max():.0f})")  # fmt: skip


if __name__ == "__main__":
    main()
