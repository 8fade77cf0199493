"""Round latency of the participatory classroom with a full room, on loopback.

Usage::

    python benchmarks/bench_classroom.py [--students 60] [--rounds 10]

Starts ``trustsim classroom`` as a teacher would, then 60 simulated students
(each its own HTTP client, as the student page) join and play 10 rounds through
the same HTTP entry points as the pages (`benchmarks/rehearsal.py`). Reported:
the teacher's "next round" request (closing the round and stepping every world)
and a whole round (every student reads the round and chooses).
"""

from __future__ import annotations

import argparse

from rehearsal import rehearse, serve_classroom


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with serve_classroom("--max-students", str(args.students)) as served:
        base = served.students.rstrip("/")
        result = rehearse(base, served.token, served.code, args.students, args.rounds)
    print(result.summary())


if __name__ == "__main__":
    main()
