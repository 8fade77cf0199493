"""The scenarios and studies that ship with the package, by name (``baseline``, ``warn_policy``).

They live in ``trustsim/data/`` (package data, so an installed wheel has them);
the repository's ``configs/`` and ``experiments/`` hold symbolic links to the
same files, so there is one copy to edit. Every entry point that takes a file
also takes a built-in name: ``trustsim run baseline``, ``load_scenario("baseline")``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from trustsim.schema import ConfigError

DATA = Path(str(files("trustsim") / "data"))
KINDS = {"scenario": "configs", "experiment": "experiments"}


def names(kind: str) -> dict[str, str]:
    """Built-in names of a kind (``scenario`` or ``experiment``), each with the first
    sentence of the comment that opens its file."""
    return {path.stem: summary(path) for path in sorted((DATA / KINDS[kind]).glob("*.yaml"))}


def summary(path: Path, width: int = 100) -> str:
    """The first sentence of a YAML file's opening comment, at most ``width`` characters."""
    words = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        words.append(line.lstrip("# ").strip())
    text = " ".join(words)
    ends = [i for i in (text.find(". "), text.find("? ")) if i >= 0]
    sentence = text[: min(ends) + 1] if ends else text
    return sentence if len(sentence) <= width else sentence[: width - 3].rstrip() + "..."


def resolve(ref: str | Path, kind: str) -> Path:
    """The file ``ref`` names: an existing path as given, else a built-in name of ``kind``.

    A missing file that is not a built-in name is returned as given, so the loader
    reports it with the usual message (which names the built-ins too). Anything but a
    ``str`` or a ``Path`` is a ``TypeError``.
    """
    if not isinstance(ref, str | Path):
        raise TypeError(f"expected a path or a built-in name, got {type(ref).__name__}")
    path = Path(ref)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return path
    builtin = DATA / KINDS[kind] / f"{path.name}.yaml"
    return builtin if builtin.exists() else path


def loaded[T](obj: Any, cls: type[T], load: Callable[[str | Path], T], kind: str, where: str) -> T:
    """``obj`` itself if it is a ``cls``, else ``load`` of the path or built-in name it is.

    Anything else is a ``TypeError`` naming what ``where`` accepts.
    """
    if isinstance(obj, cls):
        return obj
    if isinstance(obj, str | Path):
        return load(obj)
    raise TypeError(
        f"{where}: expected a loaded {cls.__name__}, a path to a {kind} YAML file or a "
        f"built-in name ({', '.join(names(kind))}); got {type(obj).__name__}"
    )


def hint(kind: str) -> str:
    """The built-in names of ``kind``, for an error message."""
    return f"built-in {kind}s: {', '.join(names(kind))}"


def init(folder: Path) -> list[Path]:
    """Copy the editable scenarios, studies and a notebook into a new project ``folder``.

    The studies refer to scenarios as ``../configs/<name>.yaml``, so they keep
    working in the copy. Refuses a folder that exists and is not empty.
    """
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ConfigError(f"{folder}: exists and is not empty; give a new folder")
    written = []
    for sub in ("configs", "experiments", "notebooks"):
        written.append(Path(shutil.copytree(DATA / sub, folder / sub)))
    return written
