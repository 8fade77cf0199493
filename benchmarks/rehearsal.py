"""A rehearsal class: simulated students play a ``trustsim classroom`` over HTTP.

Each simulated student is its own HTTP client (its own cookie), joins with the
code, and every round reads its page's data and posts one of the offered
choices, exactly as the student page does. The teacher closes each round.

- :func:`rehearse`: students choose at random against a running server
  (:func:`serve_classroom`). Use it to check, before a lesson, that a laptop
  carries a whole class: the load test and ``benchmarks/bench_classroom.py`` run
  it with 60 students.
- :func:`rehearse_lesson`: bots play a whole lesson through the same entry points,
  in-process, each choosing what the model's own customer in its seat would
  choose (ODD 7.5's hazard and logit, :meth:`Session.model_choices`). How often
  the lesson works (``benchmarks/bench_lesson.py``) is measured with it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from trustsim.viz.classroom import DEFAULT_CONFIG
from trustsim.viz.lesson import rounds, session_options
from trustsim.viz.participate import STUDENT_COOKIE, create_app
from trustsim.viz.session import Session


@dataclass(frozen=True)
class Served:
    """A running ``trustsim classroom``: its two links, the code and the token."""

    teacher: str
    students: str
    code: str
    token: str


@contextmanager
def serve_classroom(*flags: str, startup_s: float = 30.0) -> Iterator[Served]:
    """``trustsim classroom`` on a free loopback port, as a teacher starts it, until the
    block ends; ``flags`` are passed on (``"--max-students", "60"``; with ``"--lesson"``,
    the lesson's scenario, else the classic classroom scenario)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # the classic classroom scenario unless a lesson is asked for (a later --config wins)
    config = [] if "--lesson" in flags else ["--config", str(DEFAULT_CONFIG)]
    command = [
        sys.executable, "-m", "trustsim.cli", "classroom", "--port", str(port), *config, *flags,
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed = ""
        while proc.stdout and not printed.startswith("teacher:"):  # after any progress lines
            printed = proc.stdout.readline()
            if not printed:
                break
        printed += proc.stdout.readline() if proc.stdout else ""
        found = re.fullmatch(r"teacher: (\S+)\nstudents: (\S+)  code (\w+)\n", printed)
        if found is None:
            raise RuntimeError(f"trustsim classroom did not start: {printed!r}")
        teacher, students, code = found.groups()
        deadline = time.monotonic() + startup_s
        while time.monotonic() < deadline:
            try:
                httpx.get(students, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield Served(teacher, students, code, teacher.split("token=")[1])
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@dataclass
class Rehearsal:
    """What a rehearsal measured: per round, the teacher's "next round" request and
    the whole round (every student sees the round and chooses)."""

    students: int
    rounds: int
    next_round_s: list[float]
    round_s: list[float]
    choices: dict[str, str]  # nickname -> the last choice it made

    def summary(self) -> str:
        """The latencies in words."""
        nxt, whole = self.next_round_s, self.round_s
        return (
            f"{self.students} students, {self.rounds} rounds: closing a round (stepping every "
            f"world) median {1000 * statistics.median(nxt):.0f} ms, max {1000 * max(nxt):.0f} ms; "
            f"a whole round (all see it and choose) median {1000 * statistics.median(whole):.0f} "
            f"ms, max {1000 * max(whole):.0f} ms"
        )


def rehearse(
    base_url: str, teacher_token: str, code: str, students: int = 60, rounds: int = 10,
    seed: int = 0, threads: int = 16,
) -> Rehearsal:  # fmt: skip
    """Play ``rounds`` rounds with ``students`` simulated students against the server
    at ``base_url``; raises ``httpx.HTTPStatusError`` on any refused request."""
    rng = np.random.default_rng(seed)
    clients = [httpx.Client(base_url=base_url, timeout=30) for _ in range(students)]
    teacher = httpx.Client(
        base_url=base_url, timeout=60, headers={"X-Teacher-Token": teacher_token}
    )
    names = [f"student{k:02d}" for k in range(students)]
    last: dict[str, str] = {}

    def join(k: int) -> None:
        response = clients[k].post("/api/join", json={"code": code, "nickname": names[k]})
        response.raise_for_status()

    def play(k: int, round_: int, u: float) -> None:
        view = clients[k].get("/api/me").raise_for_status().json()
        if view["round"] != round_:
            raise RuntimeError(f"{names[k]} sees round {view['round']}, not {round_}")
        choice = view["options"][int(u * len(view["options"]))]
        clients[k].post("/api/choose", json={"round": round_, "choice": choice}).raise_for_status()
        last[names[k]] = choice

    next_s, round_s = [], []
    try:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(join, range(students)))
            teacher.post("/api/teacher/start").raise_for_status()
            for r in range(1, rounds + 1):
                started = time.perf_counter()
                u = rng.random(students).tolist()
                list(pool.map(play, range(students), [r] * students, u))
                closing = time.perf_counter()
                teacher.post("/api/teacher/next").raise_for_status()
                done = time.perf_counter()
                next_s.append(done - closing)
                round_s.append(done - started)
    finally:
        for client in (*clients, teacher):
            client.close()
    return Rehearsal(students, rounds, next_s, round_s, last)


# ---------------------------------------------------------------------- a whole lesson, by bots


@dataclass
class LessonPlayed:
    """One rehearsed lesson: whether it showed the effect, and what the students read."""

    result: dict[str, Any]  # the end screen
    student_rounds: int
    news: Counter[str] = field(default_factory=Counter)  # kind of line -> how many
    lines: list[str] = field(default_factory=list)  # every line of news the students read

    @property
    def more_unequal(self) -> bool:
        """Whether the social worlds ended more unequal than the independent one."""
        return bool(self.result["more_unequal"])


NEWS_KINDS = {  # words in a line of a student's news -> what it tells
    "warned you": "warning", "sold you an add-on": "mistake found out",
    "service failed": "failure", "You complained and": "complaint fixed",
    "complaint was ignored": "complaint ignored", "leaked your": "breach",
    "Your week with": "rated week", "You did not need": "no need", "You had no provider": "none",
}  # fmt: skip


def news_kind(line: str) -> str:
    """What a line of a student's news is about (``other`` if none of the known kinds)."""
    return next((kind for words, kind in NEWS_KINDS.items() if words in line), "other")


def rehearse_lesson(
    name: str, students: int, *, seed: int = 1, shock: tuple[int, str, str] | None = None
) -> LessonPlayed:
    """Play lesson ``name`` with ``students`` bots from joining to the end screen,
    through the classroom's HTTP entry points (in-process, no socket). Every round
    each bot reads its page and posts the choice the model's own customer in its seat
    would make. ``shock``: (round, kind, firm) the teacher triggers."""
    session = Session(**session_options(name, students), seed=seed, success_classes=0)
    return asyncio.run(_play(session, students, rounds(name), shock))


async def _play(
    session: Session, students: int, n_rounds: int, shock: tuple[int, str, str] | None
) -> LessonPlayed:
    transport = httpx.ASGITransport(app=create_app(session, "http://classroom/"))
    base = "http://classroom"
    teacher = httpx.AsyncClient(
        transport=transport, base_url=base, headers={"X-Teacher-Token": session.token}
    )
    bots = [httpx.AsyncClient(transport=transport, base_url=base) for _ in range(students)]
    played = LessonPlayed(result={}, student_rounds=students * n_rounds)

    async def read_news(bot: httpx.AsyncClient) -> dict[str, Any]:
        view: dict[str, Any] = (await bot.get("/api/me")).raise_for_status().json()
        if view["round"] > 1 or view["phase"] != "playing":  # round 1 shows the opening
            played.news.update(news_kind(line) for line in view["events"])
            played.lines += view["events"]
        return view

    try:
        for k, bot in enumerate(bots):  # one at a time: the worlds fill in joining order
            joined = await bot.post("/api/join", json={"code": session.code, "nickname": f"bot{k}"})
            joined.raise_for_status()
        (await teacher.post("/api/teacher/start")).raise_for_status()
        for r in range(1, n_rounds + 1):
            if shock and shock[0] == r:
                kind, firm = shock[1:]
                sent = await teacher.post("/api/teacher/shock", json={"kind": kind, "firm": firm})
                sent.raise_for_status()
            would = session.model_choices()

            async def turn(bot: httpx.AsyncClient, r: int, would: dict[str, str]) -> None:
                view = await read_news(bot)
                choice = would[bot.cookies[STUDENT_COOKIE]]
                if choice not in view["options"]:
                    raise RuntimeError(f"the model chose {choice!r}, not in {view['options']}")
                sent = await bot.post("/api/choose", json={"round": r, "choice": choice})
                sent.raise_for_status()

            await asyncio.gather(*(turn(bot, r, would) for bot in bots))
            (await teacher.post("/api/teacher/next")).raise_for_status()
        (await teacher.post("/api/teacher/end")).raise_for_status()
        await asyncio.gather(*(read_news(bot) for bot in bots))  # the last round's news
        played.result = (await teacher.get("/api/teacher")).raise_for_status().json()["result"]
    finally:
        for client in (*bots, teacher):
            await client.aclose()
    return played
