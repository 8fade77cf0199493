"""Run a scenario and get tidy tables back: ``run(scenario, seed=..., steps=...)``."""

from __future__ import annotations

import functools
import platform
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trustsim.config import Scenario, ScenarioLike, as_scenario
from trustsim.draws import child, seed_sequence
from trustsim.metrics import EVENT_COLUMNS, FIRM_COLUMNS, POPULATION_COLUMNS
from trustsim.state import PANEL_EVENTS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PACKAGES = (
    "trustsim", "mesa", "numpy", "numba", "scipy", "networkx", "pandas", "pydantic", "SALib",
    "scikit-learn", "pyabc",
)  # fmt: skip
"""The packages whose versions a manifest records: each decides some result (SALib draws
sensitivity designs, scikit-learn finds the policy lab's boxes, pyabc fits)."""


@dataclass
class RunResult:
    """The tables of one run.

    Attributes
    ----------
    timeseries
        One row per step and firm: ``step`` (0 is the initial state), ``firm``
        (its name) and every per-firm metric (ODD 4, observation).
    population
        One row per step: ``customers``, ``prospects``, ``prospect_share``,
        ``gini``, ``mean_reputation``.
    manifest
        The scenario, the seed entropy and the package versions.
    panel
        With ``panel_every=k``: one row per customer per observed step (every
        k-th, from 0): ``step``, ``customer`` (row index), ``provider`` (the
        firm that served it in that step, "" for none), ``trust_<firm>`` for
        each firm, and that step's events as booleans (``warned``,
        ``exploited``, ``discovered``, ``failed``, ``complained``,
        ``recovered``, ``breached``, ``left``). Empty otherwise.
    events
        The timeline's events as they happened (ODD 8a): ``week``, ``kind``,
        ``firm``, ``detail`` and ``reached`` (customers it reached, where a count).
    """

    timeseries: pd.DataFrame
    population: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    panel: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(EVENT_COLUMNS)))

    def final(self) -> pd.DataFrame:
        """The last step's row per firm, indexed by firm name."""
        last = self.timeseries[self.timeseries["step"] == self.timeseries["step"].max()]
        return last.set_index("firm")

    def plot(self) -> dict[str, Figure]:
        """The run's standard figures (retention, reputation, trust, profit; a band per
        firm for replicated runs), with the events marked: in a notebook they show
        themselves; ``fig.savefig`` writes one."""
        from trustsim.figures import figures

        return figures(self.timeseries, self.events)


def versions() -> dict[str, str]:
    """Versions of Python and the packages that decide results, for the manifest."""
    return dict(_versions())


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    # read once per process: the package metadata does not change while it runs, and
    # reading it cost 11 ms per run, an eighth of a 1,000-customer run
    out = [("python", platform.python_version())]
    for name in PACKAGES:
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return tuple(out)


@functools.cache
def source_control() -> dict[str, Any]:
    """The git commit of the package's checkout and whether it had uncommitted changes
    (both None when the package is not a git checkout, as from a wheel); once per process."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], capture_output=True, text=True, check=True, timeout=5,
                cwd=Path(__file__).parent,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD") or None
    changes = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"git_commit": commit, "uncommitted_changes": None if changes is None else bool(changes)}


def provenance() -> dict[str, Any]:
    """What every manifest records about the code that wrote it: the package versions
    and the git commit with an uncommitted-changes flag."""
    return {"versions": versions(), **source_control()}


def manifest(
    scenario: Scenario, seed: np.random.SeedSequence, steps: int, implementation: str
) -> dict[str, Any]:
    """What made a run: its scenario, steps, seed entropy and spawn key, and versions."""
    return {
        "scenario": scenario.model_dump(mode="json"),
        "steps": steps,
        "seed_entropy": str(seed.entropy),
        "spawn_key": list(seed.spawn_key),
        "implementation": implementation,
        **provenance(),
    }


def tables(
    firm_records: list[dict[str, Any]], population_records: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-firm and population records as DataFrames with fixed columns."""
    timeseries = pd.DataFrame.from_records(firm_records, columns=["step", "firm", *FIRM_COLUMNS])
    population = pd.DataFrame.from_records(
        population_records, columns=["step", *POPULATION_COLUMNS]
    )
    return timeseries, population


def run(
    scenario: ScenarioLike,
    *,
    seed: int | np.random.SeedSequence | None = None,
    steps: int | None = None,
    panel_every: int | None = None,
) -> RunResult:
    """Run the model with the fast engine (compiled kernels).

    Parameters
    ----------
    scenario : Scenario, str or Path
        A validated scenario (:func:`trustsim.load_scenario`), or the path or
        built-in name (``"baseline"``) of a scenario file.
    seed : int, SeedSequence or None
        The root seed. ``None`` draws fresh entropy and records it in the
        manifest, so the run can be repeated.
    steps : int, optional
        Weeks to run (default ``scenario.steps``).
    panel_every : int, optional
        Record the per-customer panel every ``panel_every`` steps (ODD 4,
        observation). ``None``, the default, records none and costs nothing.

    Returns
    -------
    RunResult
        ``timeseries`` (one row per step and firm, the columns of
        :data:`trustsim.metrics.FIRM_METRICS`), ``population`` (one row per
        step), ``panel`` (empty unless asked for) and the ``manifest``.

    Examples
    --------
    >>> import trustsim
    >>> result = trustsim.run(trustsim.Scenario(), seed=1, steps=4)
    >>> sorted(result.timeseries["firm"].unique())
    ['short_term', 'trust_first']
    """
    from trustsim.model import TrustModel

    scenario = as_scenario(scenario, "run")
    root = seed_sequence(seed)
    steps = scenario.steps if steps is None else steps
    model = TrustModel(
        scenario, seed=root, agent_handles=False, panel_every=panel_every, datacollector=False
    )
    for _ in range(steps):
        model.step()
    ts, pop = model.tables()
    panel = panel_table(model.panel_records, scenario.firm_names)
    happened = pd.DataFrame(model.event_log, columns=list(EVENT_COLUMNS))
    return RunResult(ts, pop, manifest(scenario, root, steps, "vectorised"), panel, happened)


def run_replications(
    scenario: ScenarioLike,
    replications: int,
    *,
    seed: int | np.random.SeedSequence | None = None,
    steps: int | None = None,
    panel_every: int | None = None,
) -> RunResult:
    """``replications`` runs of one scenario, as one result with a ``replication`` column.

    Replication r uses the root's child at spawn key ``(r,)`` (:func:`draws.child`).
    The manifest records the root and each replication's spawn key.
    """
    if replications < 1:
        raise ValueError(f"replications: at least 1 (got {replications})")
    scenario = as_scenario(scenario, "run_replications")
    root = seed_sequence(seed)
    results = [
        run(scenario, seed=child(root, r), steps=steps,
            panel_every=panel_every)
        for r in range(replications)
    ]  # fmt: skip

    def stacked(tables: list[pd.DataFrame]) -> pd.DataFrame:
        return pd.concat([t.assign(replication=r) for r, t in enumerate(tables)], ignore_index=True)

    info = {**results[0].manifest, "seed_entropy": str(root.entropy), "spawn_key": [],
            "replications": replications,
            "replication_spawn_keys": [r.manifest["spawn_key"] for r in results]}  # fmt: skip
    return RunResult(
        stacked([r.timeseries for r in results]),
        stacked([r.population for r in results]),
        info,
        stacked([r.panel for r in results]),
        stacked([r.events for r in results]),
    )


def panel_table(records: list[dict[str, np.ndarray]], firm_names: list[str]) -> pd.DataFrame:
    """The panel's observed steps as one long table, firms by name."""
    columns = ["step", "customer", "provider", *(f"trust_{f}" for f in firm_names)]
    columns += list(PANEL_EVENTS)
    if not records:
        return pd.DataFrame(columns=columns)
    data = {key: np.concatenate([r[key] for r in records]) for key in records[0]}
    names = np.array([*firm_names, ""], dtype=object)  # index -1 is "no provider"
    data["provider"] = names[data["provider"]]
    for f, name in enumerate(firm_names):
        data[f"trust_{name}"] = data.pop(f"trust_{f}")
    return pd.DataFrame(data, columns=columns)


def warm_up() -> None:
    """Compile (or load) the kernels in this process with a tiny run, before worker
    processes start: they then load the kernels from the cache instead of each
    compiling them at once."""
    from trustsim.model import TrustModel

    # a panel too: its trust pass is the one kernel a plain step does not use
    TrustModel(Scenario().with_overrides({"population.size": 20}), seed=0, panel_every=1).step()
