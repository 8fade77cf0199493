"""How often the social-proof lesson works: ``trustsim classroom --lesson social-proof``.

Usage::

    python benchmarks/bench_lesson.py                 # 200 classes each of 10, 25, 60
    python benchmarks/bench_lesson.py --classes 500 --processes 2

For each class size, rehearses whole lessons: bots join through the classroom's
HTTP entry points and every round post the choice the model's own customer in
their seat would make (``rehearsal.rehearse_lesson``). It prints the share of
classes whose social worlds ended more unequal (mean Gini of final shares) than
the independent world, with its Wilson 95% interval, against the lesson's goal
of 80%; and beside it the share in classes simulated without students, the
number the end screen quotes (``trustsim.viz.lesson.success_rate``).

Then it rehearses the trust lesson with a class of 25 and prints what the
students read: per student and round, how often a warning, an exploited mistake
found out, a failure, a complaint or a breach; and who won each world.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from rehearsal import rehearse_lesson

from trustsim.viz.lesson import Success, success_rate

GOAL = 0.8
SIZES = (10, 25, 60)


def worked(students: int, seed: int) -> bool:
    """One rehearsed class of ``students`` bots: did its social worlds end more unequal?"""
    return rehearse_lesson("social-proof", students, seed=seed).more_unequal


def in_words(found: Success) -> str:
    low, high = found.interval
    return f"{found.worked} of {found.classes}, {found.share:.0%} [95% CI {low:.0%} to {high:.0%}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=200, help="classes per size (default 200)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    seeds = [1 + 16 * k for k in range(args.classes)]  # a class's worlds use seed + w
    with ProcessPoolExecutor(args.processes) as pool:
        for students in SIZES:
            start = time.perf_counter()
            wins = sum(pool.map(worked, [students] * args.classes, seeds, chunksize=8))
            rehearsed = Success(students, args.classes, wins)
            took = time.perf_counter() - start
            simulated = success_rate("social-proof", students, classes=args.classes)
            verdict = "met" if rehearsed.interval[0] >= GOAL else "not met with confidence"
            print(f"{students:>3} students: social worlds more unequal in {in_words(rehearsed)} "
                  f"rehearsed classes ({took:.0f} s); goal {GOAL:.0%} {verdict}. "
                  f"Simulated without students (the end screen's number): "
                  f"{in_words(simulated)}.", flush=True)  # fmt: skip
    trust_lesson(max(args.classes // 4, 1))


def trust_lesson(classes: int, students: int = 25) -> None:
    """What students read in the trust lesson, per student and round, and who won."""
    news: Counter[str] = Counter()
    won: Counter[str] = Counter()
    rounds = 0
    for k in range(classes):
        played = rehearse_lesson("trust", students, seed=1 + 16 * k)
        news += played.news
        rounds += played.student_rounds
        won.update(w["winner"] or "no clear winner" for w in played.result["worlds"])
    shares = ", ".join(f"{kind} {count / rounds:.1%}" for kind, count in news.most_common())
    print(f"trust lesson, {classes} classes of {students}: per student and round: {shares}. "
          f"Worlds won: {dict(won)}")  # fmt: skip


if __name__ == "__main__":
    main()
