"""Round latency of the participatory classroom with a full room, on loopback.

Usage::

    python benchmarks/bench_classroom.py [--students 60] [--rounds 10]

Starts ``trustsim classroom`` as a teacher would, then 60 simulated students
(each its own HTTP client, as the student page) join and play 10 rounds through
the same HTTP entry points as the pages (:mod:`trustsim.viz.rehearsal`). Reported:
the teacher's "next round" request (closing the round and stepping every world)
and a whole round (every student reads the round and chooses).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time

import httpx

from trustsim.viz.rehearsal import rehearse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "trustsim.cli", "classroom", "--port", str(port),
               "--max-students", str(args.students)]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        teacher, students = server.stdout.readline(), server.stdout.readline()
        token, code = teacher.split("token=")[1].strip(), students.split("code ")[1].strip()
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                httpx.get(base, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        result = rehearse(base, token, code, students=args.students, rounds=args.rounds)
        print(result.summary())
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
