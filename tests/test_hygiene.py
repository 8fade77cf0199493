"""House rules that are cheap to check: no global randomness, no print in the library."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "trustsim"
GLOBAL_RANDOM = re.compile(
    r"^\s*import random\b|^\s*from random import|np\.random\.(?!default_rng|Generator|"
    r"SeedSequence)[a-z_]+\(",
    re.MULTILINE,
)


def test_package_uses_only_passed_generators() -> None:
    offenders = [
        f"{path.name}: {match.group(0).strip()}"
        for path in PACKAGE.rglob("*.py")
        for match in GLOBAL_RANDOM.finditer(path.read_text())
    ]
    assert offenders == []


def test_library_does_not_print() -> None:
    offenders = [
        path.name
        for path in PACKAGE.rglob("*.py")
        if path.name != "cli.py" and re.search(r"^\s*print\(", path.read_text(), re.M)
    ]
    assert offenders == []
