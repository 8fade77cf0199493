"""The compiled kernels: the first run compiles and says so, later processes load the
cache, and a cold cache and a warm one give identical tables."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from trustsim import layout, rules

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


@pytest.fixture(scope="module")
def filled_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A numba cache filled by one fresh process (compiling) and read by a second:
    the cache and both processes' stderr."""
    folder = tmp_path_factory.mktemp("kernels")
    cache = folder / "numba-cache"
    cold = run_in_fresh_process(folder / "cold.parquet", cache)
    warm = run_in_fresh_process(folder / "warm.parquet", cache)
    return cache, cold, warm


def test_cold_and_warm_cache_give_identical_tables(filled_cache: tuple[Path, str, str]) -> None:
    cache, cold, warm = filled_cache
    assert "compiling kernels, first run only" in cold
    assert "compiling kernels" not in warm  # the second process loaded them
    assert any(cache.rglob("*.nbi"))
    pd.testing.assert_frame_equal(
        pd.read_parquet(cache.parent / "cold.parquet"),
        pd.read_parquet(cache.parent / "warm.parquet"),
        check_exact=True,
    )


def test_kernels_compiled_from_older_rules_are_not_reused(
    tmp_path: Path, filled_cache: tuple[Path, str, str]
) -> None:
    # numba keys a cached kernel on kernels.py only; a changed rules.py must recompile
    cache = tmp_path / "numba-cache"
    shutil.copytree(filled_cache[0], cache)
    assert "compiling" not in run_in_fresh_process(tmp_path / "a.parquet", cache)  # a copy loads
    stamps = list(cache.rglob("trustsim-rules.sha256"))
    assert len(stamps) == 1
    stamps[0].write_text("rules of another version")
    again = run_in_fresh_process(tmp_path / "b.parquet", cache)
    assert "compiling kernels, first run only" in again


THREADS = """
import sys, trustsim
from conftest import EVENTFUL
scenario = trustsim.Scenario().with_overrides({"population.size": 9000, **EVENTFUL})
result = trustsim.run(scenario, seed=3, steps=12)
result.timeseries.to_parquet(sys.argv[1])
"""


def test_tables_are_identical_whatever_the_thread_count(tmp_path: Path) -> None:
    # 9,000 customers are five chunks: with two threads they are shared out, with one not
    tables = []
    for threads in (1, 2):
        out = tmp_path / f"threads-{threads}.parquet"
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads),
               "PYTHONPATH": str(Path(__file__).parent)}  # fmt: skip
        subprocess.run([sys.executable, "-c", THREADS, str(out)], env=env, check=True)
        tables.append(pd.read_parquet(out))
    assert tables[0]["breaches"].sum() > 0 and tables[0]["wom_negative"].sum() > 0
    pd.testing.assert_frame_equal(tables[0], tables[1], check_exact=True)


def parameter_names() -> set[str]:
    """Every model parameter as a kernel or an agent reads it (``p.market_x``, ``mk.x``,
    ``firms[f].x``, ``cfg.x``)."""
    names = set(layout.FIRM.names)
    for name in layout.PARAMS.names:
        names |= {name, name.split("_", 1)[1]}
    return names


def formulas_over_parameters(path: Path) -> list[str]:
    """Arithmetic in ``path`` that reads a model parameter: a formula of the model that
    belongs in rules.py. Each finding is 'line: parameter'."""
    params, found = parameter_names(), {}
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.BinOp):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Attribute) and inner.attr in params:
                found[(inner.lineno, inner.col_offset)] = f"{inner.lineno}: {inner.attr}"
    return [found[k] for k in sorted(found)]


@pytest.mark.parametrize("engine", ["kernels.py", "phases.py", "reference.py"])
def test_no_engine_writes_a_formula_of_its_own(engine: str) -> None:
    # every equation lives once, in rules.py, and both engines call it (ODD 7)
    assert formulas_over_parameters(Path(rules.__file__).parent / engine) == []


def test_the_formula_check_finds_a_planted_formula(tmp_path: Path) -> None:
    planted = tmp_path / "engine.py"
    planted.write_text("hazard = p.market_breach_rate * (1.0 - firm.data_protection)\n")
    assert formulas_over_parameters(planted) == ["1: market_breach_rate", "1: data_protection"]
