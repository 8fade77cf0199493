"""Shared scenario builders: small worlds that run in milliseconds."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from trustsim import kernels
from trustsim.config import Scenario


def small(overrides: Mapping[str, object] | None = None, *, size: int = 200) -> Scenario:
    """The default scenario with ``size`` customers and the given dotted overrides."""
    return Scenario().with_overrides({"population.size": size, **(overrides or {})})


# Scenarios chosen so that every event type happens often in a few dozen steps.
EVENTFUL = {
    "market.mistake_rate": 0.3,
    "market.discovery": 0.6,
    "market.breach_rate": 0.3,
    "market.failure_threshold": 0.62,
    "market.complaint_rate": 0.8,
    "market.review_rate": 0.15,
    "market.p_ad": 0.05,
}


LANES = ("u_need", "u_mistake", "u_warn", "u_discover", "u_complain", "u_recover", "u_story")


def scripted_encounter(n: int, quality: float, **uniforms: np.ndarray) -> np.ndarray:
    """Encounter draws chosen by hand, rows by lane (``kernels.NEED`` ... ``QUALITY``):
    every uniform 1 (no event happens) unless given, and delivered quality ``quality``
    for everyone."""
    script = np.ones((kernels.QUALITY + 1, n))
    for lane, name in enumerate(LANES):
        script[lane] = uniforms.get(name, 1.0)
    script[kernels.QUALITY] = quality
    return script


def scripted_decision(u_consider: np.ndarray, u_choice: np.ndarray) -> np.ndarray:
    """Decision draws chosen by hand, rows ``kernels.CONSIDER`` and ``kernels.CHOICE``."""
    return np.array([u_consider, u_choice], dtype=float)


@pytest.fixture
def small_scenario() -> Scenario:
    return small()
