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
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from trustsim.config import Scenario, load_scenario
from trustsim.facts import NO_SOCIAL_PROOF
from trustsim.metrics import gini
from trustsim.simulate import run

MAX_PLAYED_SHARE = 0.5  # students play at most half of a world's customers


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
    return max(base, math.ceil(per_world / MAX_PLAYED_SHARE))


def class_scenarios(the_lesson: Lesson, students: int) -> tuple[Scenario, Scenario]:
    """The social and the independent world's scenarios for a class of ``students``."""
    base = load_scenario(the_lesson.scenario)
    size = {"population.size": world_size(base.population.size, students, the_lesson.worlds)}
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
    return bool(np.mean([gini(s) for s in shares[1:]]) > gini(shares[0]))


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
            f"In {self.classes} simulated classes of {self.students} students, the social "
            f"worlds ended more unequal {tenths} times in 10."
        )


def success_rate(name: str, students: int, *, classes: int = 200, seed: int = 0) -> Success:
    """How often the ``social-proof`` lesson works for a class of ``students``."""
    the_lesson = lesson(name)
    social, independent = class_scenarios(the_lesson, students)
    roots = np.random.SeedSequence(seed).generate_state(classes)
    worked = sum(class_result(social, independent, the_lesson.worlds, int(r)) for r in roots)
    return Success(students, classes, worked)
