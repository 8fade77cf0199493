"""TrustSim: an agent-based simulation of customer trust, word-of-mouth and firm strategy."""

from typing import Any

from trustsim.config import ConfigError, Scenario, load_scenario
from trustsim.simulate import RunResult, run, run_replications

__all__ = [
    "ConfigError",
    "RunResult",
    "Scenario",
    "load_scenario",
    "run",
    "run_experiment",
    "run_replications",
]
__version__ = "0.1.0"


# subpackages imported on first use, so that ``import trustsim`` stays fast
LAZY = ("experiment", "sensitivity", "policy", "facts", "ema", "plots")


def __getattr__(name: str) -> Any:
    """``trustsim.policy`` (and the other study packages) and ``trustsim.run_experiment``,
    imported on first use."""
    import importlib

    if name in LAZY:
        return importlib.import_module(f"trustsim.{name}")
    if name == "run_experiment":
        return importlib.import_module("trustsim.experiment.runner").run_experiment
    raise AttributeError(f"module 'trustsim' has no attribute {name!r}")
