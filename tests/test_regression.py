"""A regression pin, not a validation: one small fixed-seed run's final table.

Any change to the model's numbers, intended or not, changes this table. An
intended change regenerates it (``TRUSTSIM_UPDATE_PIN=1 pytest
tests/test_regression.py``) and says why in its commit; an unintended one is a
bug found. The values prove nothing about the model's validity: the facts do
that (``tests/test_facts.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from conftest import small

import trustsim

PIN = Path(__file__).parent / "regression" / "final_n300_seed7_week30.csv"


def test_a_fixed_seed_run_ends_on_the_pinned_table() -> None:
    result = trustsim.run(small(size=300), seed=7, steps=30)
    final = result.final().reset_index()
    if os.environ.get("TRUSTSIM_UPDATE_PIN") == "1":
        final.to_csv(PIN, index=False, float_format="%.17g")
    pinned = pd.read_csv(PIN)
    pd.testing.assert_frame_equal(final, pinned, check_dtype=False, rtol=1e-9, atol=1e-12)
