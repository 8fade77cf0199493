"""The results store of an experiment, ``results/<experiment>/``.

::

    manifest.json              experiment, its hash, root entropy, versions, git, host, times
    timeseries/<run_id>.parquet  each run's long table (run_id, step, firm, metrics)
    runs/<run_id>.json           each run's record, written after its timeseries
    runs.parquet                 one row per run, in design order (rebuilt from the records)

Every file is written atomically (temporary name, then rename), and a run's
record is written only after its timeseries, so a record always means a whole
run. Readers return rows in design order, whatever order runs finished in.
"""

from __future__ import annotations

import json
import platform
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from trustsim.config import ConfigError
from trustsim.io import write_json, write_parquet
from trustsim.simulate import provenance

OK, FAILED = "ok", "failed"


def now() -> str:
    """The current UTC time as an ISO 8601 string, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def file_hash(path: str) -> str | None:
    """SHA-256 of a file's bytes (None when there is no such file)."""
    import hashlib

    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def fresh_entropy() -> int:
    """128 bits from the operating system, as numpy draws for a SeedSequence."""
    import secrets

    return secrets.randbits(128)


@dataclass(frozen=True)
class Store:
    """One experiment's folder."""

    root: Path

    @property
    def manifest_path(self) -> Path:
        """The experiment's ``manifest.json``."""
        return self.root / "manifest.json"

    def timeseries_path(self, run_id: str) -> Path:
        """Where run ``run_id``'s timeseries is stored."""
        return self.root / "timeseries" / f"{run_id}.parquet"

    def panel_path(self, run_id: str) -> Path:
        """Where run ``run_id``'s per-customer panel is stored."""
        return self.root / "panel" / f"{run_id}.parquet"

    def record_path(self, run_id: str) -> Path:
        """Where run ``run_id``'s record (status, parameters, final values) is stored."""
        return self.root / "runs" / f"{run_id}.json"

    # ------------------------------------------------------------------ manifest

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest as a dict (None if the folder has none yet)."""
        if not self.manifest_path.exists():
            return None
        return json.loads(self.manifest_path.read_text())

    def open_for(
        self,
        identity: str,
        experiment: dict[str, Any],
        source: str,
        entropy: int | None,
        backend: str,
    ) -> int:
        """Create or reopen the folder for this experiment; returns the root entropy.

        A folder that holds a different experiment is refused.
        """
        manifest = self.read_manifest()
        if manifest is None:
            if self.root.exists() and any(self.root.iterdir()):
                raise ConfigError(
                    f"--out {self.root}: not empty and not an experiment folder; "
                    f"choose an empty or new folder"
                )
            if entropy is None:
                entropy = fresh_entropy()
            manifest = {
                "experiment_name": experiment.get("name"),
                "experiment_file": source,
                "experiment_file_sha256": file_hash(source),
                "experiment_hash": identity,
                "experiment": experiment,
                "root_entropy": str(entropy),
                **provenance(),
                "host": socket.gethostname(),
                "platform": platform.platform(),
                "created": now(),
                "sessions": [],
            }
        elif "experiment_hash" not in manifest:
            raise ConfigError(
                f"--out {self.root}: holds a single run (trustsim run), not an experiment; "
                f"choose another folder"
            )
        elif manifest["experiment_hash"] != identity:
            raise ConfigError(
                f"--out {self.root}: holds experiment {manifest['experiment_name']!r} "
                f"(hash {manifest['experiment_hash']}), not this one (hash {identity}); "
                f"use another --out folder"
            )
        self.remove_leftovers()
        # a resumed folder may be finished by other code: each session says which
        manifest["sessions"].append({"started": now(), "backend": backend, **provenance()})
        write_json(self.manifest_path, manifest)
        return int(manifest["root_entropy"])

    def remove_leftovers(self) -> None:
        """Delete temporary files a killed session may have left (never a result file)."""
        for folder in (self.root, *(self.root / d for d in ("runs", "timeseries", "panel"))):
            for leftover in folder.glob(".*.tmp") if folder.exists() else ():
                leftover.unlink(missing_ok=True)

    def close_session(self, summary: dict[str, Any]) -> None:
        """Stamp the current session's end and ``summary`` (counts) into the manifest."""
        manifest = self.read_manifest()
        if manifest is None:
            raise RuntimeError(f"{self.manifest_path}: no session to close (none was opened)")
        manifest["sessions"][-1].update({"finished": now(), **summary})
        write_json(self.manifest_path, manifest)

    # ------------------------------------------------------------------ runs

    def write_run(
        self,
        record: dict[str, Any],
        timeseries: pd.DataFrame | None,
        panel: pd.DataFrame | None = None,
    ) -> None:
        """Tables first, then the record: a record always means a complete run."""
        if panel is not None:
            write_parquet(self.panel_path(record["run_id"]), panel)
        if timeseries is not None:
            write_parquet(self.timeseries_path(record["run_id"]), timeseries)
        write_json(self.record_path(record["run_id"]), record)

    def records(self) -> dict[str, dict[str, Any]]:
        """Every run record on disk, by run id."""
        folder = self.root / "runs"
        if not folder.exists():
            return {}
        return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}

    def finished(self) -> set[str]:
        """Runs recorded as ok whose timeseries is on disk."""
        return {
            run_id
            for run_id, rec in self.records().items()
            if rec["status"] == OK and self.timeseries_path(run_id).exists()
        }

    def consolidate(self) -> pd.DataFrame:
        """Rebuild ``runs.parquet`` (design order) from the per-run records."""
        table = runs_table(self.records())
        write_parquet(self.root / "runs.parquet", table)
        return table


def runs_table(records: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per run: ids, seed, flattened parameters, status, error, time, final metrics."""
    rows = []
    for rec in records.values():
        row = {k: v for k, v in rec.items() if k not in ("parameters", "final")}
        row["spawn_key"] = json.dumps(rec["spawn_key"])
        # a list or mapping (a policy's events) as JSON text: one column type per key
        row.update({
            f"param.{k}": json.dumps(v) if isinstance(v, list | dict) else v
            for k, v in rec["parameters"].items()
        })  # fmt: skip
        row.update({f"final.{k}": v for k, v in (rec.get("final") or {}).items()})
        rows.append(row)
    if not rows:
        return pd.DataFrame(columns=["run_id", "design_id", "replication", "status"])
    table = pd.DataFrame(rows)
    return table.sort_values(["design_id", "replication"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------- reading


@dataclass
class ExperimentResult:
    """What an experiment folder holds, always in design order."""

    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame

    def timeseries(
        self, columns: list[str] | None = None, run_ids: list[str] | None = None
    ) -> pd.DataFrame:
        """The long timeseries of the finished runs (or of ``run_ids``), in design order."""
        if run_ids is None:
            run_ids = [str(r) for r in self.runs.loc[self.runs["status"] == OK, "run_id"]]
        wanted = list(run_ids)
        store = Store(self.folder)
        frames = [
            pq.read_table(
                store.timeseries_path(r),
                columns=None if columns is None else ["run_id", "step", "firm", *columns],
            ).to_pandas()
            for r in wanted
        ]
        if not frames:
            return pd.DataFrame(columns=["run_id", "step", "firm", *(columns or [])])
        return pd.concat(frames, ignore_index=True)

    def panel(self, run_id: str) -> pd.DataFrame:
        """The per-customer panel of one run (``outputs.panel_every`` must have been set)."""
        path = Store(self.folder).panel_path(run_id)
        if not path.exists():
            raise ConfigError(f"{self.folder}: run {run_id} has no panel (set outputs.panel_every)")
        return pd.read_parquet(path)


def open_results(folder: str | Path) -> ExperimentResult:
    """Open an experiment folder written by :func:`~trustsim.experiment.run_experiment`."""
    store = Store(Path(folder))
    manifest = store.read_manifest()
    if manifest is None:
        raise ConfigError(f"{folder}: no manifest.json; not an experiment folder")
    return ExperimentResult(store.root, manifest, runs_table(store.records()))
