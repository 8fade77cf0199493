"""Policy experiment files: policies (levers) x market scenarios (uncertainties).

A policy is a named set of dotted overrides (``warn: {firms.trust_first.warn_rate:
0.9}``); every policy is compared with ``baseline_policy``. ``scenarios`` is an
optional runner design (``grid``, ``list`` or ``lhs``) over market conditions;
the scenario file's own market is always scenario 0 (``base``). The whole
thing becomes one runner experiment whose design is every (scenario, policy)
pair, scenario-major, with common random numbers: replication r of every pair
uses the same random streams, so each policy is paired with the baseline.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, ValidationError, model_validator

from trustsim import builtin
from trustsim.config import ConfigError, Scenario, check_variable, load_scenario, read_yaml
from trustsim.draws import child
from trustsim.experiment.design import design_points
from trustsim.experiment.spec import (
    Experiment,
    GridDesign,
    LhsDesign,
    ListDesign,
    Outputs,
    _explain_experiment,
    _resolve,
    _Strict,
    check_design,
)
from trustsim.metrics import FIRM_COLUMNS
from trustsim.policy.bridge import COUNTS as BRIDGE_COUNTS
from trustsim.recovery import MEASURES as RECOVERY_MEASURES

DEFAULT_OUTCOMES = ("npv", "cumulative_profit", "cohort_retention", "reputation", "share")
BREAKEVEN_METRICS = ("npv", "cumulative_profit")
BASE_SCENARIO = "base"


class PosteriorDesign(_Strict):
    """``n`` markets drawn by weight from a fit's posterior (``trustsim calibrate``):
    ``from`` is the fit's folder (relative to the study file), its last generation."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    kind: Literal["posterior"]
    source: Path = Field(alias="from")
    n: int = Field(ge=1)

    def sample(self, entropy: int) -> list[dict[str, Any]]:
        """The markets: ``n`` particles of the last generation, drawn with replacement
        by weight from the study's own stream (a child of its root entropy)."""
        posterior = read_posterior(self.source)
        final = posterior[posterior["generation"] == posterior["generation"].max()]
        rng = np.random.default_rng(child(np.random.SeedSequence(entropy), POSTERIOR_KEY))
        weights = final["weight"].to_numpy() / final["weight"].sum()
        rows = rng.choice(len(final), size=self.n, p=weights)
        keys = [c for c in final.columns if c not in ("weight", "generation")]
        return [{k: float(final[k].iloc[r]) for k in keys} for r in rows]


POSTERIOR_KEY = 2**31 - 2  # the posterior draw's child of the root, apart from the runs'


def read_posterior(folder: Path) -> pd.DataFrame:
    """A fit folder's ``posterior.parquet``, or one clear error."""
    path = folder / "posterior.parquet"
    if not path.exists():
        raise ConfigError(
            f"scenarios.from: {folder} holds no posterior.parquet; run trustsim calibrate first"
        )
    return pd.read_parquet(path)


class OptimizeSpec(_Strict):
    """``optimize:``, the best setting of one or two levers (``trustsim optimize``): a grid
    of ``points`` values per lever over ``[low, high]``, each a policy run in every market
    on common random numbers, ranked by ``criterion`` on the acting firm's ``metric``."""

    levers: dict[str, tuple[float, float]] = Field(min_length=1, max_length=2)
    points: int = Field(9, ge=3, le=41, description="grid values per lever")
    criterion: Literal["mean", "percentile", "regret"] = "mean"
    percentile: float = Field(10.0, gt=0, lt=100, description="the percentile criterion's q")
    metric: Literal["npv", "cumulative_profit"] = "npv"

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for key, (low, high) in self.levers.items():
            if not low < high:
                raise ValueError(f"optimize.levers.{key}: needs low < high (got [{low}, {high}])")
        return self

    def grid(self) -> list[dict[str, float]]:
        """Every combination of the levers' values (the first lever varies slowest)."""
        axes = [np.linspace(low, high, self.points) for low, high in self.levers.values()]
        mesh = np.meshgrid(*axes, indexing="ij")
        return [
            dict(zip(self.levers, (round(float(m.flat[i]), 10) for m in mesh), strict=True))
            for i in range(mesh[0].size)
        ]

    @staticmethod
    def policy_name(point: Mapping[str, float]) -> str:
        """``price = 1.05`` (``warn_rate = 0.5, price = 1.1`` for two levers)."""
        return ", ".join(f"{k.rsplit('.', 1)[-1]} = {v:.4g}" for k, v in point.items())


ScenarioDesign = Annotated[
    GridDesign | ListDesign | LhsDesign | PosteriorDesign, Field(discriminator="kind")
]


class PolicyExperiment(_Strict):
    """A validated policy experiment; ``base`` is the scenario with ``overrides`` applied."""

    name: str
    scenario: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    steps: int | None = Field(None, ge=1)
    replications: int = Field(8, ge=2, description="paired replications (2+ for an interval)")
    seed: int | None = Field(None, ge=0, description="root entropy; None: drawn and stored")
    policies: dict[str, dict[str, Any]] = Field(min_length=2)
    baseline_policy: str
    scenarios: ScenarioDesign | None = None
    outcomes: list[str] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES), min_length=1)
    optimize: OptimizeSpec | None = None
    base: Scenario = Field(exclude=True)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.baseline_policy not in self.policies:
            raise ValueError(
                f"baseline_policy: {self.baseline_policy!r} is not a policy; "
                f"allowed: {', '.join(self.policies)}"
            )
        unknown = [m for m in self.outcomes if m not in FIRM_COLUMNS]
        if unknown:
            raise ValueError(f"outcomes: unknown {unknown}; allowed: {', '.join(FIRM_COLUMNS)}")
        return self

    @property
    def horizon(self) -> int:
        """Weeks per run: ``steps``, or the scenario's."""
        return self.base.steps if self.steps is None else self.steps

    @property
    def others(self) -> list[str]:
        """The policies compared with the baseline, in file order."""
        return [p for p in self.policies if p != self.baseline_policy]

    def scenario_points(self, entropy: int) -> list[dict[str, Any]]:
        """The market scenarios: ``base`` first, then the design's points."""
        if self.scenarios is None:
            return [{}]
        if isinstance(self.scenarios, PosteriorDesign):
            return [{}, *self.scenarios.sample(entropy)]
        if isinstance(self.scenarios, ListDesign):
            return [{}, *({k: v for k, v in p.items() if k != NAME} for p in self.scenarios.points)]
        return [
            {},
            *design_points(self._scenario_experiment(entropy), np.random.SeedSequence(entropy)),
        ]

    def scenario_labels(self, count: int) -> list[str]:
        """The names of the ``count`` market scenarios: ``base``, then each listed
        point's ``name`` (a list design), else ``s001``, ``s002``, ..."""
        named = self.scenarios.points if isinstance(self.scenarios, ListDesign) else []
        return [
            BASE_SCENARIO if i == 0
            else str(named[i - 1][NAME]) if i <= len(named) and NAME in named[i - 1]
            else f"s{i:03d}"
            for i in range(count)
        ]  # fmt: skip

    @property
    def named(self) -> list[str]:
        """The scenarios given by name (a list design's points with a ``name``)."""
        if not isinstance(self.scenarios, ListDesign):
            return []
        return [str(p[NAME]) for p in self.scenarios.points if NAME in p]

    def scenario_of(self, point: dict[str, Any], policy: str) -> Scenario:
        """The scenario the runs of ``policy`` in market ``point`` run."""
        return self.base.with_overrides({**point, **self.levers(policy)})

    def levers(self, policy: str) -> dict[str, Any]:
        """The overrides ``policy`` applies; its ``events`` join the scenario's own timeline."""
        levers = dict(self.policies[policy])
        if "events" in levers:
            own = [event.model_dump() for event in self.base.events]
            levers["events"] = [*own, *levers["events"]]
        return levers

    def switch_week(self, policy: str) -> int | None:
        """The week a timeline policy changes course (its first ``strategy`` or ``set``
        event), else None."""
        weeks = [int(e["week"]) for e in self.policies[policy].get("events", [])
                 if e.get("kind") in SWITCHES]  # fmt: skip
        return min(weeks) if weeks else None

    def harm_week(self, policy: str) -> int | None:
        """The week of the policy's own first harmful event (a breach, a bad story)."""
        weeks = [int(e["week"]) for e in self.policies[policy].get("events", []) if is_harm(e)]
        return min(weeks) if weeks else None

    def timeline(self, policy: str) -> list[dict[str, Any]]:
        """Every event a run of ``policy`` has: the scenario's own, then the policy's."""
        return list(self.levers(policy).get("events", [e.model_dump() for e in self.base.events]))

    @property
    def kept_metrics(self) -> tuple[str, ...]:
        """What the runs keep besides the outcomes: break-even, and recovery measures."""
        extra = RECOVERY_MEASURES if self.has_harm else ()
        return BREAKEVEN_METRICS + BRIDGE_COUNTS + extra

    @property
    def has_harm(self) -> bool:
        """Whether some run has a breach or a bad viral story to recover from (ODD 8a)."""
        return any(is_harm(e) for policy in self.policies for e in self.timeline(policy))

    def runner_experiment(self, entropy: int) -> Experiment:
        """Every (scenario, policy) pair as one runner experiment, paired by replication."""
        points = [
            {**market, **self.levers(policy)}
            for market in self.scenario_points(entropy)
            for policy in self.policies
        ]
        return Experiment(
            name=self.name,
            scenario=self.scenario,
            steps=self.horizon,
            replications=self.replications,
            common_random_numbers=True,
            seed=entropy,
            design=ListDesign(kind="list", points=points),
            outputs=Outputs(metrics=sorted(set(self.outcomes) | set(self.kept_metrics))),
            base=self.base,
        )

    def _scenario_experiment(self, entropy: int) -> Experiment:
        if self.scenarios is None:
            raise ValueError("scenarios: this policy study has no scenario design")
        design = self.scenarios
        if isinstance(design, ListDesign):  # a point's name is a label, not a key
            points = [{k: v for k, v in p.items() if k != NAME} for p in design.points]
            design = ListDesign(kind="list", points=points)
        return Experiment(
            name=self.name, scenario=self.scenario, seed=entropy, design=design, base=self.base
        )


NAME = "name"  # a listed market scenario's label

SWITCHES = ("strategy", "set")  # the events by which a firm changes course


def is_harm(event: Mapping[str, Any]) -> bool:
    """Whether an event (as written in a file) is one to recover from: a breach or a
    bad viral story."""
    kind = event.get("kind")
    return kind == "breach" or (kind == "viral_review" and event.get("tone", "bad") == "bad")


def load(path: str | Path | Mapping[str, Any]) -> PolicyExperiment:
    """Read and validate a policy experiment file, or the same keys given as a mapping.

    A mapping is what the YAML file would hold (``scenario``, ``policies``,
    ``baseline_policy``, ...); its relative ``scenario`` path is read from the
    working directory, and its ``name`` defaults to ``study``.

    Raises
    ------
    ConfigError
        Missing or invalid file, unknown keys, a policy or scenario value the
        scenario schema rejects, or a key that is both a policy lever and a
        scenario uncertainty. The message names the key.
    """
    if isinstance(path, Mapping):
        raw, path = {"name": "study", **path}, Path.cwd() / "study.yaml"
    elif isinstance(path, str | Path):
        path = builtin.resolve(path, "experiment")
        raw = read_yaml(path, "policy experiment")
    else:
        raise TypeError(
            f"load: expected a path, a built-in name or a mapping, got {type(path).__name__}"
        )
    if "optimize" in raw:
        raw = {**raw, **_optimize_policies(raw, path)}
    for required in ("scenario", "policies", "baseline_policy"):
        if required not in raw:
            raise ConfigError(f"{path}: {required}: required")
    base = load_scenario(_resolve(str(raw["scenario"]), path), raw.get("overrides") or {})
    design = raw.get("scenarios")
    if isinstance(design, Mapping) and design.get("kind") == "posterior" and "from" in design:
        folder = Path(str(design["from"]))  # a fit folder, relative to this file
        if not folder.is_absolute() and (path.resolve().parent / folder).exists():
            folder = (path.resolve().parent / folder).resolve()
        raw = {**raw, "scenarios": {**design, "from": str(folder)}}
    try:
        spec = PolicyExperiment.model_validate({"name": path.stem, **raw, "base": base})
    except ValidationError as exc:
        raise ConfigError(_explain_experiment(exc).replace("design", "scenarios")) from None
    check_policies(spec)
    return spec


def _optimize_policies(raw: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """An optimize study's policies: one per grid value, the first the baseline."""
    for own in ("policies", "baseline_policy"):
        if own in raw:
            raise ConfigError(
                f"{path}: {own}: an optimize study makes its policies from optimize.levers "
                f"(one per grid value); remove {own}"
            )
    try:
        spec = OptimizeSpec.model_validate(raw["optimize"])
    except ValidationError as exc:
        lines = _explain_experiment(exc).splitlines()
        raise ConfigError("\n".join(f"optimize.{line}" for line in lines)) from None
    for key in spec.levers:
        check_variable(key, "optimize.levers")
    policies = {spec.policy_name(point): point for point in spec.grid()}
    return {"policies": policies, "baseline_policy": next(iter(policies))}


def as_study(study: PolicyExperiment | str | Path) -> PolicyExperiment:
    """``study`` itself if loaded, else :func:`load` of the path or built-in name."""
    return builtin.loaded(study, PolicyExperiment, load, "experiment", "study")


def check_policies(spec: PolicyExperiment) -> None:
    """Each policy must make a valid scenario, and levers must not be uncertainties."""
    for key, ends in (spec.optimize.levers if spec.optimize else {}).items():
        for end in ends:
            try:
                spec.base.with_overrides({key: end})
            except ConfigError as exc:
                raise ConfigError(f"optimize.levers.{key}: {exc}") from None
    for name, levers in spec.policies.items():
        for key in levers:
            check_variable(key, f"policies.{name}")
        try:
            spec.base.with_overrides(spec.levers(name))
        except ConfigError as exc:
            raise ConfigError(f"policies.{name}: {exc}") from None
    if spec.scenarios is None:
        return
    points = spec.scenarios.points if isinstance(spec.scenarios, ListDesign) else []
    labels = spec.scenario_labels(len(points) + 1)
    repeated = sorted({n for n in labels if labels.count(n) > 1})
    if repeated:
        raise ConfigError(
            f"scenarios.points: the name {repeated[0]!r} is used twice (or is the base "
            f"market's); each named scenario needs its own name"
        )
    if isinstance(spec.scenarios, PosteriorDesign):
        try:
            spec.base.with_overrides(spec.scenarios.sample(0)[0])
        except ConfigError as exc:
            raise ConfigError(
                f"scenarios.from: a posterior draw is not valid here: {exc}"
            ) from None
    else:
        try:
            check_design(spec._scenario_experiment(0))
        except ConfigError as exc:
            raise ConfigError(str(exc).replace("design.", "scenarios.", 1)) from None
    uncertain = _design_keys(spec.scenarios)
    for name, levers in spec.policies.items():
        both = sorted(uncertain & set(levers))
        if both:
            raise ConfigError(
                f"policies.{name}.{both[0]}: also a scenario uncertainty; a key is either "
                f"a policy lever or a market condition"
            )


def _design_keys(design: GridDesign | ListDesign | LhsDesign | PosteriorDesign) -> set[str]:
    if isinstance(design, PosteriorDesign):
        return set(design.sample(0)[0])
    if isinstance(design, GridDesign):
        return set(design.parameters)
    if isinstance(design, ListDesign):
        return {k for point in design.points for k in point if k != NAME}
    return set(design.ranges)
