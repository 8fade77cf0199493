"""Typed, frozen scenario schema; defaults and their sources in docs/ODD.md (8.1, 8.4).

Every numeric parameter is declared with :func:`param`, which records its
default, its hard bounds (validation) and its *sensitivity range* (the range a
sensitivity analysis explores by default). Defaults live here and only here:
the CLI, the experiment layer and the classroom app read them from the schema.

YAML loading and dotted overrides (``network.kind=barabasi_albert``,
``firms.0.warn_rate=0.5`` or ``firms.trust_first.warn_rate=0.5``) also live
here; every invalid input raises :class:`ConfigError`, whose message names the
key path and what is allowed.
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Self, cast

import numpy as np
import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from trustsim import builtin
from trustsim.business import MAPPED, Business, mapped
from trustsim.network import KINDS, NetworkSpec, WattsStrogatz, keep_fields_of, kinds_with
from trustsim.schema import ConfigError, Section, param, prob

__all__ = [
    "ConfigError",
    "Scenario",
    "ScenarioLike",
    "as_scenario",
    "load_scenario",
    "param",
    "prob",
]


class Population(Section):
    """ODD 2 and 5: how many customers, and their propensity, values and talkativeness."""

    size: int = Field(2000, ge=2, description="number of customers N")
    trust_mean: float = param(
        0.5, 0.3, 0.7, "mean propensity to trust (Beta prior)", ge=0.01, le=0.99
    )
    trust_concentration: float = param(10.0, 4.0, 40.0, "Beta concentration of propensity", ge=0.1)
    value_dims: int = Field(3, ge=1, le=50, description="dimension of value vectors")
    talk_shape: float = param(2.0, 0.5, 8.0, "Gamma shape of talkativeness (mean 1)", ge=0.01)


class Trust(Section):
    """ODD 4: how beliefs learn (asymmetry, buffer, forgetting) and combine into trust."""

    weakest_link: float = param(
        -2.0, -8.0, 1.0, "power-mean exponent rho of cognitive trust", le=1.0
    )
    eta_up: float = prob(0.10, 0.02, 0.3, "learning rate toward better evidence")
    eta_down: float = prob(0.30, 0.1, 0.6, "learning rate toward worse evidence")
    buffer: float = prob(0.5, 0.0, 0.9, "trust buffer: bad news discounted by 1 - buffer*T")
    omega0: float = prob(0.5, 0.3, 0.7, "weight of cognitive trust at zero market risk")
    w_id: float = prob(0.3, 0.0, 0.6, "weight of identification in affective trust")
    forgetting: float = prob(0.0, 0.0, 0.05, "weekly drift of beliefs toward the prior")


class Bank(Section):
    """ODD 4: the emotional bank account's deposits, withdrawals and decay."""

    decay: float = prob(0.02, 0.0, 0.1, "weekly decay of the emotional bank balance")
    loss_aversion: float = param(2.25, 1.0, 4.0, "weight of a withdrawal vs a deposit", ge=0.0)
    scale: float = param(
        2.0, 0.5, 5.0, "balance at which affect saturates (sigmoid scale)", ge=1e-6
    )
    d_warn: float = param(1.0, 0.0, 2.0, "deposit when warned", ge=0.0)
    d_extra: float = param(0.5, 0.0, 1.0, "deposit when the promise is exceeded", ge=0.0)
    d_recovery: float = param(1.0, 0.0, 2.0, "deposit when a complaint is resolved", ge=0.0)
    d_care: float = param(0.5, 0.0, 1.0, "deposit on a proactive care contact", ge=0.0)
    d_broken: float = param(0.5, 0.0, 1.0, "withdrawal when a promise is broken", ge=0.0)
    d_exploit: float = param(2.0, 0.0, 4.0, "withdrawal on a discovered exploitation", ge=0.0)
    d_ignored: float = param(1.0, 0.0, 2.0, "withdrawal when a complaint is ignored", ge=0.0)
    d_breach: float = param(1.0, 0.0, 2.0, "withdrawal on a data breach", ge=0.0)


class Market(Section):
    """ODD 7: the market's conditions: events, search, awareness, choice and money."""

    risk: float = prob(0.3, 0.0, 1.0, "cost and irreversibility of a bad service")
    need_rate: float = prob(0.5, 0.2, 0.9, "lambda0: weekly probability of a need")
    loyalty: float = param(0.5, 0.0, 1.0, "how much trust raises purchase frequency", ge=0.0)
    mistake_rate: float = prob(0.1, 0.02, 0.3, "P(costly-mistake opportunity) per encounter")
    discovery: float = prob(0.3, 0.05, 0.8, "P(customer discovers an exploited mistake)")
    tolerance: float = param(0.1, 0.02, 0.2, "zone of tolerance around the promise", ge=0.0)
    failure_threshold: float = prob(0.5, 0.3, 0.6, "quality below which service fails")
    complaint_rate: float = prob(0.5, 0.2, 0.9, "P(complain | failure)")
    breach_rate: float = prob(0.01, 0.0, 0.05, "weekly breach hazard at zero protection")
    review_rate: float = prob(
        0.007, 0.0, 0.1, "weekly P(a customer considers the market) (calibrated, ODD 8.4)"
    )
    initial_awareness: float = prob(
        0.5, 0.2, 0.9, "P(a customer knows a given firm at t = 0; customers know their provider)"
    )
    ad_reach: float = prob(
        0.05, 0.01, 0.15, "weekly P(an advert makes a customer aware of the firm), per unit"
    )
    warn_search: float = prob(
        0.12, 0.0, 0.5, "extra P(considering) after a warning (calibrated, ODD 8.4)"
    )
    failure_search: float = prob(0.2, 0.0, 0.5, "extra P(considering) after a failure")
    p_ad: float = prob(0.01, 0.001, 0.05, "Bass innovation: external hazard of prospects")
    q_wom: float = param(0.2, 0.0, 0.6, "Bass imitation: weight of adopting neighbours", ge=0.0)
    ad_effect: float = param(1.0, 0.0, 3.0, "how much advertising multiplies p_ad", ge=0.0)
    first_impression: float = prob(
        0.5, 0.0, 1.0, "pull of advertised promise on initial ability beliefs"
    )
    outside_option: bool = True
    u_out: float = param(2.0, 0.5, 3.5, "utility of the outside option (leave/stay out)")
    beta_trust: float = param(
        2.5, 1.0, 4.0, "weight of overall trust in choice (calibrated, ODD 8.4)"
    )
    social_proof: bool = Field(
        True,
        description="false: no social signal in choice (neighbours' share, rating, popularity), "
        "as in MusicLab's independent condition",
    )
    beta_proof: float = param(1.0, 0.0, 4.0, "weight of neighbours' share (social proof)")
    beta_rating: float = param(0.5, 0.0, 2.0, "weight of the public rating (stars vs mean)")
    beta_popularity: float = param(
        0.0, 0.0, 4.0, "weight of the firm's displayed share of all customers (MusicLab counts)"
    )
    beta_price: float = param(
        9.0, 3.5, 15.0, "weight of log price relative to the reference (calibrated, ODD 8.4)"
    )
    reference_price: float = param(
        1.0, 0.5, 2.0, "price at which price neither helps nor hurts a firm", ge=1e-6
    )
    switching_cost: float = param(
        1.5, 0.0, 3.0, "utility bonus of the current provider (calibrated, ODD 8.4)"
    )
    temperature: float = Field(
        1.0,
        gt=0.0,
        description="logit scale, fixed at 1: it only rescales every beta, so no data can "
        "identify it and no design may vary it (ODD 7.5)",
    )
    discount_rate: float = param(0.08, 0.0, 0.2, "yearly discount rate for NPV", ge=0.0)
    steps_per_year: int = Field(52, ge=1, description="steps in a year (52: weekly)")


class WordOfMouth(Section):
    """ODD 7.4: who tells whom, how often, and with what weight."""

    p_positive: float = prob(0.3, 0.05, 0.6, "P(tell a neighbour | good story)")
    p_negative: float = prob(0.6, 0.1, 1.0, "P(tell a neighbour | bad story)")
    p_story: float = prob(
        0.09, 0.04, 0.2, "P(a satisfying encounter becomes a mild story) (calibrated, ODD 8.4)"
    )
    weight: float = prob(0.3, 0.05, 0.8, "weight of a message relative to own experience")


class News(Section):
    """ODD 7.1: how far news of a data breach travels, and its weight."""

    reach: float = prob(0.5, 0.0, 1.0, "P(a non-customer hears of a breach)")
    weight: float = prob(0.5, 0.1, 1.0, "weight of breach news relative to own experience")


class Reviews(Section):
    """ODD 7.4: who posts reviews, with how many stars, and the public rating."""

    enabled: bool = Field(True, description="false: a market without a review platform")
    p_post: float = prob(0.02, 0.005, 0.1, "P(a buyer posts a review | a 3-star experience)")
    extremity: float = param(
        1.5, 0.5, 3.0, "posting rises by this much per star away from 3", ge=0.0
    )
    negativity: float = param(
        2.0, 1.0, 4.0, "posting of 1- and 2-star experiences relative to 4 and 5", ge=1.0
    )
    disconfirmation: float = param(
        0.25, 0.0, 0.6, "weight of (delivered - promised) in experienced satisfaction", ge=0.0
    )
    neutral: float = prob(0.55, 0.45, 0.65, "experienced satisfaction worth 3 stars")
    star_slope: float = param(8.0, 5.0, 12.0, "stars per unit of experienced satisfaction", ge=0.0)
    prior_mean: float = param(3.5, 2.0, 4.5, "Bayesian-average prior stars", ge=1.0, le=5.0)
    prior_weight: float = param(10.0, 1.0, 50.0, "Bayesian-average prior weight", ge=0.1)
    window: int | None = Field(None, ge=1, description="count only the last W steps of reviews")


class Survey(Section):
    """The NPS question "how likely are you to recommend ...?" answered on 0..10."""

    nps_slope: float = param(
        3.0, 2.0, 6.0, "answer points per unit of trust (calibrated, ODD 8.4)", ge=0.0
    )
    nps_shift: float = param(
        6.4, 5.5, 7.5, "answer = round(shift + slope T + noise); calibrated, ODD 8.4"
    )
    nps_noise: float = param(1.5, 0.5, 3.0, "sd of the answer's noise (scale points)", ge=0.05)


Strategy = Literal["short_term", "trust_first", "custom"]
WarnTarget = Literal["all", "trusting", "tenured"]  # the order is rules.WARN_TARGETS

PRESETS: dict[str, dict[str, float]] = {
    # ODD 2 (firms) and 8.1. Same quality, price and cost: only trust policy differs.
    "short_term": {
        "promise": 0.85,
        "warn_rate": 0.0,
        "recovery": 0.2,
        "data_protection": 0.3,
        "care_rate": 0.0,
        "advertising": 0.8,
    },
    "trust_first": {
        "promise": 0.65,
        "warn_rate": 0.9,
        "recovery": 0.8,
        "data_protection": 0.8,
        "care_rate": 0.05,
        "advertising": 0.2,
    },
    "custom": {},
}


class Firm(Section):
    """ODD 7: one firm's strategy (a preset plus overrides), prices and costs."""

    name: str = Field(min_length=1)
    strategy: Strategy = "custom"
    quality: float = prob(0.7, 0.5, 0.9, "mean delivered quality")
    quality_concentration: float = param(20.0, 5.0, 60.0, "Beta concentration of quality", ge=0.1)
    promise: float = prob(0.75, 0.5, 0.95, "quality level promised in marketing")
    warn_rate: float = prob(0.0, 0.0, 1.0, "P(warn about a costly mistake)")
    warn_target: WarnTarget = Field(
        "all", description="whom to warn: all, trusting (warn_min_trust) or tenured"
    )
    warn_min_trust: float = prob(0.5, 0.0, 1.0, "trusting: warn only if trust >= this")
    warn_min_tenure: int = Field(13, ge=0, description="tenured: warn only after this many weeks")
    recovery: float = prob(0.5, 0.0, 1.0, "P(complaint resolved)")
    data_protection: float = prob(0.5, 0.0, 1.0, "cuts the breach hazard")
    care_rate: float = prob(0.0, 0.0, 0.2, "weekly P(proactive care contact)")
    advertising: float = prob(0.5, 0.0, 1.0, "advertising intensity")
    price: float = param(1.0, 0.5, 2.0, "price per encounter", ge=0.0)
    unit_cost: float = param(0.6, 0.2, 0.9, "cost per encounter", ge=0.0)
    mistake_revenue: float = param(
        1.2, 0.4, 2.4, "revenue from an exploited mistake (range: 1 to 6 x default margin)", ge=0.0
    )
    warn_cost: float = param(0.05, 0.0, 0.3, "cost of a warning contact", ge=0.0)
    recovery_cost: float = param(0.5, 0.1, 2.0, "cost of resolving a complaint", ge=0.0)
    care_cost: float = param(0.2, 0.05, 1.0, "cost of a care contact", ge=0.0)
    breach_cost: float = param(2.0, 0.5, 10.0, "cost of a breach per customer", ge=0.0)
    protection_cost: float = param(
        0.02, 0.0, 0.1, "weekly cost per customer per unit of protection", ge=0.0
    )
    ad_cost: float = param(
        0.01, 0.0, 0.05, "weekly cost per capita per unit of advertising", ge=0.0
    )
    initial_share: float = prob(0.25, 0.0, 0.5, "share of customers at t = 0")
    values: tuple[float, ...] | None = Field(None, description="fixed value vector")

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            preset = PRESETS.get(str(data.get("strategy", "custom")), {})
            data = {**preset, **data}
        return data


# --------------------------------------------------------------------------- events


class Event(Section):
    """ODD 8a: something that happens at the start of week ``week`` (before its breach
    phase), in both engines. Weeks count from 1: week w makes the timeseries row w."""

    week: int = Field(ge=1, description="the week it happens, 1 to the horizon (steps)")


class BreachEvent(Event):
    """A data breach at ``firm`` this week, whatever its hazard (ODD 7.1)."""

    kind: Literal["breach"]
    firm: str


class ViralReviewEvent(Event):
    """A story about ``firm`` read by a share ``reach`` of all customers, with
    ``VIRAL_REVIEWS`` one-star (bad) or five-star (good) reviews on the platform."""

    kind: Literal["viral_review"]
    firm: str
    tone: Literal["bad", "good"] = "bad"
    reach: float | None = Field(
        None, ge=0.0, le=1.0, description="share of customers who read it (default news.reach)"
    )


class SetEvent(Event):
    """A dotted key takes ``value`` from this week on (a price cut, a new warn rate)."""

    kind: Literal["set"]
    key: str
    value: Any


class StrategyEvent(Event):
    """``firm`` adopts the ``preset`` strategy, with ``overrides`` of its fields."""

    kind: Literal["strategy"]
    firm: str
    preset: Strategy
    overrides: dict[str, Any] = Field(default_factory=dict)


class EnterEvent(Event):
    """``firm`` enters the market. Written with the firm inline (``firm: {name: ...,
    strategy: ...}``); the firm is then listed last in ``firms`` and the event keeps
    its name. Before its entry it is out of the market: no customers, adverts or costs."""

    kind: Literal["enter"]
    firm: str


class ExitEvent(Event):
    """``firm`` leaves the market: its customers become prospects (churns and exits)."""

    kind: Literal["exit"]
    firm: str


AnyEvent = Annotated[
    BreachEvent | ViralReviewEvent | SetEvent | StrategyEvent | EnterEvent | ExitEvent,
    Field(discriminator="kind"),
]
EVENT_CLASSES: dict[str, type[Event]] = {
    "breach": BreachEvent, "viral_review": ViralReviewEvent, "set": SetEvent,
    "strategy": StrategyEvent, "enter": EnterEvent, "exit": ExitEvent,
}  # fmt: skip
EVENT_KINDS = tuple(EVENT_CLASSES)
LIVE_SECTIONS = ("trust", "bank", "market", "wom", "news", "reviews", "survey", "firms")
"""The sections a ``set`` event may change: population and network shape the world once."""


def _inline_entrants(data: dict[str, Any]) -> dict[str, Any]:
    """Move each ``enter`` event's inline firm to the end of ``firms``, leaving its name,
    so an entrant is a firm like any other (tables, overrides) that starts outside the
    market. An entrant holds no customers at t = 0: its ``initial_share`` defaults to 0."""
    events = data.get("events")
    if not isinstance(events, list | tuple):
        return data
    data = {**data, "events": list(events)}
    firms = None
    for i, event in enumerate(data["events"]):
        if isinstance(event, Mapping) and event.get("kind") == "enter":
            firm = event.get("firm")
            if isinstance(firm, Mapping):
                if firms is None:
                    given = data.get("firms", default_firms())
                    firms = data["firms"] = list(given)
                firms.append({"initial_share": 0.0, **firm})
                data["events"][i] = {**event, "firm": firm.get("name")}
    return data


DEFAULT_FIRMS = (
    Firm(name="short_term", strategy="short_term"),
    Firm(name="trust_first", strategy="trust_first"),
)


def default_firms() -> list[dict[str, Any]]:
    """The default firms as a file would write them, by name and strategy only, so
    that every other field is still unset: an override, a preset or a business figure
    (ODD 8.7) may fill it, and the schema's default otherwise."""
    return [{"name": f.name, "strategy": f.strategy} for f in DEFAULT_FIRMS]


class Scenario(Section):
    """A whole world: population, network, trust dynamics, market, talk and firms."""

    name: str = "scenario"
    steps: int = Field(156, ge=0, description="horizon in steps (weeks)")
    population: Population = Population()
    network: NetworkSpec = Field(default_factory=WattsStrogatz)
    trust: Trust = Trust()
    bank: Bank = Bank()
    market: Market = Market()
    wom: WordOfMouth = WordOfMouth()
    news: News = News()
    reviews: Reviews = Reviews()
    survey: Survey = Survey()
    firms: tuple[Firm, ...] = Field(DEFAULT_FIRMS, min_length=1)
    events: tuple[AnyEvent, ...] = Field((), description="the timeline (ODD 8a)")
    business: Business | None = Field(None, description="the market in business terms (ODD 8.7)")

    @model_validator(mode="before")
    @classmethod
    def _entrants(cls, data: Any) -> Any:
        return _inline_entrants(dict(data)) if isinstance(data, Mapping) else data

    @model_validator(mode="after")
    def _check_whole(self) -> Self:
        names = [f.name for f in self.firms]
        if len(set(names)) != len(names):
            raise ValueError(f"firms: names must be unique (got {names})")
        total = sum(f.initial_share for f in self.firms)
        if total > 1 + 1e-12:
            raise ValueError(f"firms: initial_share must sum to at most 1 (got {total:g})")
        need, have = memory_needed(self.population.size, len(self.firms)), physical_memory()
        if need > have:
            most = int(self.population.size * have / need)
            raise ValueError(
                f"population.size: {self.population.size:,} customers need about "
                f"{need / 2**30:,.1f} GiB of memory; this machine has {have / 2**30:,.1f} GiB "
                f"(at most about {most:,} customers here)"
            )
        for i, f in enumerate(self.firms):
            if f.values is not None and len(f.values) != self.population.value_dims:
                raise ValueError(
                    f"firms.{i}.values: needs population.value_dims = "
                    f"{self.population.value_dims} numbers (got {len(f.values)})"
                )
        check_events(self)
        if self.business is not None and self.business.firm not in (None, *names):
            raise ValueError(
                f"business.firm: no firm {self.business.firm!r}; firms: {', '.join(names)}"
            )
        return self

    def in_market(self, week: int) -> np.ndarray:
        """Which firms are in the market during ``week`` (0: the initial state): all
        but those whose ``enter`` event is later and those whose ``exit`` came earlier."""
        present = np.ones(len(self.firms), dtype=bool)
        names = self.firm_names
        for event in self.events:
            if isinstance(event, EnterEvent) and week < event.week:
                present[names.index(event.firm)] = False
            elif isinstance(event, ExitEvent) and week >= event.week:
                present[names.index(event.firm)] = False
        return present

    def events_in(self, week: int) -> list[tuple[int, AnyEvent]]:
        """The events of ``week``, with their positions in ``events``, in list order."""
        return [(i, e) for i, e in enumerate(self.events) if e.week == week]

    @property
    def firm_names(self) -> list[str]:
        """The firms' names, in order."""
        return [f.name for f in self.firms]

    def with_overrides(self, overrides: Mapping[str, object]) -> Scenario:
        """A new validated scenario with dotted-key overrides applied."""
        return build_scenario(self.model_dump(), overrides)


def check_events(scenario: Scenario) -> None:
    """Refuse a timeline that cannot happen, naming the entry (``events.3.firm: ...``):
    a week past the horizon, an unknown firm or key, an invalid value, a firm that
    enters twice or leaves before it entered, an event at a firm out of the market."""
    names = scenario.firm_names
    entry: dict[str, int] = {}
    leave: dict[str, int] = {}
    for i, event in enumerate(scenario.events):
        where = f"events.{i}"
        if event.week > scenario.steps:
            raise ValueError(
                f"{where}.week: week {event.week} is outside the horizon (1 to steps = "
                f"{scenario.steps})"
            )
        firm = getattr(event, "firm", None)
        if firm is not None and firm not in names:
            raise ValueError(f"{where}.firm: no firm {firm!r}; firms: {', '.join(names)}")
        if isinstance(event, EnterEvent | ExitEvent):
            seen = entry if isinstance(event, EnterEvent) else leave
            if event.firm in seen:
                raise ValueError(f"{where}: {event.firm} can {event.kind} once (a second event)")
            seen[event.firm] = event.week
    for i, event in enumerate(scenario.events):
        where = f"events.{i}"
        if isinstance(event, EnterEvent):
            share = scenario.firms[names.index(event.firm)].initial_share
            if share > 0:
                raise ValueError(
                    f"{where}.firm: an entering firm has no customers before it enters; "
                    f"its initial_share must be 0 (got {share:g})"
                )
        if isinstance(event, ExitEvent) and event.week <= entry.get(event.firm, 0):
            raise ValueError(
                f"{where}.week: {event.firm} exits in week {event.week}, not after it "
                f"enters (week {entry[event.firm]})"
            )
        firm = getattr(event, "firm", None)
        if firm is not None and not isinstance(event, EnterEvent | ExitEvent):
            if not scenario.in_market(event.week)[names.index(firm)]:
                raise ValueError(f"{where}.firm: {firm} is not in the market in week {event.week}")
        changes = event_overrides(event)
        if changes:
            _check_changes(scenario, where, changes)


def event_overrides(event: Event) -> dict[str, Any]:
    """The dotted overrides a ``set`` or ``strategy`` event applies (none for others)."""
    if isinstance(event, SetEvent):
        return {event.key: event.value}
    if isinstance(event, StrategyEvent):
        prefix = f"firms.{event.firm}"
        given = {f"{prefix}.{key}": value for key, value in event.overrides.items()}
        return {f"{prefix}.strategy": event.preset, **given}
    return {}


def _check_changes(scenario: Scenario, where: str, changes: dict[str, Any]) -> None:
    """The changes must name live keys and give valid values (checked on the scenario
    without its timeline, so the check does not recurse)."""
    for key in changes:
        section = key.split(".")[0]
        if section not in LIVE_SECTIONS:
            raise ValueError(
                f"{where}.key: {key} cannot change during a run; keys of "
                f"{', '.join(LIVE_SECTIONS)} can"
            )
    try:
        build_scenario({**scenario.model_dump(), "events": []}, changes)
    except ConfigError as exc:
        raise ValueError(f"{where}: {exc}") from None


def memory_needed(customers: int, firms: int) -> int:
    """Bytes a run needs, roughly: 660 per customer with two firms (measured at N = 10^6,
    benchmarks/bench_model.py), most of it per firm."""
    return customers * (400 + 130 * firms)


def physical_memory() -> int:
    """This machine's physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# --------------------------------------------------------------------------- loading

MAX_FILE_BYTES = 1_000_000  # configs are small; anything larger is a mistake
MAX_NODES = 100_000  # YAML aliases can expand exponentially ("billion laughs")


def load_scenario(path: str | Path, overrides: Mapping[str, object] | None = None) -> Scenario:
    """Read a scenario YAML file (or a built-in scenario), apply dotted overrides, validate.

    Parameters
    ----------
    path : str or Path
        A scenario YAML file (``configs/baseline.yaml``) or the name of a
        built-in scenario (``baseline``; ``trustsim scenarios`` lists them).
    overrides : mapping, optional
        Dotted keys and values, applied before validation:
        ``{"market.review_rate": 0.01, "firms.trust_first.price": 1.1}``.

    Returns
    -------
    Scenario
        The frozen, validated scenario.

    Raises
    ------
    ConfigError
        The file is missing, not YAML, or invalid; the message names the key.
    TypeError
        ``path`` is neither a ``str`` nor a ``Path``.
    """
    resolved = builtin.resolve(path, "scenario")
    raw = read_yaml(resolved, "scenario")
    check_business_file(raw, str(resolved))
    return build_scenario(raw, overrides)


ScenarioLike = Scenario | str | Path
"""What the entry points take for a scenario: a loaded one, a YAML path or a built-in name."""


def as_scenario(scenario: ScenarioLike, where: str = "scenario") -> Scenario:
    """``scenario`` itself if loaded, else :func:`load_scenario` of the path or name."""
    return builtin.loaded(scenario, Scenario, load_scenario, "scenario", where)


def read_yaml(path: Path, what: str) -> dict[str, Any]:
    """A YAML mapping from ``path``, its ``name`` defaulting to the file's stem.

    Refuses, with one message naming the file: a missing file, a directory, a
    file over 1 MB, a file that is not UTF-8 text, YAML whose aliases expand
    to more than 100,000 values (a "billion laughs" file), and an empty file.
    """
    text = _read_text(path, what)
    try:
        size = expanded_size(yaml.compose(text))
        if size > MAX_NODES:
            raise ConfigError(
                f"{path}: its YAML aliases expand to {size:,} values (at most {MAX_NODES:,}); "
                f"aliases can expand exponentially, so this file is refused"
            )
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if raw is None:
        raise ConfigError(
            f"{path}: empty; write at least one key (for instance population.size: 1000), "
            f"or start from configs/baseline.yaml"
        )
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a {what} file must be a mapping of keys to values")
    raw.setdefault("name", path.stem)
    return raw


def expanded_size(root: yaml.Node | None) -> int:
    """How many values a YAML document holds once its aliases are expanded, counted
    without expanding them (an alias is the same node object again)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) not in sizes:
            children: list[yaml.Node] = []
            if isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            elif isinstance(node, yaml.MappingNode):
                children = [part for pair in node.value for part in pair]
            sizes[id(node)] = 1 + sum(size(child) for child in children)
        return sizes[id(node)]

    return 0 if root is None else size(root)


def _read_text(path: Path, what: str) -> str:
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; give a {what} YAML file")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: larger than 1 MB; not a {what} file")
        data = path.read_bytes()
    except FileNotFoundError:
        known = f" ({builtin.hint(what)})" if what in builtin.KINDS else ""
        raise ConfigError(f"{path}: no such {what} file{known}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        if b"\0" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file; a {what} file is YAML text") from None


def build_scenario(
    raw: Mapping[str, Any], overrides: Mapping[str, object] | None = None
) -> Scenario:
    """Validate a raw mapping (after dotted overrides) into a :class:`Scenario`."""
    data = _plain(raw)
    # a new network kind first: it drops the old kind's parameters, not the ones given here
    ordered = sorted((overrides or {}).items(), key=lambda item: item[0] != "network.kind")
    for key, value in ordered:
        if key.removeprefix("business.") in MAPPED:
            raise ConfigError(
                f"{key}: read when the scenario file is built (ODD 8.7); vary the parameter it "
                f"sets, {MAPPED[key.removeprefix('business.')]}, instead"
            )
        set_dotted(data, key, value)
    try:
        scenario = Scenario.model_validate(data)
        if scenario.business is None:
            return scenario
        given = "business" in (overrides or {})  # a whole new section: its figures win
        stated = scenario if given else _as_stated(raw, scenario)
        return Scenario.model_validate(_with_business(_inline_entrants(data), stated, given))
    except ValidationError as exc:
        raise ConfigError(_explain(exc, data)) from None


def _as_stated(raw: Mapping[str, Any], scenario: Scenario) -> Scenario:
    """The market as its file states it, before overrides: the business figures are
    mapped at the file's own price and purchase rate (ODD 8.7), so a lever that later
    changes the price moves neither the unit cost nor what an overage earns."""
    try:
        return Scenario.model_validate(_plain(raw))
    except ValidationError:  # only the overrides make the file valid
        return scenario


def _with_business(data: dict[str, Any], scenario: Scenario, force: bool) -> dict[str, Any]:
    """``data`` with each parameter the business figures set (ODD 8.7), where ``data``
    does not set it itself (a built scenario sets them all, so rebuilding keeps them),
    or everywhere if ``force`` (the section was just given as an override)."""
    if "firms" not in data:
        data["firms"] = default_firms()
    firms = {f.get("name"): f for f in data["firms"] if isinstance(f, dict)}
    for key, value in mapped(scenario).items():
        section, *rest = key.split(".")
        node = firms.get(rest[0]) if section == "firms" else data.setdefault(section, {})
        if isinstance(node, dict) and (force or rest[-1] not in node):
            node[rest[-1]] = value
    return data


def check_business_file(raw: Mapping[str, Any], where: str) -> None:
    """A file may state a business figure or set the parameter it maps to, not both."""
    business = raw.get("business")
    if not isinstance(business, Mapping):
        return
    for figure, target in MAPPED.items():
        if business.get(figure) is None:
            continue
        section, *rest = target.split(".")
        nodes = raw.get(section)
        if section == "firms":
            given = any(isinstance(f, Mapping) and rest[-1] in f for f in (nodes or []))
        else:
            given = isinstance(nodes, Mapping) and rest[-1] in nodes
        if given:
            raise ConfigError(
                f"{where}: business.{figure} sets {target} (ODD 8.7), and the file sets it "
                f"too; give one of them"
            )


def parse_assignment(text: str) -> tuple[str, object]:
    """Parse ``key=value`` from the command line; the value is read as YAML."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected key=value, e.g. network.kind=complete")
    return key.strip(), yaml.safe_load(value)


def set_dotted(data: dict[str, Any], key: str, value: object) -> None:
    """Set ``data[a][b][c] = value`` for ``key = "a.b.c"``.

    A list is indexed by position or, for ``firms``, by firm name.
    """
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        path = ".".join(parts[: depth + 1])
        if part == "firms" and "firms" not in node and depth == 0:
            node["firms"] = default_firms()
        child = _child(node, part, path)
        if child is None:
            child = node[part] = {}
        node = child
    last = parts[-1]
    if last == "strategy" and isinstance(node, dict):
        _drop_preset(node)
    if parts == ["network", "kind"] and isinstance(node, dict):
        keep_fields_of(node, value)
    if isinstance(node, list):
        node[_list_index(node, last, key)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError(f"{key}: {'.'.join(parts[:-1])} is a value, not a section")


def _plain(obj: Any) -> Any:
    """A deep copy with tuples as lists, so dumped scenarios can be edited."""
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return copy.copy(obj)


def preset_overrides(firm: str, strategy: str) -> dict[str, float]:
    """Dotted overrides that set every field of ``strategy``'s preset on ``firm``
    (``firms.1`` or ``firms.trust_first``), replacing earlier customisations."""
    return {f"{firm}.{key}": value for key, value in PRESETS[strategy].items()}


def _drop_preset(firm: dict[str, Any]) -> None:
    """Forget the values a firm took from its old preset, so a new one applies."""
    for key, value in PRESETS.get(str(firm.get("strategy", "custom")), {}).items():
        if firm.get(key) == value:
            del firm[key]


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, list):
        return node[_list_index(node, part, path)]
    if not isinstance(node, dict):
        raise ConfigError(f"{path}: cannot descend into a value")
    return node.get(part)


def _list_index(items: list[Any], part: str, path: str) -> int:
    if part.lstrip("-").isdigit() and -len(items) <= int(part) < len(items):
        return int(part)
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == part:
            return i
    names = [str(it.get("name")) for it in items if isinstance(it, dict)]
    raise ConfigError(
        f"{path}: no such entry; use an index 0..{len(items) - 1} or a name ({', '.join(names)})"
    )


def _explain(exc: ValidationError, data: Mapping[str, Any]) -> str:
    """One line per problem, each naming the dotted key and what is allowed."""
    lines = []
    for err in exc.errors():
        loc = ".".join(_named(err["loc"], data))
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            kinds = ", ".join(EVENT_KINDS if err["loc"][:1] == ("events",) else KINDS)
            got = err["input"].get("kind") if isinstance(err["input"], dict) else None
            lines.append(f"{loc}.kind: unknown kind {got!r}; allowed: {kinds}")
            continue
        if err["type"] == "extra_forbidden":
            fields = _fields_at(err["loc"][:-1])
            close = difflib.get_close_matches(str(err["loc"][-1]), fields, n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            allowed = ", ".join(sorted(fields))
            owner = _network_kind_of(err["loc"])
            lines.append(f"{loc}: unknown key; {guess}allowed keys here: {allowed}{owner}")
            continue
        if err["type"] == "missing":
            doc = _description(loc)
            lines.append(f"{loc}: required" + (f" ({doc})" if doc else ""))
            continue
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        where = f"{loc}: " if loc else ""
        lines.append(f"{where}{err['msg'].removeprefix('Value error, ')}{shown}")
    return "\n".join(lines)


def _network_kind_of(loc: tuple[Any, ...]) -> str:
    """For a network parameter given to the wrong kind: which kinds use it."""
    if loc[:1] != ("network",):
        return ""
    owners = kinds_with(str(loc[-1]))
    return f" ({loc[-1]} is a parameter of network.kind={' or '.join(owners)})" if owners else ""


def _description(key: str) -> str:
    try:
        return str(_field(key).description or "")
    except (AttributeError, KeyError, TypeError):
        return ""


def _named(loc: tuple[Any, ...], data: Mapping[str, Any]) -> list[str]:
    """A location with firms named by name (``firms.trust_first.promise``), not index."""
    if loc[:1] == ("network",) and len(loc) > 1 and loc[1] in KINDS:
        loc = loc[:1] + loc[2:]  # pydantic names the union member; users know the section
    if loc[:1] == ("events",) and len(loc) > 2 and loc[2] in EVENT_CLASSES:
        loc = loc[:2] + loc[3:]
    parts = [str(p) for p in loc]
    if len(loc) > 1 and loc[0] == "firms" and isinstance(loc[1], int):
        firms = data.get("firms")
        if isinstance(firms, list) and loc[1] < len(firms) and isinstance(firms[loc[1]], dict):
            parts[1] = str(firms[loc[1]].get("name", loc[1]))
    return parts


def _fields_at(loc: tuple[Any, ...]) -> list[str]:
    if loc[:1] == ("network",):
        return list(KINDS[str(loc[1])].model_fields) if len(loc) > 1 else ["kind"]
    if loc[:1] == ("events",):
        return list(EVENT_CLASSES[str(loc[2])].model_fields) if len(loc) > 2 else ["kind"]
    model: type[BaseModel] = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        ann = model.model_fields[str(part)].annotation
        inner = getattr(ann, "__args__", (ann,))[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner
        elif isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
    return list(model.model_fields)


# --------------------------------------------------------------------------- ranges


# Keys that no design (sweep, sample, regime map, fit, EMA model) may vary, and why.
UNIDENTIFIED: dict[str, str] = {
    "market.temperature": "it only rescales every beta, so no data can identify it; it is "
    "fixed at 1 and every beta is in logit utility units (ODD 7.5); vary the betas instead",
}


def check_variable(key: str, where: str) -> None:
    """Refuse a design that varies a key in :data:`UNIDENTIFIED`, naming the reason."""
    if key in UNIDENTIFIED:
        raise ConfigError(f"{where}: {key} cannot be varied: {UNIDENTIFIED[key]}")


def sensitivity_ranges(scenario: Scenario | None = None) -> dict[str, tuple[float, float]]:
    """Declared sensitivity ranges by dotted key (firms by index and by name)."""
    scenario = scenario or Scenario()
    out: dict[str, tuple[float, float]] = {}
    for section, model in _sections(scenario):
        for name, info in type(model).model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and "sensitivity" in extra:
                bounds = extra["sensitivity"]
                lo, hi = cast(list[float], bounds)  # written by param() above
                out[f"{section}.{name}"] = (float(lo), float(hi))
    return out


def get_dotted(scenario: Scenario, key: str) -> Any:
    """The value of ``section.name`` or ``firms.<name or index>.name`` (None if no such key)."""
    section, _, name = key.rpartition(".")
    model = dict(_sections(scenario)).get(section)
    return getattr(model, name, None)


def _sections(scenario: Scenario) -> Iterator[tuple[str, BaseModel]]:
    for name in type(scenario).model_fields:
        value = getattr(scenario, name)
        if isinstance(value, BaseModel):
            yield name, value
    for i, firm in enumerate(scenario.firms):
        yield f"firms.{i}", firm
        yield f"firms.{firm.name}", firm


def _field(key: str) -> Any:
    section, _, name = key.rpartition(".")
    if section.startswith("events."):  # the first event kind with the field (week, reach)
        kinds = [cls for cls in EVENT_CLASSES.values() if name in cls.model_fields]
        if not kinds:
            raise KeyError(key)
        return kinds[0].model_fields[name]
    if section == "network":  # the first kind that declares the parameter
        owners = kinds_with(name)
        if not owners:
            raise KeyError(key)
        return KINDS[owners[0]].model_fields[name]
    model: type[BaseModel] = (
        Firm if section.startswith("firms") else type(getattr(Scenario(), section))
    )
    return model.model_fields[name]


def describe(key: str) -> str:
    """The description of a dotted key (``market.q_wom``), for UIs and reports."""
    return _field(key).description or key


def is_integer_key(key: str) -> bool:
    """Whether a dotted key holds a whole number (``network.k``, ``population.size``)."""
    try:
        return _field(key).annotation is int
    except (AttributeError, KeyError):
        return False
