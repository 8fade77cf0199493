"""The compiled kernels: the first run compiles and says so, later processes load the
cache, and a cold cache and a warm one give identical tables."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

RUN = """
import sys, trustsim
result = trustsim.run(trustsim.Scenario().with_overrides({"population.size": 400}),
                      seed=11, steps=20)
result.timeseries.to_parquet(sys.argv[1])
"""


def run_in_fresh_process(out: Path, cache: Path) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(out)], env=env, capture_output=True, text=True, check=True
    )
    return done.stderr


def test_cold_and_warm_cache_give_identical_tables(tmp_path: Path) -> None:
    cache = tmp_path / "numba-cache"
    cold = run_in_fresh_process(tmp_path / "cold.parquet", cache)
    warm = run_in_fresh_process(tmp_path / "warm.parquet", cache)
    assert "compiling kernels, first run only" in cold
    assert "compiling kernels" not in warm  # the second process loaded them
    assert any(cache.rglob("*.nbi"))
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "cold.parquet"),
        pd.read_parquet(tmp_path / "warm.parquet"),
        check_exact=True,
    )


def test_kernels_compiled_from_older_rules_are_not_reused(tmp_path: Path) -> None:
    # numba keys a cached kernel on kernels.py only; a changed rules.py must recompile
    cache = tmp_path / "numba-cache"
    run_in_fresh_process(tmp_path / "a.parquet", cache)
    stamps = list(cache.rglob("trustsim-rules.sha256"))
    assert len(stamps) == 1
    stamps[0].write_text("rules of another version")
    again = run_in_fresh_process(tmp_path / "b.parquet", cache)
    assert "compiling kernels, first run only" in again
