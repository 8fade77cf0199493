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


def __getattr__(name: str) -> Any:
    """``trustsim.run_experiment``, imported on first use (the runner loads more)."""
    if name == "run_experiment":
        from trustsim.experiment.runner import run_experiment

        return run_experiment
    raise AttributeError(f"module 'trustsim' has no attribute {name!r}")
