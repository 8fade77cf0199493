"""The one module that writes results to disk: atomically, file by file.

Every file is written to a temporary name in the target folder and renamed
into place, so a reader (or a crash) never sees a half-written file, and a run
that fails before it finishes leaves the folder as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from trustsim.config import ConfigError
from trustsim.metrics import EVENT_COLUMNS
from trustsim.simulate import RunResult


def umask() -> int:
    """The process's umask, read without changing it (Linux); else by setting it back."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# What made an output folder, by what its manifest says.
KINDS = {
    "run": "a single run (trustsim run)",
    "experiment": "an experiment (trustsim sweep or sensitivity)",
    "study": "a facts or policy study (trustsim facts or compare)",
    "fit": "a fit (trustsim calibrate)",
    "other": "files TrustSim did not write",
}


def folder_kind(folder: Path) -> str | None:
    """``run``, ``experiment``, ``study``, ``fit`` or ``other``; None for a new or empty
    folder."""
    if not folder.exists():
        return None
    if not folder.is_dir():
        raise ConfigError(f"--out {folder}: is a file; give a folder")
    manifest = folder / "manifest.json"
    if manifest.exists():
        try:
            data = json.loads(manifest.read_text())
        except (ValueError, OSError):
            return "other"
        if "fit" in data:
            return "fit"
        return "experiment" if "experiment_hash" in data else "run"
    if (folder / "runs" / "manifest.json").exists():
        return "study"
    if (folder / "history.db").exists():
        return "fit"
    return "other" if any(folder.iterdir()) else None


def claim(folder: Path, kind: str, *, force: bool = False) -> None:
    """Refuse to write ``kind`` results into a folder that holds something else.

    With ``force`` such a folder is emptied first, so two kinds' files are never
    mixed; a folder of the same kind is written into as usual (a run replaces its
    files, a sweep or study resumes).
    """
    found = folder_kind(folder)
    if found is None or found == kind:
        return
    if force:
        shutil.rmtree(folder)
        return
    raise ConfigError(
        f"--out {folder}: holds {KINDS[found]}, not {KINDS[kind]}; choose another folder, "
        f"or --force to replace it"
    )


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes 0600; readers need the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(data, indent=2, default=str))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` (without its index) as Parquet to ``path`` atomically."""
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_run(result: RunResult, out: Path) -> list[Path]:
    """Write ``timeseries.parquet``, ``population.parquet``, ``manifest.json`` and, when
    the scenario has a timeline, ``events.parquet``."""
    paths = [out / "timeseries.parquet", out / "population.parquet", out / "manifest.json"]
    write_parquet(paths[0], result.timeseries)
    write_parquet(paths[1], result.population)
    if not result.events.empty:
        paths.append(out / "events.parquet")
        write_parquet(paths[-1], result.events)
    write_json(paths[2], result.manifest)
    return paths


def read_run(folder: Path) -> RunResult:
    """Read what :func:`write_run` wrote."""
    manifest = json.loads((folder / "manifest.json").read_text())
    path = folder / "events.parquet"
    timeline = pd.read_parquet(path) if path.exists() else pd.DataFrame(columns=[*EVENT_COLUMNS])
    return RunResult(
        pd.read_parquet(folder / "timeseries.parquet"),
        pd.read_parquet(folder / "population.parquet"),
        manifest,
        events=timeline,
    )
