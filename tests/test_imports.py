"""The package's import graph has no cycles, and importing a module changes nothing."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "trustsim"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except what sits under ``if TYPE_CHECKING:`` (never imported at run time)."""
    nodes: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        nodes.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return nodes


def imported(path: Path) -> set[str]:
    """TrustSim modules a file imports, at any depth (lazy imports count: they hide cycles)."""
    found = set()
    for node in runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from trustsim import rules`` imports the module trustsim.rules
            subs = [f"{node.module}.{a.name}" for a in node.names]
            names = [s for s in subs if s in MODULES] or [node.module]
        else:
            continue
        found |= {n for n in names if n.split(".")[0] == "trustsim"}
    return found


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for name, path in MODULES.items():
        graph.add_node(name)
        for target in imported(path):
            while target not in MODULES and "." in target:  # an attribute of a module
                target = target.rsplit(".", 1)[0]
            if target != name and not name.startswith(target + "."):  # a package's own parent
                graph.add_edge(name, target)
    return graph


def test_the_import_graph_has_no_cycles() -> None:
    cycles = list(nx.simple_cycles(import_graph()))
    assert cycles == [], f"import cycles: {cycles}"


def test_the_graph_sees_a_planted_cycle() -> None:
    graph = import_graph()
    graph.add_edge("trustsim.rules", "trustsim.model")  # model imports rules: now a cycle
    assert list(nx.simple_cycles(graph))


CHECK = """
import json, os, sys
from pathlib import Path
import matplotlib
def cache():  # files in numba's cache, which only a run (never an import) may touch;
    # numba itself makes an empty folder per package when a cached function is declared
    return sorted(str(p) for p in Path(os.environ["NUMBA_CACHE_DIR"]).rglob("*") if p.is_file())
before = (dict(matplotlib.rcParams), os.listdir("."), os.environ.copy(), cache())
import importlib
importlib.import_module(sys.argv[1])
after = (dict(matplotlib.rcParams), os.listdir("."), os.environ.copy(), cache())
changed = [what for what, b, a in zip(("rcParams", "files", "environment", "numba cache"),
           before, after) if b != a]
print(json.dumps(changed))
"""


# pyabc (which trustsim.calibrate's sampler subclasses, so it cannot be imported lazily)
# and the scikit-learn it imports set these with os.environ.setdefault; a full test run
# has them already, so a module checked alone would pass or fail by test order.
SKLEARN_DEFAULTS = {"KMP_DUPLICATE_LIB_OK": "True", "KMP_INIT_AT_FORK": "FALSE",
                    "OMP_NUM_THREADS": "1"}  # fmt: skip


def import_alone(module: str, cwd: Path) -> tuple[int, list[str], str]:
    cache = cwd.parent / f"numba-cache-{module}"
    cache.mkdir(exist_ok=True)
    (cache / "kept.nbi").write_text("a kernel cached by an earlier run")
    env = {**SKLEARN_DEFAULTS, **os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", CHECK, module], capture_output=True, text=True, cwd=cwd,
        timeout=120, check=False, env=env,
    )  # fmt: skip
    changed = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else []
    return done.returncode, changed, done.stderr


@pytest.mark.slow
def test_every_module_imports_on_its_own_without_side_effects(tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(MODULES, pool.map(lambda m: import_alone(m, tmp_path), MODULES),
                           strict=True))  # fmt: skip
    failed = {m: r[2][-300:] for m, r in results.items() if r[0] != 0}
    assert failed == {}
    effects = {m: r[1] for m, r in results.items() if r[1]}
    assert effects == {}, f"modules that change things when imported: {effects}"
