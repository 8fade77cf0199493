"""Classroom lessons: a built-in scenario each, sized to the class, and how often they work.

``social-proof`` is MusicLab's design (Salganik, Dodds & Watts 2006): identical
firms, two or more *social* worlds that show popularity and neighbours' choices,
and one *independent* world without either. The lesson works when the social
worlds end more unequal than the independent one; :func:`success_rate` says how
often it does in simulated classes of a given size, each class's worlds built as
``trustsim classroom`` builds them, every customer choosing by the model's own
logit (ODD 8b). ``trust`` pits the two strategies against each other under brand
names and reveals which was which at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest

from trustsim import builtin
from trustsim.config import Scenario, load_scenario
from trustsim.facts import NO_SOCIAL_PROOF
from trustsim.metrics import gini
from trustsim.simulate import run

MAX_PLAYED_SHARE = 0.5  # students play at most half of a world's customers
NAME_MAX = 20  # characters in a firm's name: it fits on a phone's button
MAX_WORLD = 80  # customers: beyond this a world is a crowd, and students are a small part of it


@dataclass(frozen=True)
class Lesson:
    """A lesson: its built-in scenario and how many worlds of each kind it needs."""

    name: str
    scenario: str
    worlds: int  # world 0 independent, the rest social
    weeks_per_round: int  # the scenario's steps over this is the number of rounds
    question: str  # what the end screen answers


LESSONS = {
    "social-proof": Lesson(
        "social-proof", "classroom-social-proof", 3, 2,
        "Did the worlds where you saw what others chose end more unequal?",
    ),
    "trust": Lesson(
        "trust", "classroom-trust", 2, 1, "Which firm won your trust, and was it the honest one?"
    ),
}  # fmt: skip


def lesson(name: str) -> Lesson:
    """The lesson called ``name`` (ValueError naming the lessons otherwise)."""
    if name not in LESSONS:
        raise ValueError(f"lesson: one of {', '.join(LESSONS)} (got {name!r})")
    return LESSONS[name]


def world_size(base: int, students: int, worlds: int) -> int:
    """Customers per world: the scenario's size, or more when a large class would
    otherwise play more than half of each world (students are spread evenly)."""
    per_world = math.ceil(students / worlds)
    size = max(base, math.ceil(per_world / MAX_PLAYED_SHARE))
    if size > MAX_WORLD:
        most = worlds * int(MAX_WORLD * MAX_PLAYED_SHARE)
        raise ValueError(
            f"max_students: 1 to {most} for a lesson ({worlds} worlds of at most {MAX_WORLD} "
            f"customers, half played by students; got {students})"
        )
    return size


def sized(the_lesson: Lesson, students: int, worlds: int) -> dict[str, int]:
    """The override that sizes the lesson's worlds for a class of ``students``."""
    base = load_scenario(the_lesson.scenario).population.size
    return {"population.size": world_size(base, students, worlds)}


def session_options(name: str, students: int, worlds: int | None = None) -> dict[str, Any]:
    """The classroom session's options for lesson ``name`` and a class of ``students``:
    its scenario, worlds, world size and pace (``Session(**options, ...)``)."""
    chosen = lesson(name)
    worlds = worlds or chosen.worlds
    return {
        "config": builtin.resolve(chosen.scenario, "scenario"), "worlds": worlds,
        "max_students": students, "weeks_per_round": chosen.weeks_per_round,
        "overrides": sized(chosen, students, worlds), "lesson": chosen.name,
    }  # fmt: skip


def renamed(names: str, firms: list[str]) -> dict[str, str]:
    """Overrides that give the firms the comma-separated ``names``, in order (ValueError
    naming ``names`` unless there is one distinct, short, printable name per firm)."""
    given = [n.strip() for n in names.split(",")]
    allowed = f"{len(firms)} distinct names of 1 to {NAME_MAX} characters, comma-separated"
    if len(given) != len(firms) or len({n.casefold() for n in given}) != len(given):
        raise ValueError(f"names: {allowed}, one per firm ({', '.join(firms)}); got {names!r}")
    if not all(0 < len(n) <= NAME_MAX and n.isprintable() for n in given):
        raise ValueError(f"names: {allowed}; got {names!r}")
    return {f"firms.{k}.name": n for k, n in enumerate(given)}


def rounds(name: str) -> int:
    """How many rounds lesson ``name`` lasts: its scenario's weeks over its pace."""
    chosen = lesson(name)
    return load_scenario(chosen.scenario).steps // chosen.weeks_per_round


def class_scenarios(the_lesson: Lesson, students: int) -> tuple[Scenario, Scenario]:
    """The social and the independent world's scenarios for a class of ``students``."""
    size = sized(the_lesson, students, the_lesson.worlds)
    social = load_scenario(the_lesson.scenario, size)
    return social, load_scenario(the_lesson.scenario, {**size, **NO_SOCIAL_PROOF})


def class_result(social: Scenario, independent: Scenario, worlds: int, seed: int) -> bool:
    """One simulated class: whether its social worlds' mean Gini of final shares is
    above its independent world's."""
    seeds = np.random.SeedSequence(seed).spawn(worlds)
    shares = [
        run(independent if w == 0 else social, seed=s).final()["share"].to_numpy()
        for w, s in enumerate(seeds)
    ]
    return more_unequal(shares[1:], shares[:1])


def more_unequal(social: Sequence[np.ndarray], independent: Sequence[np.ndarray]) -> bool:
    """The lesson's test: whether the social worlds' mean Gini of final shares is above
    the independent worlds'."""
    return bool(np.mean([gini(s) for s in social]) > np.mean([gini(s) for s in independent]))


@dataclass(frozen=True)
class Success:
    """How often a lesson worked in simulated classes: the share and its 95% interval."""

    students: int
    classes: int
    worked: int

    @property
    def share(self) -> float:
        """The share of classes where the social worlds ended more unequal."""
        return self.worked / self.classes

    @property
    def interval(self) -> tuple[float, float]:
        """Wilson's 95% interval of the share."""
        ci = binomtest(self.worked, self.classes).proportion_ci(method="wilson")
        return float(ci.low), float(ci.high)

    def in_words(self) -> str:
        """The sentence the end screen puts beside the class's own result."""
        tenths = round(10 * self.share)
        return (
            f"In {self.classes} simulated classes like this one, the social worlds ended more "
            f"unequal {tenths} times in 10."
        )

    def verdict(self, yours: bool) -> str:
        """The end screen's verdict: the simulated classes, then this class's result, and
        when the effect did not show, why that happens and what to look at instead."""
        if yours:
            return f"{self.in_words()} Yours: yes."
        misses = 10 - round(10 * self.share)
        return (
            f"{self.in_words()} Yours: no, one of the {max(misses, 1)} in 10. In worlds this "
            f"small, chance alone can make the independent world lopsided or keep a social "
            f"world even. Look at the bars: did a firm pull ahead in a social world anyway?"
        )


def success_rate(name: str, students: int, *, classes: int = 200, seed: int = 0) -> Success:
    """How often the ``social-proof`` lesson works for a class of ``students``."""
    the_lesson = lesson(name)
    social, independent = class_scenarios(the_lesson, students)
    roots = np.random.SeedSequence(seed).generate_state(classes)
    worked = sum(class_result(social, independent, the_lesson.worlds, int(r)) for r in roots)
    return Success(students, classes, worked)


# ---------------------------------------------------------------------- the end screen

WON_BY = 0.1  # a firm "won" a world when its share of customers is this far ahead of the next

STRATEGY_WORDS = {
    "short_term": "the short-term strategy: over-promise, never warn, skimp on complaints",
    "trust_first": "the trust-first strategy: warn before a costly mistake, fix complaints, "
    "promise a little less than it delivers",
}

QUESTIONS = {
    "social-proof": (
        "The firms were identical. Why did one of them win in a social world?",
        "If the class played again, would the same firm win? What does that say about "
        "best-sellers and top-rated apps?",
    ),
    "trust": (
        "Which firm did you trust more after a few rounds, and what made you change your mind?",
        "The honest firm warned you away from add-ons it could have sold you. Did that pay it "
        "back, and by when?",
    ),
}


def customer_shares(shares: dict[str, float]) -> dict[str, float]:
    """Each firm's share of the customers who have a provider (sums to 1; all 0 if none)."""
    total = sum(shares.values())
    return {f: (s / total if total > 0 else 0.0) for f, s in shares.items()}


def winner(shares: dict[str, float]) -> str | None:
    """The firm that won a world: its share of the customers at least :data:`WON_BY`
    ahead of the next firm's (None if no firm pulled ahead)."""
    ranked = sorted(customer_shares(shares).items(), key=lambda item: item[1], reverse=True)
    (leader, top), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    return leader if top - runner_up >= WON_BY else None


def world_sentence(label: str, shares: dict[str, float]) -> str:
    """One plain sentence for a world: who won, or that no firm pulled ahead."""
    split = customer_shares(shares)
    top, won = max(split.values()), winner(shares)
    if top == 0:
        return f"{label}: nobody became a customer."
    if won is not None:
        return f"{label}: {won} won {split[won]:.0%} of the customers."
    return f"{label}: no firm pulled ahead (none above {top:.0%})."


def reveal(scenario: Scenario) -> str:
    """Which firm followed which strategy, or that the firms were identical."""
    firms = scenario.firms
    if len({f.model_dump_json(exclude={"name"}) for f in firms}) == 1:
        return (
            f"The {len(firms)} firms were identical: the same quality, price and policies. "
            f"Any winner was made by the customers who chose it first."
        )
    parts = [
        f"{f.name} followed {STRATEGY_WORDS.get(str(f.strategy), f'the {f.strategy} strategy')}"
        for f in firms
    ]
    return "; ".join(parts) + "."
