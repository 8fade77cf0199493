"""The participatory classroom behind the pages: worlds, students, rounds and their rules.

The class becomes the market (Salganik, Dodds & Watts 2006, "MusicLab"): each
student plays one customer of a simulated network, simulated customers fill the
rest, and students are split at random between *social* worlds, where they see
what their neighbours chose and the public ratings, and an *independent* world,
where they see only their own experiences and the firms' adverts. Each round is
one week of the model (ODD 8b).

No web code lives here. The pages (:mod:`trustsim.viz.participate`), the unit
tests and the load test all call the same methods; each takes the lock, so
requests from many phones at once see one consistent session. Every refusal is
a :class:`Refused` with the HTTP status the pages answer with.
"""

from __future__ import annotations

import hmac
import io
import secrets
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustsim import events
from trustsim.facts import NO_SOCIAL_PROOF, unpredictability
from trustsim.metrics import gini
from trustsim.simulate import run
from trustsim.state import NO_PROVIDER
from trustsim.viz.classroom import DEFAULT_CONFIG, ClassroomModel, Settings
from trustsim.viz.lesson import (
    MAX_PLAYED_SHARE,
    QUESTIONS,
    Success,
    customer_shares,
    more_unequal,
    reveal,
    success_rate,
    winner,
    world_sentence,
)

SOCIAL, INDEPENDENT = "social", "independent"
STAY, LEAVE = "stay", "leave"
LOBBY, PLAYING, ENDED = "lobby", "playing", "ended"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 5
NICKNAME_MAX = 20
MAX_FAILED_CODES, FAILED_WINDOW_S = 5, 60.0  # per client, then "try again in a minute"
ROUND_SECONDS = 45
ROUND_LIMITS = (10.0, 600.0)  # seconds: the shortest and the longest round timer
SIMULATED_WORLDS = 8  # simulated-only runs per condition for the MusicLab comparison
SHOCKS = events.BY_NAME
FEED_LENGTH = 4  # students' news lines on the projector: they fit beside the controls
# no need, no provider: nothing happened, nothing to read out to the class
NOT_NEWS = ("You did not need", "You had no provider", "The market opens")


class Refused(Exception):
    """A request the session turns down, with the HTTP status the pages answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Student:
    """One person in the room: the customer they play, in one world."""

    number: int  # 1, 2, ... in joining order: the export's anonymous id
    nickname: str
    secret: str  # kept in the student's browser; a rejoin with it restores the node
    world: int
    node: int
    choice: str | None = None  # this round's choice, if made
    events: list[str] = field(default_factory=list)  # what happened in the last round


@dataclass
class World:
    """One market the class plays in, social or independent."""

    index: int
    condition: str
    model: ClassroomModel
    students: list[Student] = field(default_factory=list)


def new_code() -> str:
    """A short join code, easy to read off a projector."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def conditions(worlds: int) -> list[str]:
    """World 0 is independent, the others social (MusicLab had 1 and 8)."""
    if worlds < 2:
        raise ValueError(f"worlds: at least 2, one independent and one social (got {worlds})")
    return [INDEPENDENT] + [SOCIAL] * (worlds - 1)


def same_secret(given: object, expected: str) -> bool:
    """Constant-time comparison of a code or token; any text (non-ASCII too) is safe."""
    return hmac.compare_digest(str(given).encode(), expected.encode())


def checked_round(seconds: float) -> float:
    """A round timer within :data:`ROUND_LIMITS`, else a ValueError that says so."""
    low, high = ROUND_LIMITS
    if not low <= seconds <= high:
        raise ValueError(f"round_seconds: {low:g} to {high:g} seconds (got {seconds:g})")
    return float(seconds)


def clean_nickname(raw: str) -> str:
    """The nickname as shown: trimmed, 1 to 20 printable characters."""
    name = " ".join(str(raw).split())
    if not 1 <= len(name) <= NICKNAME_MAX:
        raise Refused(400, f"nickname: 1 to {NICKNAME_MAX} characters (got {len(name)})")
    if any(unicodedata.category(c).startswith("C") for c in name):
        raise Refused(400, "nickname: letters, digits, spaces and punctuation only")
    return name


class Session:
    """One class's participatory market: a teacher, students and two or more worlds.

    Parameters
    ----------
    config
        The scenario YAML the worlds are built from (default: the classroom's).
    worlds
        Number of worlds: world 0 independent, the rest social.
    seed
        Root seed; world ``w`` is built with ``seed + w``.
    max_students
        The room's capacity; a full room says so.
    round_seconds
        The round timer; a student who has not chosen when it runs out stays.
    clock
        Seconds from a monotonic clock (tests pass their own).
    overrides
        Dotted scenario overrides for every world (a lesson's world size).
    weeks_per_round
        Model weeks each round covers (a lesson's pace); students choose once a round.
    lesson
        The lesson played (``social-proof`` or ``trust``), for the end screen's reveal,
        questions and, for social proof, how often simulated classes like this one
        show it (``success_classes`` of them, simulated when the session is created;
        0: not simulated, and the end screen gives no verdict).
    """

    def __init__(
        self,
        config: Path = DEFAULT_CONFIG,
        *,
        worlds: int = 2,
        seed: int = 1,
        max_students: int = 60,
        round_seconds: float = ROUND_SECONDS,
        code: str | None = None,
        token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        overrides: dict[str, Any] | None = None,
        weeks_per_round: int = 1,
        lesson: str | None = None,
        success_classes: int = 200,
    ) -> None:
        self.config, self.seed, self.clock = Path(config), seed, clock
        self.overrides = dict(overrides or {})
        if weeks_per_round < 1:
            raise ValueError(f"weeks_per_round: at least 1 (got {weeks_per_round})")
        self.weeks_per_round = weeks_per_round
        self.lesson = lesson
        # how often simulated classes like this one show the effect: about 10 s for 200,
        # here rather than beside the class in a thread (the compiled kernels' threading
        # layer need not allow two callers at once)
        self.success: Success | None = (
            success_rate(lesson, max_students, classes=success_classes, seed=seed)
            if lesson == "social-proof" and success_classes > 0
            else None
        )
        self.code = code or new_code()
        self.token = token or secrets.token_urlsafe(16)
        self.max_students = max_students
        self.round_seconds = checked_round(round_seconds)
        self.auto_advance = False
        self.phase, self.round = LOBBY, 0
        self.deadline: float | None = None
        self.version = 0  # bumped on every change the pages show
        self.pictures = 0  # bumped when the network and share pictures change
        self.log: list[str] = []
        self.news: list[dict[str, str]] = []  # students' salient events, for the teacher's feed
        self.banner: tuple[int, str] | None = None  # (round, words) of the latest shock
        self.result: dict[str, Any] | None = None  # the end screen, once the session ends
        self.choices: list[dict[str, Any]] = []  # one row per student and round (the export)
        self.lock = threading.RLock()  # every method takes it; so do the pictures
        self._rng = np.random.default_rng(seed)
        self._failures: dict[str, deque[float]] = {}
        self._by_secret: dict[str, Student] = {}
        self._comparison: pd.DataFrame | None = None
        self.worlds = [
            World(w, kind, self._build(kind, w)) for w, kind in enumerate(conditions(worlds))
        ]
        size = self.worlds[0].model.state.n
        capacity = worlds * int(size * MAX_PLAYED_SHARE)
        if not 1 <= max_students <= capacity:
            raise ValueError(
                f"max_students: 1 to {capacity} ({worlds} worlds of {size} customers, at most "
                f"{MAX_PLAYED_SHARE:.0%} of each played by students; got {max_students})"
            )
        clash = {STAY, LEAVE} & set(self.firm_names)
        if clash:
            raise ValueError(f"firms: a firm cannot be named {sorted(clash)[0]!r} in a classroom")

    def _build(self, condition: str, w: int) -> ClassroomModel:
        overrides = {**self.overrides, **(NO_SOCIAL_PROOF if condition == INDEPENDENT else {})}
        return ClassroomModel(Settings(config=self.config, overrides=overrides, seed=self.seed + w))

    @property
    def firm_names(self) -> list[str]:
        """The firms, in the scenario's order."""
        return self.worlds[0].model.config.firm_names

    @property
    def students(self) -> list[Student]:
        """Everyone who joined, in joining order."""
        return sorted(self._by_secret.values(), key=lambda s: s.number)

    # ------------------------------------------------------------------ students

    def join(self, code: str, nickname: str, client: str, secret: str | None = None) -> Student:
        """A student joins with the code and a nickname, or rejoins with their secret.

        ``client`` identifies the device (its address) for the rate limit on wrong
        codes. Refused: a wrong code (403), too many wrong codes (429), a bad or
        taken nickname (400, 409), a full room (409), a session that has ended (409).
        """
        with self.lock:
            if secret and secret in self._by_secret:  # back after a drop: the same node
                return self._by_secret[secret]
            now = self.clock()
            failures = self._failures.get(client, deque())
            while failures and now - failures[0] > FAILED_WINDOW_S:
                failures.popleft()
            if not failures:  # forget clients with no recent failure: the table stays small
                self._failures.pop(client, None)
            if len(failures) >= MAX_FAILED_CODES:
                raise Refused(429, "too many wrong codes: wait a minute, then try again")
            if not same_secret(str(code).strip().upper(), self.code):
                failures.append(now)
                self._failures[client] = failures
                raise Refused(403, "wrong code: check the code on the projector")
            name = clean_nickname(nickname)
            if self.phase == ENDED:
                raise Refused(409, "this session has ended")
            if any(s.nickname.casefold() == name.casefold() for s in self._by_secret.values()):
                raise Refused(409, f"the nickname {name!r} is taken: pick another")
            if len(self._by_secret) >= self.max_students:
                raise Refused(409, f"the room is full ({self.max_students} students)")
            world = self._next_world()
            student = Student(
                number=len(self._by_secret) + 1,
                nickname=name,
                secret=secrets.token_urlsafe(16),
                world=world.index,
                node=self._free_node(world),
            )
            world.model.play(student.node)
            world.students.append(student)
            self._by_secret[student.secret] = student
            self._changed(f"{name} joined")
            return student

    def _next_world(self) -> World:
        """The least-filled world, ties broken at random: balanced, and random."""
        fewest = min(len(w.students) for w in self.worlds)
        candidates = [w for w in self.worlds if len(w.students) == fewest]
        return candidates[int(self._rng.integers(len(candidates)))]

    def _free_node(self, world: World) -> int:
        free = np.flatnonzero(~world.model.state.played)
        if free.size == 0:
            raise Refused(409, "the room is full: every customer is taken")
        return int(self._rng.choice(free))

    def student(self, secret: str | None) -> Student:
        """The student with this secret (401 if none: join first)."""
        found = self._by_secret.get(secret or "")
        if found is None:
            raise Refused(401, "join first: enter the code and a nickname")
        return found

    def choose(self, secret: str | None, round_: int, choice: str) -> None:
        """A student's choice for the current round: ``stay``, ``leave`` or a firm's
        name. One choice per round; a choice for another round is refused."""
        with self.lock:
            student = self.student(secret)
            if self.phase != PLAYING:
                raise Refused(409, "no round is open")
            if round_ != self.round:
                raise Refused(409, f"round {round_} is not open (this is round {self.round})")
            if student.choice is not None:
                raise Refused(409, f"you already chose this round: {student.choice}")
            if self.seconds_left() == 0.0:
                raise Refused(409, "time is up: you stay this round")
            allowed = [STAY, LEAVE, *self.firm_names]
            if choice not in allowed:
                raise Refused(400, f"choice: one of {', '.join(allowed)} (got {choice!r})")
            world = self.worlds[student.world]
            provider = int(world.model.state.provider[student.node])
            names = [LEAVE] if provider < 0 else [self.firm_names[provider]]
            student.choice = STAY if choice in names else choice  # no move is a stay
            self._changed(redraw=False)
            if self.auto_advance and all(s.choice for s in self._by_secret.values()):
                self._advance()

    def model_choices(self) -> dict[str, str]:
        """For each student (by secret), the choice the model's own customer in their
        seat would make this round (ODD 7.5): ``stay``, ``leave`` or a firm. Not served
        to any page: the rehearsal's bots play by it (``benchmarks/rehearsal.py``)."""
        with self.lock:
            names, chosen = self.firm_names, {}
            for world in self.worlds:
                if not world.students:
                    continue
                nodes = np.array([s.node for s in world.students])
                now = world.model.state.provider[nodes]
                would = world.model.model_choices(nodes)
                for s, before, after in zip(world.students, now, would, strict=True):
                    chosen[s.secret] = (
                        STAY if after == before else LEAVE if after < 0 else names[after]
                    )
            return chosen

    def view(self, secret: str | None) -> dict[str, Any]:
        """What a student's page shows: the round, their provider, what happened to
        them, and what their world lets them see."""
        with self.lock:
            self.tick()
            student = self.student(secret)
            world = self.worlds[student.world]
            model = world.model
            provider = int(model.state.provider[student.node])
            names = self.firm_names
            # no condition word: like MusicLab's subjects, students do not know their world
            view: dict[str, Any] = {
                "nickname": student.nickname,
                "phase": self.phase,
                "round": self.round,
                "seconds_left": self.seconds_left(),
                "provider": names[provider] if provider >= 0 else None,
                "events": student.events or events_in_words(model, student.node, names),
                "options": [STAY, *[n for i, n in enumerate(names) if i != provider], LEAVE]
                if provider >= 0
                else [STAY, *names],
                "choice": student.choice,
                "version": self.version,
            }
            if world.condition == SOCIAL:
                view["customers"] = customer_counts(model, names)  # MusicLab's counts
                view["neighbours"] = neighbour_counts(model, student.node, names)
                count, _ = model.accounts.reviews(model.config.reviews.window)
                view["ratings"] = {
                    r["firm"]: {"stars": round(r["rating"], 2), "reviews": int(c)}
                    for r, c in zip(latest(model), count, strict=True)
                }
            else:
                view["adverts"] = adverts(model)
            if self.result is not None:  # their world's result and the reveal
                view["result"] = {
                    "sentence": self.result["worlds"][student.world]["sentence"],
                    "reveal": self.result["reveal"],
                }
            return view

    # ------------------------------------------------------------------ teacher

    def authorise(self, token: str | None) -> None:
        """Only the teacher's token opens the teacher's view and controls (403)."""
        if not token or not same_secret(token, self.token):
            raise Refused(403, "teacher controls need the teacher's link (with its token)")

    def start(self, token: str | None) -> None:
        """Open round 1."""
        with self.lock:
            self.authorise(token)
            if self.phase != LOBBY:
                raise Refused(409, f"already {self.phase}")
            self.phase, self.round = PLAYING, 1
            self.deadline = self.clock() + self.round_seconds
            self._changed("round 1 opened")

    def next_round(self, token: str | None) -> None:
        """Close this round now (who has not chosen stays) and open the next."""
        with self.lock:
            self.authorise(token)
            if self.phase != PLAYING:
                raise Refused(409, "no round is open")
            self._advance()

    def set_timer(self, token: str | None, seconds: float) -> None:
        """The round timer, 10 s to 10 min; applies to the round open now too."""
        with self.lock:
            self.authorise(token)
            try:
                seconds = checked_round(seconds)
            except ValueError as exc:
                raise Refused(400, str(exc).replace("round_seconds", "timer")) from None
            if self.deadline is not None:
                self.deadline += seconds - self.round_seconds
            self.round_seconds = float(seconds)
            self._changed(redraw=False)

    def set_auto(self, token: str | None, on: bool) -> None:
        """Auto-advance: close a round when its timer runs out or when everyone chose."""
        with self.lock:
            self.authorise(token)
            self.auto_advance = bool(on)
            self._changed(redraw=False)

    def shock(self, token: str | None, kind: str, firm: str) -> None:
        """Trigger a shock at ``firm`` in every world (ODD 8a)."""
        with self.lock:
            self.authorise(token)
            if self.phase != PLAYING:
                raise Refused(409, "shocks hit a running market: start first")
            if kind not in SHOCKS:
                raise Refused(400, f"shock: one of {', '.join(SHOCKS)} (got {kind!r})")
            if firm not in self.firm_names:
                raise Refused(400, f"firm: one of {', '.join(self.firm_names)} (got {firm!r})")
            f = self.firm_names.index(firm)
            for world in self.worlds:
                SHOCKS[kind](world.model, f)
                world.model.collect_shock(f"week {world.model.n_steps}: {kind} at {firm}")
            self.banner = (self.round, f"{kind.replace('_', ' ').capitalize()} at {firm}!")
            self._changed(f"round {self.round}: {kind.replace('_', ' ')} at {firm}")

    def end(self, token: str | None) -> None:
        """End the session: no more rounds; the MusicLab comparison becomes available."""
        with self.lock:
            self.authorise(token)
            if self.phase == PLAYING:
                dropped = sum(s.choice is not None for s in self._by_secret.values())
                if dropped:
                    self.log.append(
                        f"round {self.round} was not played ({dropped} choices dropped)"
                    )
            self.phase, self.deadline = ENDED, None
            self.result = self._result()  # final: nothing moves the worlds after the end
            self._changed(f"session ended after {self.weeks} weeks")

    def tick(self) -> None:
        """Close the round when its timer has run out and auto-advance is on."""
        with self.lock:
            if (
                self.phase == PLAYING
                and self.auto_advance
                and self.deadline is not None
                and self.clock() >= self.deadline
            ):
                self._advance()

    @property
    def weeks(self) -> int:
        """Weeks played so far (rounds closed)."""
        return self.worlds[0].model.n_steps

    def seconds_left(self) -> float | None:
        """Seconds until the round's timer runs out (0 once it has), or None."""
        if self.phase != PLAYING or self.deadline is None:
            return None
        return max(0.0, self.deadline - self.clock())

    def _advance(self) -> None:
        """Close the round: record every student's choice (none: stay), hand the
        moves to the models, step every world one week, open the next round."""
        names = self.firm_names
        for world in self.worlds:
            model = world.model
            for s in world.students:
                before = int(model.state.provider[s.node])
                choice = s.choice or STAY
                chosen = {STAY: before, LEAVE: NO_PROVIDER}.get(choice)
                chosen = names.index(choice) if chosen is None else chosen
                if chosen != before:
                    model.choose(s.node, chosen)
                self.choices.append({
                    "round": self.round, "world": world.index, "condition": world.condition,
                    "student": s.number, "node": s.node,
                    "provider": names[before] if before >= 0 else None,
                    "choice": choice, "timed_out": s.choice is None,
                })  # fmt: skip
                s.choice = None
            for s in world.students:
                s.events = []
            for week in range(self.weeks_per_round):
                model.step()
                prefix = f"Week {week + 1}: " if self.weeks_per_round > 1 else ""
                for s in world.students:  # every week of the round, not just its last
                    lines = events_in_words(model, s.node, names)
                    s.events += [prefix + line for line in lines]
                    self.news += [{"nickname": s.nickname, "news": line}
                                  for line in lines if not line.startswith(NOT_NEWS)]  # fmt: skip
            del self.news[:-FEED_LENGTH]
        self.round += 1
        self.deadline = self.clock() + self.round_seconds
        self._changed(f"round {self.round} opened")

    def _changed(self, line: str | None = None, *, redraw: bool = True) -> None:
        """Something the pages show changed; ``redraw``: the pictures too (not for a
        choice, which shows only as a count)."""
        self.version += 1
        if redraw:
            self.pictures += 1
        if line:
            self.log.append(line)

    def overview(self, token: str | None) -> dict[str, Any]:
        """What the teacher's view shows: code, who joined where, the round and shares."""
        with self.lock:
            self.authorise(token)
            self.tick()
            return {
                "code": self.code,
                "phase": self.phase,
                "round": self.round,
                "seconds_left": self.seconds_left(),
                "round_seconds": self.round_seconds,
                "auto_advance": self.auto_advance,
                "joined": len(self._by_secret),
                "max_students": self.max_students,
                "chosen": sum(s.choice is not None for s in self._by_secret.values()),
                "firms": self.firm_names,
                "shocks": list(SHOCKS),
                "worlds": [
                    {
                        "index": w.index,
                        # the projector names no condition until the end: students see it
                        "label": self.shown_label(w),
                        "students": [s.nickname for s in w.students],
                        "shares": final_shares(w.model, self.firm_names),
                    }
                    for w in self.worlds
                ],
                "result": self.result,
                "log": self.log[-6:],
                "news": self.news[-FEED_LENGTH:][::-1],  # the latest first
                "banner": self.banner[1]
                if self.banner and self.banner[0] == self.round and self.phase == PLAYING
                else None,
                "weeks": self.weeks,
                "version": self.version,
                "pictures": self.pictures,
            }

    # ------------------------------------------------------------------ after the class

    def shown_label(self, world: World) -> str:
        """A world's name on the projector: no condition until the end (students see it)."""
        return self.label(world) if self.phase == ENDED else f"world {world.index + 1}"

    def label(self, world: World) -> str:
        """A world's name on the end screen: "Social world 2", "Independent world"."""
        same = [w for w in self.worlds if w.condition == world.condition]
        number = f" {same.index(world) + 1}" if len(same) > 1 else ""
        return f"{world.condition.capitalize()} world{number}"

    def _result(self) -> dict[str, Any]:
        """The end screen: a sentence per world, the reveal, the questions and, for the
        social-proof lesson, this class's verdict beside the simulated classes'."""
        shares = {w.index: final_shares(w.model, self.firm_names) for w in self.worlds}
        worlds = [
            {
                "label": self.label(w),
                "sentence": world_sentence(self.label(w), shares[w.index]),
                "shares": customer_shares(shares[w.index]),
                "winner": winner(shares[w.index]),
            }
            for w in self.worlds
        ]

        def finals(kind: str) -> list[np.ndarray]:
            return [np.array(list(shares[w.index].values())) for w in self.worlds
                    if w.condition == kind]  # fmt: skip

        unequal = more_unequal(finals(SOCIAL), finals(INDEPENDENT))
        result: dict[str, Any] = {
            "worlds": worlds,
            "reveal": reveal(self.worlds[0].model.settings.scenario()),
            "questions": list(QUESTIONS.get(self.lesson or "", ())),
            "more_unequal": unequal,
            "verdict": None,
        }
        if self.success is not None:
            result["verdict"] = self.success.verdict(unequal)
        return result

    def comparison(self, token: str | None) -> pd.DataFrame:
        """The MusicLab comparison per condition: Gini of final shares and Salganik's
        unpredictability U, for the class's worlds and for simulated-only runs of the
        same scenario over the same number of weeks."""
        with self.lock:
            self.authorise(token)
            if self.phase != ENDED:
                raise Refused(409, "end the session first")
            if self.weeks == 0:
                raise Refused(409, "no week was played: nothing to compare")
            if self._comparison is None:
                self._comparison = self._compare()
            return self._comparison

    def _compare(self) -> pd.DataFrame:
        rows = []
        for condition in (INDEPENDENT, SOCIAL):
            worlds = [w for w in self.worlds if w.condition == condition]
            played = np.array(
                [list(final_shares(w.model, self.firm_names).values()) for w in worlds]
            )
            simulated = self._simulated(worlds[0].model)
            rows.append({
                "condition": condition,
                "class worlds": len(worlds),
                "class Gini": float(np.mean([gini(s) for s in played])),
                "class U": unpredictability(played),
                "class vs simulated U": float(np.abs(played[:, None] - simulated[None]).mean()),
                "simulated worlds": len(simulated),
                "simulated Gini": float(np.mean([gini(s) for s in simulated])),
                "simulated U": unpredictability(simulated),
            })  # fmt: skip
        return pd.DataFrame(rows)

    def _simulated(self, model: ClassroomModel) -> np.ndarray:
        """Final shares of simulated-only runs of a world's scenario (same conditions)
        over the weeks played."""
        # the world's scenario as built (not its live config, which may carry a shock)
        scenario = model.settings.scenario()
        return np.array([
            run(scenario, seed=self.seed + 1000 + k, steps=self.weeks)
            .final()["share"].reindex(self.firm_names).to_numpy()
            for k in range(SIMULATED_WORLDS)
        ])  # fmt: skip

    def export(self, token: str | None) -> bytes:
        """The session's choices as Parquet: one row per student and round, students
        by a number drawn at random for this export (no nicknames, not the joining
        order). Built on request; nothing is written to disk."""
        with self.lock:
            self.authorise(token)
            table = pd.DataFrame(
                self.choices,
                columns=["round", "world", "condition", "student", "node", "provider",
                         "choice", "timed_out"],
            )  # fmt: skip
            # numbers in joining order would match the "X joined" lines on the projector
            alias = dict(
                zip(
                    range(1, len(self._by_secret) + 1),
                    secrets.SystemRandom().sample(
                        range(1, len(self._by_secret) + 1), len(self._by_secret)
                    ),
                    strict=True,
                )
            )
            table["student"] = table["student"].map(alias)
            buffer = io.BytesIO()
            table.to_parquet(buffer, index=False)
            return buffer.getvalue()


# ---------------------------------------------------------------------- what a student sees


def events_in_words(model: ClassroomModel, node: int, names: list[str]) -> list[str]:
    """What happened to customer ``node`` last week, in plain words, as the customer
    would know it (a mistake sold but not discovered is not mentioned)."""
    if model.n_steps == 0:
        return ["The market opens. Choose a firm, or stay as you are."]
    st = model.state
    served = int(st.served[node])
    if served < 0:
        return ["You had no provider this week."]
    firm = names[served]
    said = []
    if st.breached[node]:
        said.append(f"{firm} leaked your personal data in a breach.")
    if st.warned[node]:
        said.append(
            f"{firm} warned you that the add-on you were about to buy is more than you need."
        )
    if st.discovered[node]:
        said.append(f"You found out {firm} sold you an add-on you did not need.")
    if st.failed[node]:
        said.append(f"{firm}'s service failed you.")
    if st.complained[node]:
        said.append(
            f"You complained and {firm} fixed it." if st.recovered[node]
            else "Your complaint was ignored."
        )  # fmt: skip
    if st.stars[node] > 0:
        stars = int(st.stars[node])
        said.append(f"Your week with {firm}: {'★' * stars}{'☆' * (5 - stars)} ({stars} of 5).")
    elif not said:
        said.append(f"You did not need {firm}'s service this week.")
    return said


def customer_counts(model: ClassroomModel, names: list[str]) -> dict[str, int]:
    """How many customers each firm has in the world (the popularity a social world shows)."""
    providers = model.state.provider
    counts = np.bincount(providers[providers >= 0], minlength=len(names))
    return dict(zip(names, counts.tolist(), strict=True))


def neighbour_counts(model: ClassroomModel, node: int, names: list[str]) -> dict[str, int]:
    """How many of the customer's network neighbours use each firm."""
    neighbours = model.network.neighbours(node)
    providers = model.state.provider[neighbours]
    return {n: int((providers == f).sum()) for f, n in enumerate(names)}


def adverts(model: ClassroomModel) -> dict[str, str]:
    """Each firm's advert: its promise and price, as an advert would put them."""
    return {
        f.name: f"promises quality {round(10 * f.promise)}/10 at price {f.price:.2f}"
        for f in model.config.firms
    }


def latest(model: ClassroomModel) -> list[dict[str, Any]]:
    """The model's records of its last observed step, one per firm."""
    return model.firm_records[-len(model.config.firms) :]


def final_shares(model: ClassroomModel, names: list[str]) -> dict[str, float]:
    """Each firm's share of all customers now (its latest ``share`` metric)."""
    shares = {r["firm"]: r["share"] for r in latest(model)}
    return {n: shares[n] for n in names}
