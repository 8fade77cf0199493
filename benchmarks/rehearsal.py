"""A rehearsal class: simulated students play a running ``trustsim classroom`` over HTTP.

Each simulated student is its own HTTP client (its own cookie), joins with the
code, and every round reads its page's data and picks one of the offered
choices at random, exactly as the student page does. The teacher closes each
round. Use it to check, before a lesson, that a laptop carries a whole class:
the load test and ``benchmarks/bench_classroom.py`` run it with 60 students,
against a server :func:`serve_classroom` starts.
"""

from __future__ import annotations

import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import numpy as np

from trustsim.viz.classroom import DEFAULT_CONFIG


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
