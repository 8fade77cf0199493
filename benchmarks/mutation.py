"""Mutation score of the rules and the metrics: how many planted bugs the fast tests catch.

    python benchmarks/mutation.py [--keep DIR]

Runs mutmut (``pip install -e ".[mutation]"``) over ``trustsim/rules.py`` and
``trustsim/metrics.py`` in a copy of the project, so the working tree is never
mutated. Each mutant is one small change to the source (an operator, a
comparison, a number, an argument dropped); it is *killed* when at least one
of the fast tests below fails. Those tests call the rules as plain Python and
never a compiled kernel, so no mutant waits for numba. Prints the score
(killed over all mutants: a mutant no test reaches counts as surviving) and
every survivor with its diff. About a minute on 2 cores; not part of CI.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("trustsim/rules.py", "trustsim/metrics.py")
# the fast tests that exercise the rules and metrics without compiling a kernel
TESTS = ("tests/test_rules.py", "tests/test_metrics.py")
DESELECT = "not compiled"  # the compiled twin of each rule is checked by the full suite

CONFIG = f"""
[tool.mutmut]
paths_to_mutate = {list(MODULES)!r}
tests_dir = {list(TESTS)!r}
pytest_add_cli_args = ["-p", "no:cacheprovider", "-k", "{DESELECT}"]
also_copy = ["trustsim", "tests", "docs"]
use_git_change_detection = false
""".replace("'", '"')


def copy_project(into: Path) -> None:
    """The package, its tests and the ODD (a test reads it), without compiled caches."""
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")
    for folder in ("trustsim", "tests"):
        shutil.copytree(ROOT / folder, into / folder, ignore=ignore)
    (into / "docs").mkdir()
    shutil.copy2(ROOT / "docs" / "ODD.md", into / "docs" / "ODD.md")
    (into / "pyproject.toml").write_text(CONFIG)


def mutmut(work: Path, *args: str) -> str:
    """Run mutmut in ``work`` and return what it printed."""
    tool = Path(sys.executable).with_name("mutmut")
    done = subprocess.run([str(tool), *args], cwd=work, capture_output=True, text=True, check=True)
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in this (new) folder and keep it")
    args = parser.parse_args()
    if not Path(sys.executable).with_name("mutmut").exists():
        print('mutmut is not installed: pip install -e ".[mutation]"', file=sys.stderr)
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="trustsim-mutation-"))
    work.mkdir(parents=True, exist_ok=False if args.keep else True)
    copy_project(work)
    mutmut(work, "run")
    results = re.findall(r"^\s*(\S+): (\w[\w ]*)$", mutmut(work, "results", "--all", "true"), re.M)
    status = Counter(state for _, state in results)
    killed, total = status["killed"], len(results)
    print(f"mutation score: {killed} of {total} mutants killed ({100 * killed / total:.1f}%)")
    print("by status: " + ", ".join(f"{k} {v}" for k, v in status.most_common()))
    for name, state in results:
        if state != "killed":
            diff = [
                line
                for line in mutmut(work, "show", name).splitlines()
                if line[:1] in "+-" and not line.startswith(("+++", "---"))
            ]
            print(f"\n{name} ({state})\n  " + "\n  ".join(diff))
    if args.keep is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
