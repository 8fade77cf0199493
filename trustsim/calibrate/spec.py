"""Fit files: the scenario, the parameters to fit with their priors, the targets with
their standard errors, and the method (ODD 8.6).

.. code-block:: yaml

    scenario: ../configs/baseline.yaml
    overrides: {population.size: 1000}
    steps: 52
    parameters:                       # priors default to uniform over the declared range
      market.review_rate: {}
      market.beta_trust: {prior: uniform, low: 0.5, high: 8}
    targets:
      - {statistic: cohort_retention, firm: trust_first, week: 52, value: 0.81, se: 0.02}
      - {statistic: nps, firm: trust_first, week: 52, value: 31, se: 4}
    method: {kind: abc, population: 200, generations: 8, seed: 1}
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

import yaml
from pydantic import Field, ValidationError, model_validator

from trustsim.calibrate.statistics import STATISTICS, Target
from trustsim.config import (
    ConfigError,
    Scenario,
    check_variable,
    load_scenario,
    read_yaml,
    sensitivity_ranges,
)
from trustsim.experiment.spec import _resolve, _Strict


class Prior(_Strict):
    """A uniform prior over [low, high] (default: the key's declared range)."""

    prior: Literal["uniform"] = "uniform"
    low: float | None = None
    high: float | None = None


class TargetSpec(_Strict):
    """One observed value with its standard error."""

    statistic: str
    firm: str | None = None
    week: int | None = Field(None, ge=1)
    window: int | None = Field(None, ge=1)
    value: float
    se: float = Field(gt=0, description="standard error of the value (> 0)")

    @property
    def at(self) -> Target:
        """Where the statistic is read."""
        return Target(self.firm, self.week, self.window)

    @property
    def label(self) -> str:
        """``cohort_retention[trust_first, week 52]``."""
        parts = [p for p in (self.firm, self.week and f"week {self.week}",
                             self.window and f"{self.window}-week window") if p]  # fmt: skip
        return f"{self.statistic}[{', '.join(map(str, parts))}]" if parts else self.statistic


class Method(_Strict):
    """ABC-SMC: particles per generation, generations, the root seed, and where to stop."""

    kind: Literal["abc"] = "abc"
    population: int = Field(200, ge=10)
    generations: int = Field(8, ge=1)
    seed: int = Field(0, ge=0)
    min_epsilon: float = Field(0.0, ge=0, description="stop once the distance is below this")
    replications: int = Field(1, ge=1, description="runs per draw, averaged")


class FitSpec(_Strict):
    """A validated fit file; ``base`` is the scenario with the overrides applied."""

    name: str
    scenario: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    steps: int | None = Field(None, ge=1)
    parameters: dict[str, Prior] = Field(min_length=1)
    targets: list[TargetSpec] = Field(min_length=1)
    method: Method = Method()
    base: Scenario = Field(exclude=True)

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_fit(self)
        return self

    @property
    def horizon(self) -> int:
        """Weeks per run: ``steps``, or the scenario's."""
        return self.base.steps if self.steps is None else self.steps

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Each parameter's prior range, defaults filled in from the declared ranges."""
        declared = sensitivity_ranges(self.base)
        out = {}
        for key, prior in self.parameters.items():
            low, high = declared.get(key, (None, None))
            low = prior.low if prior.low is not None else low
            high = prior.high if prior.high is not None else high
            out[key] = (float(low), float(high))  # type: ignore[arg-type]  # checked
        return out


def check_fit(spec: FitSpec) -> None:
    """Refuse what cannot be fitted, naming the key (did-you-mean where close)."""
    declared = sensitivity_ranges(spec.base)
    for key, prior in spec.parameters.items():
        check_variable(key, f"parameters.{key}")
        if key not in declared:
            close = difflib.get_close_matches(key, list(declared), n=1)
            guess = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"parameters.{key}: not a parameter with a declared range{guess}")
        lo, hi = declared[key]
        low = prior.low if prior.low is not None else lo
        high = prior.high if prior.high is not None else hi
        if not low < high:
            raise ValueError(f"parameters.{key}: needs low < high (got [{low}, {high}])")
        for bound in (low, high):
            try:
                spec.base.with_overrides({key: bound})
            except ConfigError as exc:
                raise ValueError(f"parameters.{key}: prior outside the allowed: {exc}") from None
    firms = [*spec.base.firm_names, "all"]
    for i, target in enumerate(spec.targets):
        where = f"targets.{i}"
        stat = STATISTICS.get(target.statistic)
        if stat is None:
            close = difflib.get_close_matches(target.statistic, list(STATISTICS), n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"{where}.statistic: unknown {target.statistic!r}; {guess}"
                f"`trustsim calibrate --list` shows them all"
            )
        for need in stat.needs:
            if getattr(target, need) is None:
                raise ValueError(f"{where}.{need}: required for {target.statistic}")
        pooled = target.statistic in ("reconsider", "switch_given_reconsider", "churn")
        allowed = firms if pooled else firms[:-1]
        if "firm" in stat.needs and target.firm not in allowed:
            names = ", ".join(allowed)
            raise ValueError(f"{where}.firm: no firm {target.firm!r}; allowed: {names}")
        last = target.week or (52 if not stat.needs else 0)
        if last > spec.horizon:
            raise ValueError(
                f"{where}.week: week {last} is past the runs' horizon ({spec.horizon} steps)"
            )
        if target.window is not None and target.week is not None and target.window > target.week:
            raise ValueError(f"{where}.window: at most week ({target.week})")


def load(path: str | Path | Mapping[str, Any]) -> FitSpec:
    """Read and validate a fit file, or the same keys given as a mapping.

    Raises
    ------
    ConfigError
        Missing or invalid file, an unknown statistic, firm or parameter, an
        unidentified parameter (``market.temperature``), a prior outside the
        declared bounds, ``se <= 0``, a target past the horizon. The message names
        the key.
    """
    if isinstance(path, Mapping):
        raw, path = {"name": "fit", **path}, Path.cwd() / "fit.yaml"
    elif isinstance(path, str | Path):
        path = Path(path)
        raw = read_yaml(path, "fit")
    else:
        raise TypeError(f"load: expected a path or a mapping, got {type(path).__name__}")
    if "scenario" not in raw:
        raise ConfigError(f"{path}: scenario: required")
    if isinstance(raw.get("targets"), str):  # a targets file (trustsim targets writes one)
        listed = yaml.safe_load(_resolve_file(raw["targets"], path).read_text(encoding="utf-8"))
        raw = {**raw, "targets": listed}
    base = load_scenario(_resolve(str(raw["scenario"]), path), raw.get("overrides") or {})
    try:
        return FitSpec.model_validate({"name": path.stem, **raw, "base": base})
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None


def _resolve_file(name: str, fit_file: Path) -> Path:
    """A file named in a fit file: relative to it first, then the working directory."""
    for candidate in (fit_file.resolve().parent / name, Path.cwd() / name, Path(name)):
        if candidate.is_file():
            return candidate
    raise ConfigError(f"{fit_file}: targets: no such file {name}")


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            lines.append(f"{loc}: unknown key")
        elif loc:
            lines.append(f"{loc}: {message}")
        else:
            lines.append(message)
    return "\n".join(lines)


def as_fit(fit: FitSpec | str | Path | Mapping[str, Any]) -> FitSpec:
    """``fit`` itself if loaded, else :func:`load` of the path or mapping."""
    return fit if isinstance(fit, FitSpec) else load(fit)
