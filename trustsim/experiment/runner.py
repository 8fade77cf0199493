"""Run an experiment: every (design point, replication), on any executor, resumably.

The parent process is the only writer: workers run the model and send back
small tables, which the parent writes at once and atomically. A bounded
window of tasks is in flight, so memory stays flat however many runs there
are, and Ctrl-C keeps every finished run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trustsim.config import ConfigError, Scenario
from trustsim.experiment.design import RunSpec, plan
from trustsim.experiment.executors import SerialExecutor, ThreadCapped, capped, make_executor
from trustsim.experiment.spec import Experiment, Outputs, as_experiment, default_output
from trustsim.experiment.store import FAILED, OK, ExperimentResult, Store, open_results
from trustsim.simulate import run, warm_up

WINDOW = 64  # tasks in flight at once


@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one run (small and picklable)."""

    spec: RunSpec
    base: Scenario
    steps: int
    outputs: Outputs


OnResult = Callable[[dict[str, Any], int, int], None]
"""A progress callback: ``on_result(record, done, total)`` after each run is written."""


def header(spec: RunSpec) -> dict[str, Any]:
    """The fields that identify a run in its record."""
    return {
        "run_id": spec.run_id,
        "design_id": spec.design_id,
        "replication": spec.replication,
        "seed_entropy": str(spec.seed.entropy),
        "spawn_key": list(spec.spawn_key),
        "parameters": spec.parameters,
    }


Outcome = tuple[dict[str, Any], pd.DataFrame | None, pd.DataFrame | None]


def execute(task: Task) -> Outcome:
    """Run one task; a run that raises comes back as a ``failed`` record."""
    spec = task.spec
    record = header(spec)
    start = time.perf_counter()
    try:
        scenario = task.base.with_overrides(spec.parameters)
        result = run(
            scenario, seed=spec.seed, steps=task.steps, panel_every=task.outputs.panel_every
        )
    except Exception as exc:  # recorded as data: the sweep goes on
        return failure(record, exc, time.perf_counter() - start)
    ts = result.timeseries
    final = ts[ts.step == ts.step.max()]
    metrics = [c for c in ts.columns if c not in ("step", "firm")]
    record.update(
        {
            "status": OK,
            "error": None,
            "wall_time": time.perf_counter() - start,
            "final": {
                f"{firm}.{m}": float(value)
                for firm, row in zip(final["firm"], final[metrics].to_numpy(), strict=True)
                for m, value in zip(metrics, row, strict=True)
            },
        }
    )
    panel = None if task.outputs.panel_every is None else result.panel
    return record, select(ts, task.outputs, spec.run_id), panel


def failure(record: dict[str, Any], exc: BaseException, wall_time: float) -> Outcome:
    """A run that raised, as a ``failed`` record with no tables."""
    error = f"{type(exc).__name__}: {exc}"
    return {**record, "status": FAILED, "error": error, "wall_time": wall_time}, None, None


def select(ts: pd.DataFrame, outputs: Outputs, run_id: str) -> pd.DataFrame:
    """Keep the chosen metrics at the chosen steps, with the run id in front."""
    last = ts.step.max()
    if outputs.every == "final":
        keep = ts.step == last
    else:
        keep = (ts.step % outputs.every == 0) | (ts.step == last)
    table = ts.loc[keep, ["step", "firm", *outputs.columns]].reset_index(drop=True)
    table.insert(0, "run_id", run_id)
    return table


def as_record(experiment: Experiment) -> dict[str, Any]:
    """The experiment as stored in the manifest (with its resolved base scenario)."""
    return {**experiment.model_dump(mode="json"), "base": experiment.base.model_dump(mode="json")}


def from_record(record: dict[str, Any]) -> Experiment:
    """The experiment back from a manifest."""
    return Experiment.model_validate({**record, "base": Scenario.model_validate(record["base"])})


def run_experiment(
    experiment: Experiment | str | Path,
    *,
    out: str | Path | None = None,
    executor: Executor | None = None,
    source: str = "",
    backend: str = "custom",
    on_result: OnResult | None = None,
    threads: int | None = None,
) -> ExperimentResult:
    """Run what is not yet done; returns the folder's tables in design order.

    Parameters
    ----------
    experiment
        A validated experiment (:func:`trustsim.experiment.load`), or the path
        or built-in name of an experiment file.
    out
        The results folder (default ``results/<experiment name>/``). A folder
        holding another experiment is refused.
    executor
        Any ``concurrent.futures.Executor``; default: one process per core.
    threads
        The threads each run's kernels may use; default one per run when runs go to
        other processes or machines, every core when they run in this process.
    on_result
        Called as ``on_result(record, done, total)`` after each run is written.
    """
    experiment = as_experiment(experiment)
    store = Store(Path(out) if out is not None else default_output(experiment))
    entropy = store.open_for(
        experiment.identity(), as_record(experiment), source, experiment.seed, backend
    )

    runs = plan(experiment, np.random.SeedSequence(entropy))
    finished = store.finished()
    todo = [r for r in runs if r.run_id not in finished]
    done, failed = len(runs) - len(todo), 0
    interrupted = False
    try:
        if executor is None:
            with make_executor("processes", threads=threads) as owned:
                results = _stream(owned, experiment, todo)
                done, failed = _write_all(store, results, done, len(runs), on_result)
        else:
            results = _stream(capped(executor, threads), experiment, todo)
            done, failed = _write_all(store, results, done, len(runs), on_result)
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        store.consolidate()
        store.close_session(
            {"runs": len(runs), "done": done, "failed": failed, "interrupted": interrupted}
        )
    result = open_results(store.root)
    errors = result.runs.loc[result.runs["status"] != OK, "error"]
    if len(result.runs) and len(errors) == len(result.runs):
        raise ExperimentFailed(
            f"every one of the {len(errors)} runs failed; the first error: {errors.iloc[0]}"
        )
    return result


def _write_all(
    store: Store,
    results: Iterator[Outcome],
    done: int,
    total: int,
    on_result: OnResult | None,
) -> tuple[int, int]:
    failed = 0
    for record, table, panel in results:
        store.write_run(record, table, panel)
        done += record["status"] == OK
        failed += record["status"] == FAILED
        if on_result is not None:
            on_result(record, done, total)
    return done, failed


def _stream(
    executor: ThreadCapped, experiment: Experiment, todo: list[RunSpec]
) -> Iterator[Outcome]:
    """Results as they finish, with at most ``WINDOW`` tasks in flight."""
    serial = isinstance(executor.inner, SerialExecutor)
    if todo and not serial:
        warm_up()  # compile the kernels here once; the workers then load them from the cache
    # a serial executor runs each task as it is submitted: submit one at a time, so that
    # each run is written before the next starts and a Ctrl-C keeps every finished run
    window = 1 if serial else WINDOW
    pending: dict[Future[Any], RunSpec] = {}
    queue = iter(todo)
    try:
        while True:
            for spec in queue:
                task = Task(spec, experiment.base, experiment.horizon, experiment.outputs)
                pending[executor.submit(execute, task)] = spec
                if len(pending) >= window:
                    break
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                spec = pending.pop(future)
                yield _outcome(future, spec)
    finally:
        for future in pending:
            future.cancel()


class ExperimentFailed(RuntimeError):
    """Every run failed, or the worker processes died: nothing useful can follow."""


BROKEN_POOL = (
    "the worker processes died before finishing a run. If you call run_experiment "
    'from a script, put the call under `if __name__ == "__main__":` (worker processes '
    "start by importing your script); otherwise a worker ran out of memory or crashed. "
    "Finished runs are kept; the same call resumes"
)


def _outcome(future: Future[Any], spec: RunSpec) -> Outcome:
    try:
        return future.result()
    except BrokenProcessPool:  # every later run would fail the same way: stop, say why
        raise ExperimentFailed(BROKEN_POOL) from None
    except Exception as exc:  # the worker itself died or could not run the task
        return failure(header(spec), exc, float("nan"))


def status(folder: str | Path) -> dict[str, int]:
    """Runs done, failed and missing in an experiment folder."""
    store = Store(Path(folder))
    manifest = store.read_manifest()
    if manifest is None:
        raise ConfigError(f"{folder}: no manifest.json; not an experiment folder")
    experiment = from_record(manifest["experiment"])
    planned = [
        r.run_id for r in plan(experiment, np.random.SeedSequence(int(manifest["root_entropy"])))
    ]
    records, finished = store.records(), store.finished()
    failed = sum(1 for r in planned if r in records and records[r]["status"] == FAILED)
    done = sum(1 for r in planned if r in finished)
    return {
        "total": len(planned),
        "done": done,
        "failed": failed,
        "missing": len(planned) - done - failed,
    }
