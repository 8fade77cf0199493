"""House rules that are cheap to check: no global randomness, no print in the library,
no ``assert`` standing in for validation, and a docstring on every public name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "trustsim"
GLOBAL_RANDOM = re.compile(
    r"^\s*import random\b|^\s*from random import|np\.random\.(?!default_rng|Generator|"
    r"SeedSequence)[a-z_]+\(",
    re.MULTILINE,
)


# pyabc draws from the global generators inside its tasks; the fit's sampler seeds them
# there, once per task, from its own Generator (trustsim/calibrate/sampler.py)
GLOBAL_SEEDING = {("sampler.py", "np.random.seed("), ("sampler.py", "import random")}


def test_package_uses_only_passed_generators() -> None:
    offenders = [
        f"{path.name}: {match.group(0).strip()}"
        for path in PACKAGE.rglob("*.py")
        for match in GLOBAL_RANDOM.finditer(path.read_text())
        if (path.name, match.group(0).strip()) not in GLOBAL_SEEDING
    ]
    assert offenders == []


def test_library_does_not_print() -> None:
    offenders = [
        path.name
        for path in PACKAGE.rglob("*.py")
        if path.name != "cli.py" and re.search(r"^\s*print\(", path.read_text(), re.M)
    ]
    assert offenders == []


def test_library_validates_without_assert() -> None:
    # python -O strips asserts: input checks must raise real errors
    offenders = [
        f"{path.relative_to(PACKAGE)}:{node.lineno}"
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert)
    ]
    assert offenders == []


def public_definitions(tree: ast.AST, prefix: str = "") -> list[tuple[str, ast.AST]]:
    """Public functions, classes and methods (recursively into classes)."""
    found: list[tuple[str, ast.AST]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name.startswith("_"):
                continue
            found.append((prefix + node.name, node))
            if isinstance(node, ast.ClassDef):
                found += public_definitions(node, f"{prefix}{node.name}.")
    return found


def test_every_public_name_has_a_docstring() -> None:
    missing = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name, node in public_definitions(ast.parse(path.read_text()))
        if not ast.get_docstring(node)  # type: ignore[arg-type]
    ]
    assert missing == []


def test_docstring_examples_run() -> None:
    import doctest
    import importlib

    with_examples = [p for p in PACKAGE.rglob("*.py") if ">>> " in p.read_text()]
    assert with_examples  # trustsim.run has one
    for path in with_examples:
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        result = doctest.testmod(importlib.import_module(name))
        assert result.failed == 0, name
