"""How often the social-proof lesson works: ``trustsim classroom --lesson social-proof``.

Usage::

    python benchmarks/bench_lesson.py                 # 200 classes each of 10, 25, 60
    python benchmarks/bench_lesson.py --classes 500

For each class size, simulates classes whose worlds are built as the classroom
builds them (the lesson's scenario, its worlds and pace, the world size for that
many students), every customer choosing by the model's own logit, and prints the
share of classes whose social worlds ended more unequal (mean Gini of final
shares) than the independent world, with its Wilson 95% interval, against the
lesson's goal of 80%.
"""

from __future__ import annotations

import argparse
import time

from trustsim.viz.lesson import success_rate

GOAL = 0.8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=200, help="classes per size (default 200)")
    args = parser.parse_args()
    for students in (10, 25, 60):
        start = time.perf_counter()
        found = success_rate("social-proof", students, classes=args.classes)
        low, high = found.interval
        print(f"{students:>3} students: the social worlds ended more unequal in "
              f"{found.worked} of {found.classes} classes, {found.share:.0%} "
              f"[95% CI {low:.0%} to {high:.0%}]; goal {GOAL:.0%}"
              f"{'' if low >= GOAL else ' (not met with confidence)'}; "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
