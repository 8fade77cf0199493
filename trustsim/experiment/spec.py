"""Experiment files: *what question* (a scenario, a design, replications, outputs).

An experiment is validated like a scenario: every design key must be a valid
scenario key and every value a valid value for it, and errors name the key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from trustsim import builtin
from trustsim.config import (
    ConfigError,
    Scenario,
    check_variable,
    load_scenario,
    read_yaml,
    sensitivity_ranges,
)
from trustsim.metrics import FIRM_COLUMNS


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GridDesign(_Strict):
    """Full factorial over the listed values of each parameter."""

    kind: Literal["grid"]
    parameters: dict[str, list[Any]] = Field(min_length=1)


class ListDesign(_Strict):
    """Explicit design points, each a mapping of dotted keys to values."""

    kind: Literal["list"]
    points: list[dict[str, Any]] = Field(min_length=1)


class LhsDesign(_Strict):
    """Latin hypercube of ``n`` points over ranges (``null``: the schema's declared range)."""

    kind: Literal["lhs"]
    n: int = Field(ge=1)
    ranges: dict[str, tuple[float, float] | None] = Field(min_length=1)


class SensitivityDesign(_Strict):
    """A SALib sample: Sobol (Saltelli), Morris trajectories or PAWN (on a Latin hypercube).

    ``n`` is the base sample size: Sobol runs ``n * (D + 2)`` points
    (``n * (2D + 2)`` with ``second_order``), Morris ``n * (G + 1)``, PAWN ``n``.
    """

    kind: Literal["sobol", "morris", "pawn"]
    n: int = Field(ge=2)
    ranges: dict[str, tuple[float, float] | None] = Field(min_length=2)
    groups: dict[str, str] | None = None
    second_order: bool = False
    levels: int = Field(4, ge=2, description="Morris grid levels")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.kind == "sobol" and self.n & (self.n - 1):
            lower = 1 << (self.n.bit_length() - 1)
            raise ValueError(
                f"design.n: Sobol sampling needs a power of two, e.g. {lower} or "
                f"{2 * lower} (got {self.n})"
            )
        if self.second_order and self.kind != "sobol":
            raise ValueError("design.second_order: only for kind sobol")
        if self.groups is not None and set(self.groups) != set(self.ranges):
            missing = sorted(set(self.ranges) ^ set(self.groups))
            raise ValueError(
                f"design.groups: every parameter needs exactly one group "
                f"(mismatched: {', '.join(missing)})"
            )
        return self


Design = Annotated[
    GridDesign | ListDesign | LhsDesign | SensitivityDesign, Field(discriminator="kind")
]
DESIGN_KINDS = tuple(
    kind
    for cls in (GridDesign, ListDesign, LhsDesign, SensitivityDesign)
    for kind in cls.model_fields["kind"].annotation.__args__  # type: ignore[union-attr]
)


class OutputSpec(_Strict):
    """A scalar taken from each run for sensitivity analysis.

    ``metric`` of ``firm`` at the final step (``over: final``) or averaged over
    all steps (``over: mean``); minus the same of firm ``minus`` when given. With
    ``overtake: true``, the week at which ``firm`` overtakes ``minus`` on
    ``metric`` for good; a run where it never does is censored at horizon + 1.
    """

    name: str
    metric: str
    firm: str
    minus: str | None = None
    over: Literal["final", "mean"] = "final"
    overtake: bool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.metric not in FIRM_COLUMNS:
            raise ValueError(
                f"analysis.outputs.{self.name}.metric: unknown {self.metric!r}; "
                f"allowed: {', '.join(FIRM_COLUMNS)}"
            )
        if self.overtake and self.minus is None:
            raise ValueError(
                f"analysis.outputs.{self.name}: overtake needs minus (the firm being overtaken)"
            )
        return self


class Analysis(_Strict):
    """What a sensitivity study analyses: its outputs, bootstrap and confidence level."""

    outputs: list[OutputSpec] = Field(min_length=1)
    bootstrap: int = Field(200, ge=10, description="resamples for confidence intervals")
    conf_level: float = Field(0.95, gt=0, lt=1)
    feature_scoring: bool = Field(
        False, description="EMA Workbench's extra-trees feature scores beside the indices"
    )


class Outputs(_Strict):
    """Which metrics to keep, and at which steps (``every: k`` or ``every: final``)."""

    metrics: list[str] | None = None
    every: int | Literal["final"] = 1
    panel_every: int | None = Field(
        None, ge=1, description="also keep each run's per-customer panel every k steps"
    )

    @model_validator(mode="after")
    def _known_metrics(self) -> Self:
        unknown = sorted(set(self.metrics or []) - set(FIRM_COLUMNS))
        if unknown:
            raise ValueError(
                f"outputs.metrics: unknown {unknown}; allowed: {', '.join(FIRM_COLUMNS)}"
            )
        if isinstance(self.every, int) and self.every < 1:
            raise ValueError(f"outputs.every: a whole number >= 1 or 'final' (got {self.every})")
        return self

    @property
    def columns(self) -> list[str]:
        """The metrics kept: the listed ones, or all firm metrics."""
        return list(self.metrics) if self.metrics else list(FIRM_COLUMNS)


class Experiment(_Strict):
    """A validated experiment; ``base`` is the scenario with ``overrides`` applied."""

    name: str
    scenario: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    steps: int | None = Field(None, ge=0)
    replications: int = Field(1, ge=1)
    common_random_numbers: bool = True
    seed: int | None = Field(None, ge=0, description="root entropy; None: drawn and stored")
    design: Design
    outputs: Outputs = Outputs()
    analysis: Analysis | None = None
    base: Scenario = Field(exclude=True)

    @property
    def horizon(self) -> int:
        """Weeks per run: ``steps``, or the scenario's."""
        return self.base.steps if self.steps is None else self.steps

    def identity(self) -> str:
        """A hash of everything that decides the runs' results (not the name, the seed
        source, or how a sensitivity study analyses them: a folder can be re-analysed)."""
        content = self.model_dump(mode="json", exclude={"name", "analysis"})
        content["base"] = self.base.model_dump(mode="json")
        text = json.dumps(content, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load(path: str | Path) -> Experiment:
    """Read and validate an experiment file.

    Raises
    ------
    ConfigError
        Missing or invalid file, unknown keys, or design values the scenario rejects.
    """
    path = builtin.resolve(path, "experiment")
    raw = read_yaml(path, "experiment")
    if "scenario" not in raw:
        raise ConfigError(f"{path}: scenario: required (a path into configs/)")
    scenario_path = _resolve(str(raw["scenario"]), path)
    base = load_scenario(scenario_path, raw.get("overrides") or {})
    try:
        experiment = Experiment.model_validate({**raw, "base": base})
    except ValidationError as exc:
        raise ConfigError(_explain_experiment(exc)) from None
    check_design(experiment)
    check_analysis(experiment)
    return experiment


def _resolve(scenario: str, experiment_file: Path) -> Path:
    """The scenario path: relative to the experiment file first, then the working directory."""
    candidate = Path(scenario)
    if candidate.is_absolute():
        tried = [candidate]
    else:
        tried = [experiment_file.resolve().parent / candidate, Path.cwd() / candidate]
    for path in tried:
        if path.is_file():
            return path
    named = builtin.resolve(scenario, "scenario")
    if named.is_file():
        return named
    raise ConfigError(
        f"{experiment_file}: scenario: {scenario} not found; looked at "
        + " and ".join(str(p) for p in dict.fromkeys(tried))
        + f"; {builtin.hint('scenario')}"
    )


def as_experiment(experiment: Experiment | str | Path) -> Experiment:
    """``experiment`` itself if loaded, else :func:`load` of the path or built-in name."""
    return builtin.loaded(experiment, Experiment, load, "experiment", "experiment")


def _explain_experiment(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"{loc}: unknown key")
        elif err["type"] == "union_tag_invalid":
            lines.append(f"{loc}: kind must be one of {', '.join(DESIGN_KINDS)}")
        else:
            lines.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def check_design(experiment: Experiment) -> None:
    """Every design value must make a valid scenario; errors name the design key."""
    design, base = experiment.design, experiment.base
    if isinstance(design, GridDesign):
        trials = [
            (f"design.parameters.{k}", {k: v})
            for k, vals in design.parameters.items()
            for v in vals
        ]
    elif isinstance(design, ListDesign):
        trials = [(f"design.points.{i}", point) for i, point in enumerate(design.points)]
    else:  # LHS and SALib designs: both ends of every range must be valid
        declared = sensitivity_ranges(base)
        trials = []
        for key, bounds in design.ranges.items():
            if bounds is None and key not in declared:
                raise ConfigError(
                    f"design.ranges.{key}: no declared sensitivity range; give [low, high]"
                )
            lo, hi = bounds if bounds is not None else declared[key]
            if not lo < hi:
                raise ConfigError(f"design.ranges.{key}: needs low < high (got [{lo}, {hi}])")
            trials += [(f"design.ranges.{key}", {key: lo}), (f"design.ranges.{key}", {key: hi})]
    for where, overrides in trials:
        for key in overrides:
            check_variable(key, where)
        try:
            base.with_overrides(overrides)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None


SENSITIVITY = ("sobol", "morris", "pawn")


def check_analysis(experiment: Experiment) -> None:
    """A SALib design needs outputs to analyse, and they need what the runs keep."""
    analysis, kind = experiment.analysis, experiment.design.kind
    if kind in SENSITIVITY and analysis is None:
        raise ConfigError(f"analysis.outputs: a {kind} design needs the outputs to analyse")
    if analysis is None:
        return
    firms = experiment.base.firm_names
    for out in analysis.outputs:
        for firm in filter(None, (out.firm, out.minus)):
            if firm not in firms:
                raise ConfigError(
                    f"analysis.outputs.{out.name}: no firm {firm!r}; firms are {', '.join(firms)}"
                )
        kept = experiment.outputs.columns
        if out.metric not in kept:
            raise ConfigError(f"outputs.metrics: must keep {out.metric!r} for output {out.name!r}")
        if (out.over == "mean" or out.overtake) and experiment.outputs.every != 1:
            raise ConfigError(
                f"outputs.every: must be 1 for output {out.name!r} (it needs every step)"
            )


def lhs_ranges(experiment: Experiment) -> dict[str, tuple[float, float]]:
    """The LHS or SALib ranges with declared defaults filled in."""
    if not isinstance(experiment.design, LhsDesign | SensitivityDesign):
        raise TypeError(f"design.kind: {experiment.design.kind} has no ranges")
    declared = sensitivity_ranges(experiment.base)
    return {k: (v if v is not None else declared[k]) for k, v in experiment.design.ranges.items()}


def default_output(experiment: Experiment) -> Path:
    """``results/<experiment name>/``."""
    return Path("results") / experiment.name


__all__ = ["ConfigError", "Experiment", "Scenario", "load"]
