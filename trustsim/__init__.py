"""TrustSim: an agent-based simulation of customer trust, word-of-mouth and firm strategy."""

from trustsim.config import ConfigError, Scenario, load_scenario
from trustsim.simulate import RunResult, run

__all__ = ["ConfigError", "RunResult", "Scenario", "load_scenario", "run"]
__version__ = "0.1.0"
