"""The results store (experiment/store.py): what a folder holds and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trustsim.config import ConfigError
from trustsim.experiment.store import FAILED, OK, Store


def opened(tmp_path: Path, identity: str = "abc") -> Store:
    store = Store(tmp_path / "exp")
    store.open_for(identity, {"name": "demo"}, source="", entropy=42, backend="serial")
    return store


def record(run_id: str, status: str = OK) -> dict[str, object]:
    return {"run_id": run_id, "status": status, "design_id": 0, "replication": 0}


def test_a_run_counts_as_finished_only_with_its_table(tmp_path: Path) -> None:
    store = opened(tmp_path)
    table = pd.DataFrame({"step": [0, 1], "firm": ["a", "a"], "share": [0.1, 0.2]})
    store.write_run(record("r0"), table)
    store.write_run(record("r1", FAILED), None)
    store.write_run(record("r2"), table)
    store.timeseries_path("r2").unlink()  # a record whose table was lost
    assert store.finished() == {"r0"}
    assert set(store.records()) == {"r0", "r1", "r2"}


def test_reopening_keeps_the_entropy_and_logs_a_session(tmp_path: Path) -> None:
    store = opened(tmp_path)
    store.close_session({"done": 3})
    assert store.open_for("abc", {"name": "demo"}, "", entropy=None, backend="processes") == 42
    sessions = store.read_manifest()["sessions"]  # type: ignore[index]
    assert [s["backend"] for s in sessions] == ["serial", "processes"]
    assert sessions[0]["done"] == 3 and "finished" in sessions[0]
    # each session records the code that ran it (a resume may run other code)
    assert all(s["versions"]["trustsim"] and "uncommitted_changes" in s for s in sessions)


def test_a_folder_of_another_experiment_or_of_other_files_is_refused(tmp_path: Path) -> None:
    opened(tmp_path, "abc")
    with pytest.raises(ConfigError, match="not this one"):
        Store(tmp_path / "exp").open_for("xyz", {"name": "other"}, "", None, "serial")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not empty and not an experiment folder"):
        Store(tmp_path / "mine").open_for("abc", {"name": "demo"}, "", None, "serial")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_leftovers_of_a_killed_session_go_but_results_stay(tmp_path: Path) -> None:
    store = opened(tmp_path)
    store.write_run(record("r0"), pd.DataFrame({"step": [0]}))
    leftover = store.root / "timeseries" / ".r1.parquet.tmp"
    leftover.write_bytes(b"half")
    store.open_for("abc", {"name": "demo"}, "", None, "serial")
    assert not leftover.exists() and store.timeseries_path("r0").exists()


def test_closing_without_a_session_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no session"):
        Store(tmp_path / "none").close_session({})
