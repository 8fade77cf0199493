"""The policy lab: does a policy pay, by when, and in which markets?

>>> from trustsim import policy
>>> study = policy.load("experiments/warn_policy.yaml")    # doctest: +SKIP
>>> result = policy.compare(study, out="results/warn")     # doctest: +SKIP
>>> result.contrasts, result.breakeven, result.rules       # doctest: +SKIP

Every policy runs in every market scenario on the same random streams per
(scenario, replication), through the experiment runner (parallel, resumable).
The tables are paired differences, policy minus baseline policy (ODD 8.5).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trustsim import recovery
from trustsim.config import get_dotted
from trustsim.experiment.runner import OnResult, run_experiment
from trustsim.experiment.store import OK, ExperimentResult, Store, fresh_entropy
from trustsim.io import write_parquet
from trustsim.policy import analysis, bridge
from trustsim.policy.spec import (
    BREAKEVEN_METRICS,
    DEFAULT_OUTCOMES,
    PolicyExperiment,
    as_study,
    is_harm,
    load,
)

__all__ = ["DEFAULT_OUTCOMES", "PolicyExperiment", "PolicyResult", "compare", "load"]

RUNS_FOLDER = "runs"


@dataclass
class PolicyResult:
    """The tables of a policy study, as written to its folder."""

    study: PolicyExperiment
    folder: Path
    runs: pd.DataFrame  # run_id, policy, scenario, replication (+ status, error)
    scenarios: pd.DataFrame  # scenario and the value of each uncertainty
    contrasts: pd.DataFrame
    breakeven: pd.DataFrame
    rules: pd.DataFrame
    firm_gaps: pd.DataFrame  # per policy and scenario: NPV of each firm minus the others'
    experiment: ExperimentResult
    switches: pd.DataFrame  # timeline policies: what the switch costs, when it pays back
    recovery: pd.DataFrame  # weeks to recover from each harmful event, per scenario
    harm: pd.DataFrame  # the paired harm of a policy's own harmful event: depth, half-life
    bridge: pd.DataFrame  # the NPV difference at the horizon by source (ODD 8.5)
    levels: pd.DataFrame  # per scenario and firm: the baseline policy's mean NPV at the horizon

    def timeseries(self) -> pd.DataFrame:
        """The raw runs' long timeseries (``run_id``, ``step``, ``firm``, metrics)."""
        return self.experiment.timeseries()

    def policy_firm(self, policy: str) -> str:
        """The firm a policy acts on: the first firm its levers name (else the first firm)."""
        return acting_firm(self.study, policy)


def compare(
    study: PolicyExperiment | str | Path,
    *,
    out: str | Path,
    executor: Executor | None = None,
    source: str = "",
    backend: str = "custom",
    on_result: OnResult | None = None,
) -> PolicyResult:
    """Run (or resume) a policy study and write its tables, figures and report.

    Parameters
    ----------
    study : PolicyExperiment, str or Path
        The policies, the scenarios to test them in, and the outcomes
        (:func:`trustsim.policy.load`), or the path or built-in name of a study.
    out : str or Path
        The study folder: runs go into ``out/runs/`` (resumable), the tables
        (contrasts, break-even, discovery) and the report into ``out``.
    executor : Executor, optional
        Where runs execute (default: one process per core).
    source, backend : str
        Recorded in the manifest.
    on_result : callable, optional
        Called as ``on_result(record, done, total)`` after each run.

    Returns
    -------
    PolicyResult
        The paired differences, their contrasts with intervals, the break-even
        weeks and the scenario-discovery boxes (ODD 8.5).

    Raises
    ------
    RuntimeError
        If runs failed; the same command retries them.
    """
    study = as_study(study)
    out = Path(out)
    entropy = study.seed if study.seed is not None else _stored_or_fresh(out / RUNS_FOLDER)
    experiment = study.runner_experiment(entropy)
    result = run_experiment(
        experiment, out=out / RUNS_FOLDER, executor=executor, source=source, backend=backend,
        on_result=on_result,
    )  # fmt: skip
    failed = result.runs[result.runs["status"] != OK]
    if not failed.empty:
        raise RuntimeError(
            f"{len(failed)} of {len(result.runs)} runs failed, e.g. {failed['error'].iloc[0]}; "
            f"the same command retries them"
        )
    return analyse(study, entropy, result, out)


def analyse(
    study: PolicyExperiment, entropy: int, result: ExperimentResult, out: Path
) -> PolicyResult:
    """Compute and write every table from the finished runs."""
    runs = label_runs(study, result.runs)
    scenarios = scenario_table(study, entropy)
    ts = result.timeseries()
    differences = analysis.paired_differences(runs, ts, study.baseline_policy, study.outcomes)
    contrasts = analysis.contrasts(differences)
    breakeven = analysis.breakeven(contrasts, differences, BREAKEVEN_METRICS)
    rules = discovery(study, scenarios, contrasts)
    gaps = firm_gaps(runs, ts, study.horizon)
    switches = switch_table(study, contrasts)
    recovered = recovery_table(study, runs, ts)
    harm = harm_table(study, contrasts)
    bridged = bridge_table(study, entropy, runs, ts)
    levels = baseline_levels(study, runs, ts)
    tables = {
        "contrasts": contrasts, "breakeven": breakeven, "scenarios": scenarios,
        "rules": rules, "runs": runs, "firm_gaps": gaps, "switches": switches,
        "recovery": recovered, "harm": harm, "bridge": bridged, "levels": levels,
    }  # fmt: skip
    for name, table in tables.items():
        if name not in ("switches", "recovery", "harm") or len(table):
            write_parquet(out / f"{name}.parquet", table)
    return PolicyResult(
        study,
        out,
        runs,
        scenarios,
        contrasts,
        breakeven,
        rules,
        gaps,
        result,
        switches,
        recovered,
        harm,
        bridged,
        levels,
    )


def bridge_table(
    study: PolicyExperiment, entropy: int, runs: pd.DataFrame, ts: pd.DataFrame
) -> pd.DataFrame:
    """The profit bridge of every policy against the baseline, per scenario and firm, with
    95% intervals over the paired replications (:mod:`trustsim.policy.bridge`)."""
    points = study.scenario_points(entropy)
    labels = study.scenario_labels(len(points))
    scenarios = {
        (policy, label): study.scenario_of(point, policy)
        for label, point in zip(labels, points, strict=True)
        for policy in study.policies
    }
    done = runs[runs["status"] == OK]
    parts = bridge.bridge(done, ts, scenarios, study.baseline_policy, study.horizon)
    return bridge.summarise(parts)


def baseline_levels(study: PolicyExperiment, runs: pd.DataFrame, ts: pd.DataFrame) -> pd.DataFrame:
    """Per scenario and firm: the baseline policy's mean NPV and cumulative profit at the
    horizon, what a contrast is a percentage of."""
    ids = runs.loc[runs["policy"] == study.baseline_policy, ["run_id", "scenario"]]
    final = ts[ts["step"] == study.horizon].merge(ids, on="run_id")
    table = final.groupby(["scenario", "firm"], sort=False)[["npv", "cumulative_profit"]].mean()
    return table.reset_index()


def switch_table(study: PolicyExperiment, contrasts: pd.DataFrame) -> pd.DataFrame:
    """For each timeline policy (one with events): the switch's cost and payback, per
    scenario (:func:`analysis.switch_costs`)."""
    frames = [
        analysis.switch_costs(contrasts, policy, acting_firm(study, policy), week, study.horizon)
        for policy in study.others
        if (week := study.switch_week(policy)) is not None
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def recovery_table(study: PolicyExperiment, runs: pd.DataFrame, ts: pd.DataFrame) -> pd.DataFrame:
    """Per policy and scenario: the weeks each harmful event's firm takes to recover its
    reputation, share and NPS, over the replications (``recovery.summarise``)."""
    if not study.has_harm:
        return pd.DataFrame()
    done = runs[runs["status"] == OK]
    frames = []
    for run_id, policy, scenario, replication in zip(
        done["run_id"], done["policy"], done["scenario"], done["replication"], strict=True
    ):
        harms = [e for e in study.timeline(str(policy)) if is_harm(e)]
        if not harms:
            continue
        timeline = pd.DataFrame(harms).assign(detail="")
        table = recovery.recovery(ts[ts["run_id"] == run_id], timeline)
        frames.append(table.assign(policy=policy, scenario=scenario, replication=replication))
    stacked = pd.concat(frames, ignore_index=True)
    return recovery.summarise(stacked, study.horizon, by=["policy", "scenario"])


def harm_table(study: PolicyExperiment, contrasts: pd.DataFrame) -> pd.DataFrame:
    """For each policy with a harmful event of its own: how deep the paired harm goes and
    when it has halved, per scenario and measure (:func:`analysis.harm_halflife`)."""
    frames = [
        analysis.harm_halflife(contrasts, policy, acting_firm(study, policy), week, measures)
        for policy in study.others
        if (week := study.harm_week(policy)) is not None
        and (measures := [m for m in recovery.MEASURES if m in study.outcomes])
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def label_runs(study: PolicyExperiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Name each run's policy and scenario: design point d is (scenario d // P, policy d % P)."""
    names = list(study.policies)
    scenario, policy = divmod(runs["design_id"].astype(int), len(names))
    labels = study.scenario_labels(int(scenario.max()) + 1 if len(runs) else 0)
    labelled = runs.assign(
        policy=[names[p] for p in policy], scenario=[labels[s] for s in scenario]
    )
    return labelled[["run_id", "policy", "scenario", "replication", "status", "error"]]


def scenario_table(study: PolicyExperiment, entropy: int) -> pd.DataFrame:
    """Each scenario's value of every uncertainty (the base market's own where it sets none)."""
    points = study.scenario_points(entropy)
    keys = list(dict.fromkeys(k for point in points for k in point))
    rows = [
        {k: point[k] if k in point else get_dotted(study.base, k) for k in keys} for point in points
    ]
    table = pd.DataFrame(rows, index=study.scenario_labels(len(points)), columns=keys)
    return table.rename_axis("scenario").reset_index()


def acting_firm(study: PolicyExperiment, policy: str) -> str:
    """The firm a policy acts on: the first firm its levers name (else the first firm)."""
    names = [f.name for f in study.base.firms]
    for event in study.policies[policy].get("events", []):
        if event.get("firm") in names:
            return str(event["firm"])
    for key in study.policies[policy]:
        parts = key.split(".")
        if parts[0] == "firms" and len(parts) > 2 and parts[1] in names:
            return parts[1]
    return names[0]


def final_gain(study: PolicyExperiment, contrasts: pd.DataFrame, policy: str) -> pd.Series:
    """By scenario: the mean paired NPV gain at the horizon for the firm ``policy`` acts on."""
    rows = contrasts[
        (contrasts["policy"] == policy)
        & (contrasts["firm"] == acting_firm(study, policy))
        & (contrasts["metric"] == "npv")
        & (contrasts["step"] == study.horizon)
    ]
    return rows.set_index("scenario")["mean"]


def discovery(
    study: PolicyExperiment, scenarios: pd.DataFrame, contrasts: pd.DataFrame
) -> pd.DataFrame:
    """For each policy: the boxes of market conditions where its NPV gain at the horizon
    is positive (for the firm it acts on), and where it is not."""
    conditions = scenarios.set_index("scenario").select_dtypes("number")
    frames = []
    for policy in study.others:
        pays = final_gain(study, contrasts, policy).reindex(conditions.index) > 0
        boxes = analysis.discover(conditions, pays)
        frames.append(boxes.assign(policy=policy))
    rules = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return rules[["policy", *[c for c in rules.columns if c != "policy"]]] if len(rules) else rules


def firm_gaps(runs: pd.DataFrame, ts: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Per policy, scenario and firm: its NPV at the horizon minus the best other firm's,
    mean over replications with a 95% t-interval (who wins the market under each policy)."""
    final = ts[ts["step"] == horizon].merge(runs[["run_id", "policy", "scenario"]], on="run_id")
    npv = final.pivot_table(index=["policy", "scenario", "run_id"], columns="firm", values="npv")
    frames = []
    for firm in npv.columns:
        gap = npv[firm] - npv.drop(columns=firm).max(axis=1)
        frames.append(gap.rename("gap").reset_index().assign(firm=firm))
    gaps = pd.concat(frames, ignore_index=True)
    summary = gaps.assign(metric="npv_gap", step=horizon).rename(columns={"gap": "difference"})
    table = analysis.contrasts(summary)
    return table.drop(columns=["metric", "step"])


def _stored_or_fresh(folder: Path) -> int:
    """The root entropy of a study being resumed, or fresh entropy for a new one."""
    manifest = Store(folder).read_manifest()
    return int(manifest["root_entropy"]) if manifest else fresh_entropy()


def __getattr__(name: str) -> object:
    """``policy.optimize`` and ``policy.report``, imported on first use (they import
    matplotlib and scipy's optimisers)."""
    if name in ("optimize", "report"):
        import importlib

        return importlib.import_module(f"trustsim.policy.{name}")
    raise AttributeError(f"module 'trustsim.policy' has no attribute {name!r}")
