"""EMA Workbench interop: a TrustSim scenario as an EMA ``Model``.

For people who already work in EMA Workbench (Kwakkel 2017): levers and
uncertainties are dotted scenario keys whose ranges come from the schema, and
outcomes are final values ``<firm>.<metric>``. EMA needs Python names, so in
its tables a dot becomes a double underscore: ``market__review_rate``,
``trust_first__npv``.

>>> from ema_workbench import perform_experiments                    # doctest: +SKIP
>>> from trustsim import ema
>>> model = ema.model("configs/baseline.yaml",                       # doctest: +SKIP
...     levers=["firms.trust_first.warn_rate"],
...     uncertainties=["market.review_rate", "market.switching_cost"],
...     outcomes=["trust_first.npv", "short_term.npv"])
>>> experiments, outcomes = perform_experiments(model, scenarios=64, policies=4)  # doctest: +SKIP

Every experiment runs with the same ``seed`` (common random numbers across
EMA's experiments), so differences between policies are not luck. Needs the
optional extra: ``pip install "trustsim[ema]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trustsim.config import (
    ConfigError,
    ScenarioLike,
    as_scenario,
    check_variable,
    is_integer_key,
    sensitivity_ranges,
)
from trustsim.metrics import FIRM_COLUMNS
from trustsim.simulate import run


def variable(key: str) -> str:
    """A dotted key as a Python name, since EMA passes values as keyword arguments."""
    return key.replace(".", "__").replace("-", "_")


class Evaluate:
    """The model's function: dotted overrides in, final outcomes out (picklable for
    EMA's multiprocessing evaluator)."""

    def __init__(self, scenario: dict[str, Any], keys: list[str], outcomes: list[str],
                 steps: int | None, seed: int) -> None:  # fmt: skip
        self.scenario, self.keys, self.outcomes = scenario, keys, outcomes
        self.steps, self.seed = steps, seed

    def __call__(self, **values: Any) -> dict[str, float]:
        from trustsim.config import Scenario

        base = Scenario.model_validate(self.scenario)
        overrides = {key: values[variable(key)] for key in self.keys if variable(key) in values}
        ts = run(base.with_overrides(overrides), seed=self.seed, steps=self.steps).timeseries
        final = ts[ts.step == ts.step.max()].set_index("firm")
        return {
            variable(name): float(final.at[name.split(".")[0], name.split(".")[1]])
            for name in self.outcomes
        }


def model(
    scenario: ScenarioLike,
    *,
    levers: Sequence[str] = (),
    uncertainties: Sequence[str] = (),
    outcomes: Sequence[str] = ("trust_first.npv", "short_term.npv"),
    steps: int | None = None,
    seed: int = 0,
    name: str = "trustsim",
) -> Any:
    """An ``ema_workbench.Model`` of the scenario; ranges are the schema's declared ones.

    Raises
    ------
    ConfigError
        A key without a declared range, or an outcome that is not ``<firm>.<metric>``.
    """
    import ema_workbench as ew

    scenario = as_scenario(scenario, "ema.model")
    declared = sensitivity_ranges(scenario)
    firms = [f.name for f in scenario.firms]

    def parameter(key: str, where: str) -> Any:
        check_variable(key, where)
        if key not in declared:
            raise ConfigError(f"{where}: {key!r} has no declared range")
        low, high = declared[key]
        kind = ew.IntegerParameter if is_integer_key(key) else ew.RealParameter
        return kind(variable(key), low, high)

    for outcome in outcomes:
        firm, _, metric = outcome.partition(".")
        if firm not in firms or metric not in FIRM_COLUMNS:
            raise ConfigError(
                f"outcomes: {outcome!r} is not <firm>.<metric>; firms: {', '.join(firms)}; "
                f"metrics: {', '.join(FIRM_COLUMNS)}"
            )
    keys = [*levers, *uncertainties]
    ema_model = ew.Model(
        name, function=Evaluate(scenario.model_dump(), keys, list(outcomes), steps, seed)
    )
    ema_model.levers = [parameter(k, "levers") for k in levers]
    ema_model.uncertainties = [parameter(k, "uncertainties") for k in uncertainties]
    ema_model.outcomes = [ew.ScalarOutcome(variable(o)) for o in outcomes]
    return ema_model
