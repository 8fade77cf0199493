"""The policy study's figures and its report in words (Markdown and self-contained HTML).

Every number in the report is read from the tables the study wrote
(``contrasts``, ``breakeven``, ``rules``, ``firm_gaps``), so each traces to a row.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from trustsim.business import Money, short, stated
from trustsim.config import PRESETS, ConfigError, Scenario
from trustsim.io import write_bytes, write_text
from trustsim.policy import PolicyResult, acting_firm, analysis, final_gain
from trustsim.policy import bridge as bridges
from trustsim.policy.spec import BASE_SCENARIO

if TYPE_CHECKING:
    from trustsim.policy.optimize import OptimumResult

# --------------------------------------------------------------------------- figures


def contrast_figure(result: PolicyResult, scenario: str = BASE_SCENARIO) -> Figure:
    """Paired difference over time, with its 95% band, per outcome, in one market."""
    metrics = result.study.outcomes
    cols = min(3, len(metrics))
    rows = int(np.ceil(len(metrics) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False,
                             constrained_layout=True)  # fmt: skip
    c, money = result.contrasts, Money(result.study.base)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for policy in result.study.others:
            firm = result.policy_firm(policy)
            rows_ = c[(c.policy == policy) & (c.scenario == scenario) & (c.firm == firm)
                      & (c.metric == metric)].sort_values("step")  # fmt: skip
            factor = money.factor if metric in MONEY_METRICS else 1.0
            line = ax.plot(rows_["step"], rows_["mean"] * factor, label=f"{policy} ({firm})")[0]
            ax.fill_between(rows_["step"], rows_["ci_low"] * factor, rows_["ci_high"] * factor,
                            color=line.get_color(), alpha=0.2, linewidth=0)  # fmt: skip
        ax.axhline(0, color="grey", linewidth=0.8)
        for week in event_weeks(result):
            ax.axvline(week, color="0.35", linestyle=":", linewidth=1.2)
        unit = f" ({money.currency})" if metric in MONEY_METRICS and money.currency else ""
        if unit:
            money_axis(ax.yaxis)
        ax.set_title(metric.replace("_", " ") + unit)
        ax.set_xlabel("week")
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    axes.flat[0].set_ylabel(f"minus {result.study.baseline_policy}")
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=min(4, len(result.study.others)))  # fmt: skip
    weeks = event_weeks(result)
    marked = f"; dotted: events in week {', '.join(map(str, weeks))}" if weeks else ""
    where = "the base market" if scenario == BASE_SCENARIO else f"market {scenario!r}"
    fig.suptitle(f"Policy minus baseline in {where} (mean and 95% band over paired runs{marked})")
    return fig


MONEY_METRICS = ("npv", "cumulative_profit", "profit", "revenue", "costs")


def bridge_figure(result: PolicyResult, scenario: str = BASE_SCENARIO) -> Figure:
    """A waterfall per policy: the NPV difference at the horizon for the firm it acts on,
    built up from its sources (bars with 95% intervals), ending at the total."""
    money, b = Money(result.study.base), result.bridge
    policies = result.study.others
    fig, axes = plt.subplots(len(policies), 1, figsize=(9, 0.6 + 3.2 * len(policies)),
                             squeeze=False, constrained_layout=True)  # fmt: skip
    for ax, policy in zip(axes.flat, policies, strict=True):
        rows = b[(b.policy == policy) & (b.scenario == scenario)
                 & (b.firm == result.policy_firm(policy))].set_index("component")  # fmt: skip
        parts = rows.loc[list(bridges.COMPONENTS)]
        total = rows.loc[bridges.TOTAL]
        means = parts["mean"].to_numpy() * money.factor
        starts = np.concatenate([[0.0], np.cumsum(means)[:-1]])
        colours = np.where(means >= 0, "#3a7d44", "#b5442c")
        y = np.arange(len(means) + 1)[::-1]
        ax.barh(y[:-1], means, left=starts, color=colours, height=0.6)
        err = np.abs(np.vstack([parts["mean"] - parts["ci_low"], parts["ci_high"] - parts["mean"]]))
        ax.errorbar(starts + means, y[:-1], xerr=err * money.factor, fmt="none", ecolor="0.2",
                    capsize=3, linewidth=1)  # fmt: skip
        ax.barh(y[-1], total["mean"] * money.factor, color="#35618f", height=0.6)
        ax.errorbar(total["mean"] * money.factor, y[-1], fmt="none", ecolor="0.2", capsize=3,
                    xerr=[[(total["mean"] - total["ci_low"]) * money.factor],
                          [(total["ci_high"] - total["mean"]) * money.factor]])  # fmt: skip
        ax.set_yticks(y, [*parts.index, "total NPV difference"])
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_title(f"{policy} minus {result.study.baseline_policy} "
                     f"({result.policy_firm(policy)}, week {result.study.horizon})")  # fmt: skip
        ax.set_xlabel(f"NPV difference ({money.currency or 'model units'})")
        if money.currency:
            money_axis(ax.xaxis)
    return fig


def money_axis(axis: Axis) -> None:
    """Tick labels in a manager's units (25m, 1.2bn), not matplotlib's 1e7 offset."""
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: short(value)))


def event_weeks(result: PolicyResult) -> list[int]:
    """The weeks at which some policy's timeline has an event (ODD 8a), once each."""
    study = result.study
    return sorted({int(e["week"]) for p in study.policies for e in study.timeline(p)})


def breakeven_figure(result: PolicyResult) -> Figure:
    """Distribution over market scenarios of the NPV break-even week, per policy."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    b = result.breakeven
    horizon = result.study.horizon
    bins = list(np.linspace(0, horizon, min(27, horizon + 1)))
    for policy in result.study.others:
        rows = b[
            (b.policy == policy) & (b.firm == result.policy_firm(policy)) & (b.metric == "npv")
        ]
        never = int(rows["week"].isna().sum())
        ax.hist(rows["week"].dropna(), bins=bins, histtype="step", linewidth=2,
                label=f"{policy}: never in {never} of {len(rows)}")  # fmt: skip
    ax.set_xlabel("week from which the policy's NPV stays ahead")
    ax.set_ylabel("market scenarios")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Break-even week over market scenarios")
    ax.legend()
    return fig


def regime_figure(result: PolicyResult, policy: str) -> Figure | None:
    """Pays / does not pay over the two conditions that go most with the NPV gain."""
    table = _final_npv(result, policy)
    conditions = table.drop(columns="gain").select_dtypes("number")
    if conditions.shape[1] < 2 or len(table) < 4:
        return None
    strength = conditions.corrwith(table["gain"], method="spearman").abs().fillna(0)
    x, y = strength.sort_values(ascending=False).index[:2]
    fig, ax = plt.subplots(figsize=(7, 5), constrained_layout=True)
    pays = table["gain"] > 0
    ax.scatter(table.loc[pays, x], table.loc[pays, y], marker="o", label="pays")
    ax.scatter(table.loc[~pays, x], table.loc[~pays, y], marker="x", label="does not pay")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{policy}: NPV gain at week {result.study.horizon}, by market")
    fig.legend(loc="outside lower center", ncols=2)
    return fig


def _final_npv(result: PolicyResult, policy: str) -> pd.DataFrame:
    gain = final_gain(result.study, result.contrasts, policy)
    return result.scenarios.set_index("scenario").assign(gain=gain)


def slug(name: str) -> str:
    """A policy name as a file name: ``warn tenured`` -> ``warn_tenured``."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def figures(result: PolicyResult) -> dict[str, Figure]:
    """Every figure of the report, by file name."""
    out = {"contrasts": contrast_figure(result), "bridge": bridge_figure(result)}
    for name in result.study.named:
        out[f"contrasts_{slug(name)}"] = contrast_figure(result, name)
    if (
        len(result.scenarios) > 1
        and result.study.scenarios is not None
        and (
            result.study.scenarios.kind != "list"  # named markets: the tables say it better
        )
    ):
        out["breakeven"] = breakeven_figure(result)
        for policy in result.study.others:
            fig = regime_figure(result, policy)
            if fig is not None:
                out[f"regime_{slug(policy)}"] = fig
    return out


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Block:
    """One piece of the report: a heading, a paragraph, a table or a figure."""

    kind: str  # "h1", "h2", "p", "table" or "figure"
    text: str = ""
    table: pd.DataFrame | None = None


def _final(result: PolicyResult, policy: str, scenario: str, metric: str = "npv") -> pd.Series:
    """The contrast row at the horizon for the firm ``policy`` acts on."""
    c, firm = result.contrasts, result.policy_firm(policy)
    rows = c[(c.policy == policy) & (c.scenario == scenario) & (c.metric == metric)
             & (c.firm == firm) & (c.step == result.study.horizon)]  # fmt: skip
    return rows.iloc[0]


def share_of_npv(result: PolicyResult, scenario: str, firm: str, amount: float) -> str:
    """``amount`` as a percentage of the firm's NPV under the baseline policy there."""
    levels = result.levels
    level = levels[(levels.scenario == scenario) & (levels.firm == firm)]["npv"]
    if level.empty or not np.isfinite(level.iloc[0]) or level.iloc[0] <= 0:
        return "n/a"
    return f"{100 * amount / level.iloc[0]:+.1f}%"


VERDICT_WORDS = {
    analysis.PAYS: "it pays there",
    analysis.LOSES: "it loses there",
    analysis.INCONCLUSIVE: "too close to call there (the interval includes 0)",
}


def market_finding(result: PolicyResult, policy: str, scenario: str) -> str:
    """One policy in one market, in money and in % of NPV, with its verdict, break-even
    week and, for a price lever, the comparison with the rival."""
    study, money = result.study, Money(result.study.base)
    firm, horizon = result.policy_firm(policy), study.horizon
    row = _final(result, policy, scenario)
    verdict = analysis.verdicts(row.to_frame().T).iloc[0]
    verb = "raises" if row["mean"] > 0 else "lowers"
    b = result.breakeven
    week = b[(b.policy == policy) & (b.firm == firm) & (b.metric == "npv")
             & (b.scenario == scenario)]["week"].iloc[0]  # fmt: skip
    when = (
        f"it breaks even in week {week:.0f}" if np.isfinite(week)
        else f"it does not break even by week {horizon}"
    )  # fmt: skip
    text = (
        f"In {market_words(result, scenario)}, {policy} {verb} {firm}'s NPV at week {horizon}: "
        f"{money(row['mean'], sign=True)} [95% CI {money.interval(row['ci_low'], row['ci_high'])}"
        f", n = {int(row['n'])}], {share_of_npv(result, scenario, firm, row['mean'])} of its NPV "
        f"under {study.baseline_policy}: {VERDICT_WORDS[verdict]}; {when}."
    )
    if _changes_price(study.policies[policy]):
        text += " " + rival_sentence(result, policy, scenario)
    return text


def _changes_price(levers: dict[str, object]) -> bool:
    events = cast(list[dict[str, object]], levers.get("events", []))
    return any(str(k).endswith(".price") for k in levers) or any(
        str(e.get("key", "")).endswith(".price") for e in events
    )


def rival_sentence(result: PolicyResult, policy: str, scenario: str) -> str:
    """A price lever against its second baseline: the rival. The firm's NPV minus the
    best other firm's, under the policy and under the baseline policy."""
    money, g = Money(result.study.base), result.firm_gaps
    firm, base = result.policy_firm(policy), result.study.baseline_policy
    rows = g[(g.scenario == scenario) & (g.firm == firm)].set_index("policy")

    def gap(p: str) -> str:
        mean, low, high = map(float, rows.loc[p, ["mean", "ci_low", "ci_high"]].to_numpy())
        return f"{money(mean, sign=True)} [{money.interval(low, high)}]"

    return (
        f"Against the rival, the other baseline: {firm}'s NPV minus the best other firm's is "
        f"{gap(policy)} under {policy} and {gap(base)} under {base}. Beating the rival is not "
        f"the same as gaining: the contrast above is the firm's own gain."
    )


def headline(result: PolicyResult, policy: str) -> str:
    """The paragraph a strategist forwards, every number from a table: the base market,
    then the verdict counts over the markets tried."""
    study, c, b = result.study, result.contrasts, result.breakeven
    firm, horizon = result.policy_firm(policy), study.horizon
    text = f"{policy} ({_levers(study.policies[policy])}, against {study.baseline_policy}). "
    text += market_finding(result, policy, BASE_SCENARIO)
    weeks = b[(b.policy == policy) & (b.firm == firm) & (b.metric == "npv")]
    if len(weeks) > 1:
        final = c[(c.policy == policy) & (c.firm == firm) & (c.metric == "npv")
                  & (c.step == horizon)].set_index("scenario")  # fmt: skip
        counts = analysis.verdicts(final).value_counts()
        share, median = analysis.breakeven_summary(weeks["week"])
        text += (
            f" Over the {len(final)} markets tried (a market counts only where the paired 95% "
            f"interval at week {horizon} excludes 0), it pays in {counts.get(analysis.PAYS, 0)}, "
            f"loses in {counts.get(analysis.LOSES, 0)} and is inconclusive in "
            f"{counts.get(analysis.INCONCLUSIVE, 0)}. "
            + (
                f"It breaks even within the horizon in {share:.0%} of them, in week "
                f"{median:.0f} in the median such market (markets that never break even are "
                f"left out of the median, not counted as a week)."
                if np.isfinite(median)
                else "It breaks even within the horizon in none of them."
            )
        )
        text += posterior_sentence(result, policy)
        switched = _switch_markets(result, policy)
        if switched:
            text += " " + switched
        losing = result.rules[(result.rules.policy == policy)
                              & (result.rules.outcome == "does not pay")]  # fmt: skip
        if len(losing):
            best = losing[losing.box == losing.iloc[0]["box"]]
            where = analysis.describe_box(best)
            where = where if where == analysis.EVERY_MARKET else f"when {where}"
            text += (
                f" It does not pay {where} "
                f"(coverage {best.iloc[0]['coverage']:.0%}, density {best.iloc[0]['density']:.0%})."
            )
    return text


def posterior_sentence(result: PolicyResult, policy: str) -> str:
    """Where the markets are drawn from a fit's posterior: the posterior probability that
    the policy pays, its expected gain with a 90% credible interval, and when it breaks
    even (from the per-market mean NPV gains at the horizon and the break-even weeks)."""
    design = result.study.scenarios
    if design is None or design.kind != "posterior":
        return ""
    gain = final_gain(result.study, result.contrasts, policy).drop(BASE_SCENARIO)
    b = result.breakeven
    weeks = b[(b.policy == policy) & (b.firm == result.policy_firm(policy))
              & (b.metric == "npv") & (b.scenario != BASE_SCENARIO)]["week"]  # fmt: skip
    share, median = analysis.breakeven_summary(weeks)
    low, high = np.quantile(gain, [0.05, 0.95])
    when = f", in week {median:.0f} in the median such market" if np.isfinite(median) else ""
    fit = _shown(Path(getattr(design, "source", "")))
    money = Money(result.study.base)
    return (
        f" Over {len(gain)} markets drawn from the posterior of the fit in {fit}: the "
        f"posterior probability that it pays (a mean NPV gain at week {result.study.horizon} "
        f"above 0) is {(gain > 0).mean():.0%}; its "
        f"expected gain is {money(gain.mean(), sign=True)} [90% credible interval "
        f"{money.interval(low, high)}]; it breaks even within the horizon with probability "
        f"{share:.0%}{when}."
    )


def _shown(folder: Path) -> str:
    """A folder as the reader can find it: relative to the working directory if inside."""
    try:
        return str(folder.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(folder)


def switch_sentence(result: PolicyResult, policy: str) -> str:
    """A timeline policy's switch in words, in the base market: what it costs while
    under way and when it has paid for itself (every number from ``switches``)."""
    s = result.switches
    if s.empty or policy not in set(s["policy"]):
        return ""
    row = s[(s.policy == policy) & (s.scenario == BASE_SCENARIO)].iloc[0]
    week, firm, money = int(row["switch_week"]), row["firm"], Money(result.study.base)
    if row["cost"] > 0:
        cost = (
            f"While it is under way the switch costs {firm} up to {money(row['cost'])} of "
            f"cumulative profit against {result.study.baseline_policy} [95% CI "
            f"{money(row['cost_low'])} to {money(row['cost_high'])}], deepest in week "
            f"{int(row['deepest_week'])}"
        )
    else:
        cost = f"The switch costs {firm} nothing while under way: it is ahead from the start"
    paid = (
        f"it has paid for itself (its cumulative profit ahead of {result.study.baseline_policy} "
        f"for good) from week {row['payback_week']:.0f}, "
        f"{_weeks_after(row['weeks_to_pay_back'])}."
        if np.isfinite(row["payback_week"])
        else f"it has not paid for itself by week {result.study.horizon}."
    )
    return f"The switch happens in week {week}. {cost}; {paid}"


def _switch_markets(result: PolicyResult, policy: str) -> str:
    s = result.switches
    if s.empty or policy not in set(s["policy"]) or len(result.scenarios) < 2:
        return ""
    rows = s[s.policy == policy]
    share, median = analysis.breakeven_summary(rows["weeks_to_pay_back"])
    if not np.isfinite(median):
        return "Over the markets tried, the switch pays for itself by the horizon in none."
    return (
        f"Over the markets tried, the switch pays for itself (cumulative profit) by the "
        f"horizon in {share:.0%}, {_weeks_after(median)} in the median such market."
    )


def _weeks_after(weeks: float) -> str:
    return "at once" if weeks == 0 else f"{weeks:.0f} weeks after the switch"


EVENT_KEYS = ["policy", "scenario", "week", "kind", "firm"]


def market_words(result: PolicyResult, scenario: str) -> str:
    """A scenario in words: ``the base market``, or ``s001 (firms.trust_first.warn_rate =
    0)`` with the conditions in which it differs from the base market."""
    if scenario == BASE_SCENARIO:
        return "the base market"
    table = result.scenarios.set_index("scenario")
    row, base = table.loc[scenario].to_dict(), table.loc[BASE_SCENARIO].to_dict()
    changed = [f"{k} = {v:.3g}" if isinstance(v, float) else f"{k} = {v}"
               for k, v in row.items() if v != base[k]]  # fmt: skip
    return f"{scenario} ({', '.join(changed)})" if changed else scenario


def recovery_blocks(result: PolicyResult) -> list[Block]:
    """Weeks to recover from each harmful event, and how deep the paired harm goes and
    when it has halved, per policy and market."""
    r = result.recovery
    if r.empty:
        return []
    from trustsim import recovery

    horizon = result.study.horizon
    lines = []
    for (policy, scenario, week, kind, firm), rows in r.groupby(EVENT_KEYS, sort=False):
        said = "; ".join(recovery.describe(row, horizon) for _, row in rows.iterrows())
        what = str(kind).replace("_", " ")
        where = market_words(result, str(scenario))
        lines.append(f"{policy}, in {where}: after the {what} at {firm} in week {week}, {said}.")
    table = pd.DataFrame({
        "policy": r["policy"], "market": r["scenario"],
        "event": [f"{k} at {f}, week {w}" for k, f, w in
                  zip(r["kind"], r["firm"], r["week"], strict=True)],
        "measure": r["measure"], "recovered": [f"{a} of {b}" for a, b in
                                               zip(r["recovered"], r["runs"], strict=True)],
        "median weeks": r["median_weeks"].map(lambda x: "not by the horizon" if np.isnan(x)
                                                else f"{x:.0f}"),
        "95% CI": [_week_interval(lo, hi)
                   for lo, hi in zip(r["ci_low"], r["ci_high"], strict=True)],
    })  # fmt: skip
    return [
        Block("h2", "Recovery after events"),
        Block("p", (
            "Weeks after each event until the firm's reputation, market share and NPS are back "
            "at their level of the week before (each read as a trailing 4-week mean after the "
            "event; 0: the event did not push it down). Runs not back by the horizon are "
            "censored: the median is the Kaplan-Meier median over the replications. A firm "
            "whose measure was falling anyway may never be back at its old level; the next "
            "section measures the harm against the same firm without the event instead."
        )),
        *[Block("p", line) for line in lines],
        Block("table", table=table),
        *harm_blocks(result),
    ]  # fmt: skip


def harm_blocks(result: PolicyResult) -> list[Block]:
    """The paired harm of each policy's own harmful event: deepest, and when halved."""
    h = result.harm
    if h.empty:
        return []
    table = pd.DataFrame({
        "policy": h["policy"], "market": h["scenario"], "firm": h["firm"],
        "measure": h["metric"], "event week": h["event_week"],
        "deepest harm": [f"{m:+.3g} [{lo:+.3g} to {hi:+.3g}]" for m, lo, hi in
                         zip(h["deepest"], h["deepest_low"], h["deepest_high"], strict=True)],
        "deepest in week": h["deepest_week"],
        "halved after (weeks)": h["weeks_to_halve"].map(
            lambda w: "not by the horizon" if np.isnan(w) else f"{w:.0f}"),
    })  # fmt: skip
    return [
        Block("h2", "How deep the harm goes, and when it has halved (paired)"),
        Block("p", (
            f"Each measure of the firm hit, minus the same firm in the same market under "
            f"{result.study.baseline_policy!r} (the same random streams, so identical before "
            f"the event): the deepest mean difference after the event with its 95% interval, "
            f"and the weeks until the mean difference is back above half of that depth."
        )),
        Block("table", table=table),
    ]  # fmt: skip


def _week_interval(low: float, high: float) -> str:
    if np.isnan(low) and np.isnan(high):
        return "n/a"
    lo = "?" if np.isnan(low) else f"{low:.0f}"
    hi = "beyond the horizon" if not np.isfinite(high) else f"{high:.0f}"
    return f"{lo} to {hi}"


def switch_blocks(result: PolicyResult) -> list[Block]:
    """The timeline policies' switches: cost while under way and payback, base market."""
    s = result.switches
    if s.empty:
        return []
    base, money = s[s.scenario == BASE_SCENARIO], Money(result.study.base)
    table = pd.DataFrame({
        "policy": base["policy"], "firm": base["firm"], "switch week": base["switch_week"],
        "deepest cost": base["cost"].map(money),
        "95% CI": [f"{money(lo)} to {money(hi)}" for lo, hi in
                   zip(base["cost_low"], base["cost_high"], strict=True)],
        "deepest in week": base["deepest_week"],
        "paid back from week": base["payback_week"].map(lambda w: "not by the horizon"
                                                          if np.isnan(w) else f"{w:.0f}"),
        "weeks after the switch": base["weeks_to_pay_back"].map(lambda w: "-" if np.isnan(w)
                                                                 else f"{w:.0f}"),
        "NPV at the horizon": [f"{money(m, sign=True)} [{money.interval(lo, hi)}]" for m, lo, hi
                               in zip(base["npv"], base["npv_low"], base["npv_high"],
                                      strict=True)],
    })  # fmt: skip
    return [
        Block("h2", "The switch: what it costs and when it pays back (base market)"),
        Block("p", (
            "Cumulative profit of the switching firm minus the same firm never switching, on "
            "the same random streams. Before the switch the paired runs are identical. The "
            "deepest cost is the lowest mean contrast after the switch; it has paid back from "
            "the week the mean contrast stays above 0 to the horizon."
        )),
        *[Block("p", switch_sentence(result, p)) for p in base["policy"]],
        Block("table", table=table),
    ]  # fmt: skip


def who_wins(result: PolicyResult) -> str:
    """Under which policies each acted-on firm has the highest NPV in the base market."""
    study, g = result.study, result.firm_gaps
    g = g[g.scenario == BASE_SCENARIO]
    sentences = []
    for firm in dict.fromkeys(result.policy_firm(p) for p in study.others):
        rows = g[g.firm == firm].set_index("policy").reindex(list(study.policies))
        ahead = [str(p) for p in rows.index[rows["ci_low"] > 0]]
        behind = [str(p) for p in rows.index[rows["ci_high"] < 0]]
        unclear = [p for p in study.policies if p not in ahead + behind]
        parts = [f"under {_names(ahead)}" if ahead else "under no policy"]
        parts += [f"not under {_names(behind)}"] * bool(behind)
        parts += [f"too close to call under {_names(unclear)}"] * bool(unclear)
        sentences.append(
            f"{firm} has the highest NPV at week {study.horizon} in the base market "
            + "; ".join(parts)
            + "."
        )
    return " ".join(sentences)


def _names(policies: list[str]) -> str:
    return ", ".join(policies)


def _levers(levers: dict[str, object]) -> str:
    parts = [f"{k} = {v}" for k, v in levers.items() if k != "events"]
    for event in cast(list[dict[str, object]], levers.get("events", [])):
        parts.append(event_words(event))
    return ", ".join(parts) or "the scenario's own settings"


def event_words(event: dict[str, object]) -> str:
    """An event as written in a file, in words: ``short_term adopts trust_first in week
    52``, ``a breach at short_term in week 52``."""
    kind, firm, week = event["kind"], event.get("firm"), event["week"]
    if kind == "strategy":
        return f"{firm} adopts {event['preset']} in week {week}"
    if kind == "set":
        return f"{event['key']} = {event['value']} from week {week}"
    if kind == "viral_review":
        return f"a {event.get('tone', 'bad')} viral story about {firm} in week {week}"
    if kind == "enter":
        return f"a new firm enters in week {week}"
    return f"{'a' if kind == 'breach' else 'an'} {kind} at {firm} in week {week}"


def blocks(result: PolicyResult, figure_names: list[str]) -> list[Block]:
    """The report as blocks, rendered to Markdown and to HTML alike."""
    study = result.study
    out = [
        Block("h1", f"Policy study: {study.name}"),
        Block("p", (
            f"{len(study.policies)} policies x {len(result.scenarios)} market scenarios x "
            f"{study.replications} paired replications, {study.horizon} weeks, "
            f"{study.base.population.size:,} customers. Each policy is compared with "
            f"{study.baseline_policy!r} on the same random streams per scenario and "
            f"replication; intervals are 95% t-intervals of the paired differences. A policy "
            f"pays in a market only where that interval lies above 0, loses where it lies "
            f"below, and is otherwise too close to call. {Money(study.base).units()}"
        )),
        Block("h2", "Findings"),
        *[Block("p", headline(result, p)) for p in study.others],
        *bridge_blocks(result),
        Block("figure", "bridge"),
        Block("h2", "Who wins the market under each policy (base market)"),
        Block("p", who_wins(result) + " The table gives each firm's NPV at the horizon "
              "minus the best other firm's."),
        Block("table", table=_gap_table(result)),
        Block("h2", "Contrasts at the horizon (base market)"),
        Block("table", table=_horizon_table(result)),
        *named_blocks(result),
        *switch_blocks(result),
        *recovery_blocks(result),
    ]  # fmt: skip
    if len(result.scenarios) > 1:
        out += [
            Block("h2", "Where the policy pays (scenario discovery)"),
            Block("p", (
                "Boxes of market conditions from a shallow decision tree over the scenarios. "
                "Coverage: the share of all scenarios of that outcome inside the box; "
                "density: the share of the box's scenarios with that outcome."
            )),
        ]  # fmt: skip
        rules = _rules_table(result)
        out.append(
            Block("table", table=rules) if len(rules)
            else Block("p", "No boxes: each policy pays in all of the markets tried or in none.")
        )  # fmt: skip
    out += assumption_blocks(result)
    shown = {b.text for b in out if b.kind == "figure"}
    out += [Block("h2", "Figures")]
    out += [Block("figure", name) for name in figure_names if name not in shown]
    out += [Block("p", (
        "Tables: contrasts.parquet, breakeven.parquet, scenarios.parquet, rules.parquet, "
        "firm_gaps.parquet, bridge.parquet, levels.parquet, runs.parquet"
        + ", switches.parquet" * (not result.switches.empty)
        + ", recovery.parquet" * (not result.recovery.empty)
        + "; raw runs in runs/."
    ))]  # fmt: skip
    return out


def _gap_table(result: PolicyResult) -> pd.DataFrame:
    g = result.firm_gaps[result.firm_gaps.scenario == BASE_SCENARIO]
    order = {p: i for i, p in enumerate(result.study.policies)}
    g = g.sort_values(["firm", "policy"], key=lambda c: c.map(order) if c.name == "policy" else c)
    money = Money(result.study.base)
    return pd.DataFrame({
        "policy": g["policy"], "firm": g["firm"],
        "NPV minus best rival": g["mean"].map(lambda x: money(x, sign=True)),
        "95% CI": [money.interval(lo, hi) for lo, hi in zip(g["ci_low"], g["ci_high"],
                                                            strict=True)],
    })  # fmt: skip


def _horizon_table(result: PolicyResult, scenario: str = BASE_SCENARIO) -> pd.DataFrame:
    c, money = result.contrasts, Money(result.study.base)
    rows = c[(c.scenario == scenario) & (c.step == result.study.horizon)]
    rows = rows[[result.policy_firm(p) == f for p, f in zip(rows.policy, rows.firm, strict=True)]]

    def number(metric: str, x: float) -> str:
        return money(x, sign=True) if metric in MONEY_METRICS else f"{x:+.4g}"

    return pd.DataFrame({
        "policy": rows["policy"], "firm": rows["firm"], "metric": rows["metric"],
        "mean difference": [number(m, x) for m, x in zip(rows["metric"], rows["mean"],
                                                         strict=True)],
        "95% CI": [f"{number(m, lo)} to {number(m, hi)}" for m, lo, hi in
                   zip(rows["metric"], rows["ci_low"], rows["ci_high"], strict=True)],
        "% of NPV": [share_of_npv(result, scenario, f, x) if m == "npv" else ""
                     for m, f, x in zip(rows["metric"], rows["firm"], rows["mean"], strict=True)],
        "verdict": [v if m in MONEY_METRICS else DIRECTION[v] for m, v in
                    zip(rows["metric"], analysis.verdicts(rows), strict=True)],
    })  # fmt: skip


DIRECTION = {"pays": "higher", "loses": "lower", "inconclusive": "inconclusive"}
"""A verdict on an outcome that is not money: a policy cannot 'pay' in reputation."""


def _intervals(rows: pd.DataFrame, number: str) -> list[str]:
    return [
        f"{number.format(lo)} to {number.format(hi)}"
        for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
    ]


def _rules_table(result: PolicyResult) -> pd.DataFrame:
    rows = []
    boxes = result.rules.groupby(["policy", "outcome", "box"], sort=False)
    for (policy, outcome, _), group in boxes:
        rows.append({
            "policy": policy, "outcome": outcome, "conditions": analysis.describe_box(group),
            "coverage": f"{group.iloc[0]['coverage']:.0%}",
            "density": f"{group.iloc[0]['density']:.0%}", "scenarios": group.iloc[0]["scenarios"],
        })  # fmt: skip
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- new sections

MARKET_KEYS = (
    "market.need_rate", "market.mistake_rate", "market.discovery", "market.review_rate",
    "market.warn_search", "market.switching_cost", "market.beta_trust", "market.beta_price",
    "market.beta_rating", "market.breach_rate", "market.discount_rate",
)  # fmt: skip
FIRM_KEYS = (
    "price", "unit_cost", "mistake_revenue", "warn_rate", "warn_cost", "recovery",
    "recovery_cost", "care_rate", "care_cost", "data_protection", "breach_cost", "advertising",
)  # fmt: skip
MONEY_KEYS = ("price", "unit_cost", "mistake_revenue", "warn_cost", "recovery_cost", "care_cost",
              "breach_cost")  # fmt: skip


def assumption_blocks(result: PolicyResult) -> list[Block]:
    """The assumptions page: each key input, its value, where it comes from, and which
    inputs the study varied (a policy's lever or a market uncertainty)."""
    from trustsim.business import MAPPED
    from trustsim.config import describe, get_dotted

    study, money = result.study, Money(result.study.base)
    base, business = study.base, study.base.business
    levers = {k for p in study.policies.values() for k in p if k != "events"}
    varied = set(result.scenarios.columns) - {"scenario"}
    by_business = {}
    if business is not None:
        for figure, target in MAPPED.items():
            if getattr(business, figure) is not None:
                by_business[target] = figure
    firms = dict.fromkeys(result.policy_firm(p) for p in study.others)
    keys = [*MARKET_KEYS, *(f"firms.{f}.{k}" for f in firms for k in FIRM_KEYS)]
    keys += sorted((levers | varied) - set(keys))
    rows = []
    for key in keys:
        value = get_dotted(base, key)
        name = key.rsplit(".", 1)[-1]
        star = f"firms.*.{name}" if key.startswith("firms.") else key
        if key in varied:
            low, high = result.scenarios[key].min(), result.scenarios[key].max()
            source = f"varied by the study: {low:.3g} to {high:.3g} over the markets"
        elif key in levers:
            values = [
                f"{v:g}" if isinstance(v, float) else str(v)
                for v in dict.fromkeys(p[key] for p in study.policies.values() if key in p)
            ]
            source = f"policy lever: {', '.join(values)}"
        elif star in by_business:
            figure = by_business[star]
            source = f"set by business.{figure} (ODD 8.7)"
        elif key in study.overrides:
            source = "set by the study file"
        elif name in PRESETS.get(_strategy(base, key), {}):
            source = f"the {_strategy(base, key)} preset, assumed (ODD 8.1)"
        elif "calibrated" in describe(key):
            source = "calibrated to published facts (ODD 8.4)"
        else:
            source = "model default, assumed (ODD 8.1)"
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        if name in MONEY_KEYS and money.currency and isinstance(value, float):
            shown += f" ({money.currency} {value * money.unit:,.2f})"
        rows.append({"input": key, "meaning": describe(key), "value": shown, "source": source})
    blocks_ = [
        Block("h2", "Assumptions"),
        Block("p", (
            f"{money.units()} The study runs {base.population.size:,} simulated customers for "
            f"{study.horizon} weeks, {study.replications} paired replications per market. "
            "Each key input below has its value in the base market and its source: calibrated "
            "(fitted to published facts), stated in the scenario's business section (with its "
            "source where given), a policy lever, varied over the markets, or an assumed model "
            "default."
        )),
    ]  # fmt: skip
    if business is not None:
        blocks_.append(Block("table", table=business_table(result)))
    blocks_.append(Block("table", table=pd.DataFrame(rows)))
    return blocks_


def _strategy(scenario: Scenario, key: str) -> str:
    """The strategy preset of the firm a ``firms.<name>.<field>`` key names, else ''."""
    parts = key.split(".")
    if parts[0] != "firms" or parts[1] not in scenario.firm_names:
        return ""
    return str(scenario.firms[scenario.firm_names.index(parts[1])].strategy)


def business_table(result: PolicyResult) -> pd.DataFrame:
    """The business figures as stated, with their sources, and what the baseline policy's
    runs show for the two that the model produces rather than takes (revenue per
    customer and annual churn, base market, first year)."""
    business = stated(result.study.base)
    simulated = simulated_figures(result)
    rows = []
    for figure in ("customers", "revenue_per_customer", "margin", "mistake_fee", "mistake_share",
                   "annual_churn", "discovered"):  # fmt: skip
        value = getattr(business, figure)
        if value is None:
            continue
        rows.append({
            "business figure": figure, "stated": _figure(value),
            "simulated (base market, baseline policy)": simulated.get(figure, ""),
            "source": business.sources.get(figure, "not given"),
        })  # fmt: skip
    return pd.DataFrame(rows)


def _figure(value: float) -> str:
    """A stated figure as a manager wrote it: ``2,000,000``, ``15``, ``0.06``."""
    return f"{value:,.0f}" if value >= 1000 and value == int(value) else f"{value:,.4g}"


def simulated_figures(result: PolicyResult) -> dict[str, str]:
    """Revenue per customer per period and annual churn as the baseline's runs have them
    (weeks 1 to 52, base market, the business firm), in the business section's terms."""
    from trustsim.business import business_firm

    base = result.study.base
    business = base.business
    if business is None:
        return {}
    firm = base.firm_names[business_firm(base)]
    runs = result.runs
    ids = runs[(runs.policy == result.study.baseline_policy) & (runs.scenario == BASE_SCENARIO)]
    ts = result.timeseries()
    year = ts[ts.run_id.isin(ids.run_id) & (ts.firm == firm) & ts.step.between(1, 52)]
    if year.empty or "churns" not in year:
        return {}
    money = Money(base)
    customers = year.groupby("run_id")["customers"].mean()
    price = base.firms[business_firm(base)].price
    revenue = year.groupby("run_id")["encounters"].sum() * price / customers
    churn = year.groupby("run_id")["churns"].sum() / customers
    weeks = len(year.step.unique())
    per_period = revenue.mean() * money.unit / business.periods_per_year * 52 / weeks
    return {
        "revenue_per_customer": f"{per_period:,.4g}",
        "annual_churn": f"{churn.mean() * 52 / weeks:.3g}",
    }


def bridge_blocks(result: PolicyResult, scenario: str = BASE_SCENARIO) -> list[Block]:
    """The profit bridge in one market: a sentence per policy and a table of components
    (mean and 95% interval over the paired replications)."""
    b, money, study = result.bridge, Money(result.study.base), result.study
    if b.empty:
        return []
    columns: dict[str, list[str]] = {"source": [*bridges.COMPONENTS, bridges.TOTAL]}
    sentences = []
    for policy in study.others:
        firm = result.policy_firm(policy)
        rows = b[(b.policy == policy) & (b.scenario == scenario) & (b.firm == firm)]
        rows = rows.set_index("component").reindex(columns["source"])
        columns[f"{policy} ({firm})"] = [
            f"{money(m, sign=True)} [{money.interval(lo, hi)}]"
            for m, lo, hi in zip(rows["mean"], rows["ci_low"], rows["ci_high"], strict=True)
        ]
        parts = rows.drop(bridges.TOTAL)["mean"]
        biggest = parts.reindex(parts.abs().sort_values(ascending=False).index)[:3]
        said = ", ".join(f"{money(v, sign=True)} from {k}" for k, v in biggest.items() if v)
        sentences.append(
            f"{policy} against {study.baseline_policy} ({firm}): the NPV difference of "
            f"{money(rows['mean'].loc[bridges.TOTAL], sign=True)} comes mostly from "
            f"{said}."
        )
    where = "the base market" if scenario == BASE_SCENARIO else f"market {scenario!r}"
    return [
        Block("h2", f"Profit bridge: where the NPV difference comes from ({where})"),
        Block("p", (
            f"The paired NPV difference at week {study.horizon}, split by its sources in "
            "the firms' ledgers: customers won or kept (the extra encounters at the "
            "baseline's margin), price and unit cost (the change in margin on the policy's "
            "own encounters), revenue from exploited mistakes, and each cost; a cost saved "
            "counts as a gain. The sources add up to the total."
        )),
        *[Block("p", text) for text in sentences],
        Block("table", table=pd.DataFrame(columns)),
    ]  # fmt: skip


def named_blocks(result: PolicyResult) -> list[Block]:
    """A findings paragraph, a contrast table, a bridge and a figure per named market."""
    out: list[Block] = []
    for name in result.study.named:
        out += [
            Block("h2", f"Named market: {name}"),
            *[Block("p", market_finding(result, p, name)) for p in result.study.others],
            Block("table", table=_horizon_table(result, name)),
            *bridge_blocks(result, name)[2:],
            Block("figure", f"contrasts_{slug(name)}"),
        ]
    return out


def to_markdown(report: list[Block]) -> str:
    """The report's blocks as Markdown (figures as links to the PNG files)."""
    lines: list[str] = []
    for block in report:
        if block.kind == "h1":
            lines += [f"# {block.text}", ""]
        elif block.kind == "h2":
            lines += [f"## {block.text}", ""]
        elif block.kind == "p":
            lines += [block.text, ""]
        elif block.kind == "figure":
            lines += [f"![{block.text}]({block.text}.png)", ""]
        elif block.table is not None:
            t = block.table.astype(str)
            lines += ["| " + " | ".join(t.columns) + " |", "|" + "---|" * len(t.columns)]
            lines += ["| " + " | ".join(row) + " |" for row in t.itertuples(index=False)]
            lines += [""]
    return "\n".join(lines)


def to_html(report: list[Block], images: dict[str, bytes]) -> str:
    """The report's blocks as one self-contained HTML page (figures embedded)."""
    body = []
    for block in report:
        if block.kind in ("h1", "h2"):
            body.append(f"<{block.kind}>{html.escape(block.text)}</{block.kind}>")
        elif block.kind == "p":
            body.append(f"<p>{html.escape(block.text)}</p>")
        elif block.kind == "figure":
            data = base64.b64encode(images[block.text]).decode()
            body.append(f'<img alt="{block.text}" src="data:image/png;base64,{data}">')
        elif block.table is not None:
            body.append(block.table.to_html(index=False, border=0))
    title = html.escape(report[0].text)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;line-height:1.5}}
table{{border-collapse:collapse}}
td,th{{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}}
img{{max-width:100%}}</style></head>
<body>
{chr(10).join(body)}
</body></html>
"""


def write_report(result: PolicyResult) -> str:
    """Write the figures, report.md and report.html into the study folder; return the text."""
    with plt.rc_context({"font.size": 11, "axes.titlesize": 12}):  # the report's style only
        drawn = figures(result)
    return publish(result.folder, drawn, lambda names: blocks(result, names))


def publish(
    folder: Path, drawn: dict[str, Figure], build: Callable[[list[str]], list[Block]]
) -> str:
    """Write ``drawn`` as PNG files, and the report ``build`` makes from their names as
    ``report.md`` and a self-contained ``report.html``, into ``folder``; return the text.
    (The policy lab and the fit share it.)"""
    import io

    images = {}
    for name, fig in drawn.items():
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        images[name] = buffer.getvalue()
        write_bytes(folder / f"{name}.png", images[name])
    report = build(list(images))
    text = to_markdown(report)
    write_text(folder / "report.md", text)
    write_text(folder / "report.html", to_html(report, images))
    return text


# --------------------------------------------------------------------------- the best setting


def response_figure(opt: OptimumResult) -> Figure:
    """The criterion over the grid with its 95% band, the best value and its interval
    (one lever), or a map of the criterion with the best cell (two levers)."""
    spec, r, o = opt.study.optimize, opt.response, opt.optimum
    if spec is None:
        raise ValueError("optimize: the study has no optimize block")
    money = Money(opt.study.base)
    levers = list(spec.levers)
    unit = money.currency or "model units"
    fig, ax = plt.subplots(figsize=(7.5, 4.6), constrained_layout=True)
    if len(levers) == 1:
        x = r[levers[0]]
        ax.plot(x, r["criterion"] * money.factor, marker="o", label=o.iloc[0]["criterion"])
        ax.fill_between(x, r["ci_low"] * money.factor, r["ci_high"] * money.factor, alpha=0.2,
                        linewidth=0, label="95% band (replications resampled)")  # fmt: skip
        row = o.iloc[0]
        ax.axvspan(row["ci_low"], row["ci_high"], color="0.5", alpha=0.15,
                   label=f"best {row['best']:.3g}, 95% interval")  # fmt: skip
        ax.axvline(row["best"], color="0.25", linestyle="--", linewidth=1.2)
        flat = r[r["within_noise"]]
        ax.scatter(flat[levers[0]], flat["criterion"] * money.factor, s=70, facecolors="none",
                   edgecolors="#b5442c", label="within the noise of the best")  # fmt: skip
        ax.set_xlabel(levers[0])
        ax.set_ylabel(f"{o.iloc[0]['criterion']} ({unit})")
        if money.currency:
            money_axis(ax.yaxis)
        ax.legend(fontsize=9)
    else:
        table = r.pivot(index=levers[1], columns=levers[0], values="criterion") * money.factor
        image = ax.pcolormesh(table.columns, table.index, table.to_numpy(), shading="nearest")
        bar = fig.colorbar(image, ax=ax, label=f"{o.iloc[0]['criterion']} ({unit})")
        if money.currency:
            money_axis(bar.ax.yaxis)
        ax.plot(o.iloc[0]["best"], o.iloc[1]["best"], marker="*", color="white", markersize=16,
                markeredgecolor="black")  # fmt: skip
        ax.set_xlabel(levers[0])
        ax.set_ylabel(levers[1])
    ax.set_title(f"Best setting for {acting_firm(opt.study, opt.study.baseline_policy)} "
                 f"(week {opt.study.horizon})")  # fmt: skip
    return fig


CRITERIA = {
    "mean": "the mean over markets and replications of",
    "percentile": "the {q:g}th percentile over markets of",
    "regret": "minus the largest shortfall over markets (regret) in",
}


def _edge(base: Scenario, lever: str, best: float, low: float, high: float, step: float) -> str:
    """What a best value at the edge of the searched range means: the range may be too
    narrow, unless the lever cannot go further (a warn rate of 0 or 1)."""
    beyond = best - step if best == low else best + step
    try:
        base.with_overrides({lever: beyond})
    except ConfigError:
        return f"{best:g} is the {'lowest' if best == low else 'highest'} value {lever} can take"
    return (
        f"it lies at the edge of the range searched ({low:g} to {high:g}): widen the range "
        f"before reading it as an optimum"
    )


def optimum_sentence(opt: OptimumResult) -> str:
    """The best setting in words: value, interval, the flat region, the criterion."""
    spec, study = opt.study.optimize, opt.study
    if spec is None:
        raise ValueError("optimize: the study has no optimize block")
    money = Money(study.base)
    firm = acting_firm(study, study.baseline_policy)
    markets = len(opt.policy.scenarios)
    what = CRITERIA[spec.criterion].format(q=spec.percentile)
    parts = []
    for row in opt.optimum.to_dict("records"):
        lever, best = str(row["lever"]), float(row["best"])
        low, high = spec.levers[lever]
        flat_low, flat_high = float(row["flat_low"]), float(row["flat_high"])
        flat = (
            f"anything between {flat_low:.3g} and {flat_high:.3g} is within the noise of the "
            f"best grid value" if flat_low < flat_high
            else f"no other grid value is within the noise of the best one, {flat_low:.3g}"
        )  # fmt: skip
        parts.append(
            f"the best {lever} is {best:.3g} [95% interval {float(row['ci_low']):.3g} to "
            f"{float(row['ci_high']):.3g}]; {flat} (grid step {float(row['grid_step']):.3g})"
        )
        if best in (low, high):
            parts.append(_edge(study.base, lever, best, low, high, float(row["grid_step"])))
    top = float(opt.optimum["value"].iloc[0])
    return (
        f"Ranked by {what} {firm}'s {spec.metric.replace('_', ' ')} at week {study.horizon} "
        f"({markets} market{'s' * (markets > 1)}, {study.replications} paired replications "
        f"each): {'; '.join(parts)}. At the best grid value the criterion is {money(top)}. "
        f"A value is within the noise where the 95% interval of its criterion minus the "
        f"best's, over resampled replications, includes 0; the interval on the best value "
        f"comes from the same resampling."
    )


def optimum_blocks(opt: OptimumResult, figure_names: list[str]) -> list[Block]:
    """The optimize report: the best setting, its response table and figure, the
    assumptions page."""
    money = Money(opt.study.base)
    r = opt.response
    table = r.assign(
        criterion=r["criterion"].map(money),
        band=[money.interval(lo, hi) for lo, hi in zip(r["ci_low"], r["ci_high"], strict=True)],
        within_noise=r["within_noise"].map({True: "yes", False: ""}),
    ).drop(columns=["ci_low", "ci_high"])
    out = [
        Block("h1", f"Best setting: {opt.study.name}"),
        Block("p", optimum_sentence(opt)),
        Block("p", money.units()),
        *[Block("figure", name) for name in figure_names],
        Block("h2", "The response over the grid"),
        Block("table", table=table),
        *assumption_blocks(opt.policy),
        Block("p", "Tables: optimum.parquet, response.parquet, and the policy study's "
                   "contrasts.parquet, bridge.parquet, runs.parquet; raw runs in runs/."),
    ]  # fmt: skip
    return out


def write_optimum_report(opt: OptimumResult) -> str:
    """Write response.png, report.md and report.html for an optimize study."""
    with plt.rc_context({"font.size": 11, "axes.titlesize": 12}):
        drawn = {"response": response_figure(opt)}
    return publish(opt.policy.folder, drawn, lambda names: optimum_blocks(opt, names))
