"""The profit bridge (ODD 8.5): where a policy's NPV difference comes from.

Each run's ledger counts (encounters, exploited mistakes, warnings, resolved
complaints, care contacts, customers a breach exposed, customers at the start of
each week) priced by the firm's parameters of that week (events included) give its
money flow by flow; discounted and summed they are its NPV. A policy's NPV minus
its baseline's, paired by replication, then splits exactly into:

- **customers won or kept**: the extra encounters at the baseline's margin,
  ``(p_b - c_b) (E - E_b)``;
- **price and unit cost**: the change in margin on the policy's own encounters,
  ``((p - p_b) - (c - c_b)) E``;
- **exploited mistakes**: revenue from mistakes exploited, minus the baseline's;
- **warnings, care contacts, complaint recovery, data protection, advertising,
  breaches**: each cost, minus the baseline's, with its sign.

The parts add up to the total (a test checks it to 1e-6).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trustsim import rules
from trustsim.config import event_overrides

if TYPE_CHECKING:
    from trustsim.config import Scenario

COUNTS = (
    "encounters", "exploited", "warnings", "recoveries", "care_contacts", "breach_hit",
    "customers", "acquisitions", "churns", "in_market",
)  # fmt: skip
"""The timeseries columns the bridge prices (besides ``npv``, its total)."""

PRICED = (
    "price", "unit_cost", "mistake_revenue", "warn_cost", "recovery_cost", "care_cost",
    "breach_cost", "protection_cost", "data_protection", "ad_cost", "advertising",
)  # fmt: skip

VOLUME, PRICE, MISTAKES = "customers won or kept", "price and unit cost", "exploited mistakes"
COSTS = {
    "warnings": "warning contacts",
    "care": "care contacts",
    "recovery": "complaint recovery",
    "protection": "data protection",
    "advertising": "advertising",
    "breaches": "breaches",
}
COMPONENTS = (VOLUME, PRICE, MISTAKES, *COSTS.values())
TOTAL = "total (NPV difference)"


def firm_values(scenario: Scenario, horizon: int) -> pd.DataFrame:
    """Each firm's prices and costs in each week 1..``horizon`` (``set`` and ``strategy``
    events change them from their week on), with the week's discount factor."""
    current, rows = scenario, []
    for step in range(1, horizon + 1):
        for _, event in scenario.events_in(step):
            if event.kind in ("set", "strategy"):
                current = current.with_overrides(event_overrides(event))
        mk = current.market
        discount = rules.discounted(1.0, mk.discount_rate, step, mk.steps_per_year)
        for firm in current.firms:
            rows.append((step, firm.name, discount, *(getattr(firm, k) for k in PRICED)))
    return pd.DataFrame(rows, columns=["step", "firm", "discount", *PRICED])


def money(ts: pd.DataFrame, values: pd.DataFrame, population: int) -> pd.DataFrame:
    """One run's discounted money per (step, firm): price revenue and unit costs (with
    the discounted encounters and margins the bridge splits), mistakes' revenue and
    each cost of :data:`COSTS`. ``ts`` is the run's timeseries, ``values`` its
    :func:`firm_values`."""
    t = ts[ts["step"] >= 1].merge(values, on=["step", "firm"], validate="one_to_one")
    d, present = t["discount"], t["in_market"]
    start = t["customers"] - t["acquisitions"] + t["churns"]
    out = pd.DataFrame({"step": t["step"], "firm": t["firm"]})
    out["encounters"] = d * t["encounters"]
    out["margin"] = t["price"] - t["unit_cost"]
    out["mistakes"] = d * t["mistake_revenue"] * t["exploited"]
    out["warnings"] = d * t["warn_cost"] * t["warnings"]
    out["care"] = d * t["care_cost"] * t["care_contacts"]
    out["recovery"] = d * t["recovery_cost"] * t["recoveries"]
    out["breaches"] = d * rules.breach_loss(t["breach_cost"], t["breach_hit"])
    out["protection"] = (
        d
        * present
        * rules.fixed_costs(t["protection_cost"], t["data_protection"], start, 0.0, 0.0, population)
    )
    out["advertising"] = (
        d * present * rules.fixed_costs(0.0, 0.0, 0.0, t["ad_cost"], t["advertising"], population)
    )
    return out


def npv_of(flows: pd.DataFrame) -> pd.Series:
    """Per firm: the NPV the priced flows add up to (a check on :func:`money`)."""
    profit = flows["margin"] * flows["encounters"] + flows["mistakes"]
    profit -= flows[list(COSTS)].sum(axis=1)
    return profit.groupby(flows["firm"]).sum()


def split(policy: pd.DataFrame, baseline: pd.DataFrame) -> pd.Series:
    """A paired run's NPV difference by component (:data:`COMPONENTS`), per firm:
    ``policy`` and ``baseline`` are the two runs' :func:`money`."""
    p = policy.set_index(["step", "firm"])
    b = baseline.set_index(["step", "firm"]).reindex(p.index)
    parts = {
        VOLUME: b["margin"] * (p["encounters"] - b["encounters"]),
        PRICE: (p["margin"] - b["margin"]) * p["encounters"],
        MISTAKES: p["mistakes"] - b["mistakes"],
        **{label: -(p[key] - b[key]) for key, label in COSTS.items()},
    }
    table = pd.DataFrame(parts).groupby(level="firm").sum()
    stacked = pd.Series(table.stack(), name="difference")
    return stacked


def bridge(
    runs: pd.DataFrame,
    timeseries: pd.DataFrame,
    scenarios: dict[tuple[str, str], Scenario],
    baseline: str,
    horizon: int,
) -> pd.DataFrame:
    """Per (policy, scenario, replication, firm, component): the paired NPV difference
    at ``horizon`` split into its sources, plus the total from the runs' own NPV.

    ``scenarios`` maps (policy, scenario) to the scenario its runs ran.
    """
    ts = timeseries[timeseries["step"] <= horizon]
    by_run = dict(tuple(ts.groupby("run_id", sort=False)))
    values = {key: firm_values(sc, horizon) for key, sc in scenarios.items()}
    flows = {
        run_id: money(by_run[run_id], values[(policy, scenario)],
                      scenarios[(policy, scenario)].population.size)
        for run_id, policy, scenario in zip(runs["run_id"], runs["policy"], runs["scenario"],
                                            strict=True)
    }  # fmt: skip
    npv = ts[ts["step"] == horizon].set_index(["run_id", "firm"])["npv"]
    base = runs[runs["policy"] == baseline].set_index(["scenario", "replication"])["run_id"]
    frames = []
    for run_id, policy, scenario, replication in zip(
        runs["run_id"], runs["policy"], runs["scenario"], runs["replication"], strict=True
    ):
        if policy == baseline:
            continue
        paired = base.loc[(scenario, replication)]
        parts = split(flows[run_id], flows[paired]).rename_axis(["firm", "component"])
        total = (npv.loc[run_id] - npv.loc[paired]).rename("difference").to_frame()
        total = total.assign(component=TOTAL).set_index("component", append=True)
        frame = pd.concat([parts.to_frame(), total]).reset_index()
        frames.append(frame.assign(policy=policy, scenario=scenario, replication=replication))
    columns = ["policy", "scenario", "replication", "firm", "component", "difference"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def summarise(parts: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean of each component over the replications with its t-interval: the columns
    of ``bridge.parquet`` (policy, scenario, firm, component, mean, ci_low, ci_high, n)."""
    from trustsim.policy.analysis import contrasts

    table = contrasts(parts.rename(columns={"component": "metric"}).assign(step=0), level)
    table = table.rename(columns={"metric": "component"}).drop(columns="step")
    order = {name: i for i, name in enumerate((*COMPONENTS, TOTAL))}
    table["order"] = table["component"].map(order)
    table = table.sort_values(["policy", "scenario", "firm", "order"], kind="stable")
    return table.drop(columns="order").reset_index(drop=True)


def adds_up(parts: pd.DataFrame) -> float:
    """The largest gap, over paired runs and firms, between the sum of the components
    and the total NPV difference (0 up to rounding)."""
    keys = ["policy", "scenario", "replication", "firm"]
    total = parts[parts["component"] == TOTAL].set_index(keys)["difference"]
    summed = parts[parts["component"] != TOTAL].groupby(keys)["difference"].sum()
    return float(np.max(np.abs(summed - total.reindex(summed.index)))) if len(summed) else 0.0
